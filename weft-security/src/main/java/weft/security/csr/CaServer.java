package weft.security.csr;

import io.grpc.BindableService;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import weft.security.SpiffeId;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/**
 * The control plane's TLS gRPC server (the secure port, Istio's 15012). It presents a certificate
 * our own CA issues to the control plane (DNS names such as {@code istiod.istio-system.svc} and the
 * SPIFFE id of {@code istio-system/istiod}), renews it before it expires, and carries the CSR API
 * plus whatever else is added (xDS over TLS comes later). Client certificates are asked for but not
 * required: a workload with a mesh certificate may present one, one without still gets its first.
 */
public final class CaServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CaServer.class.getName());
  // Renew when two thirds of the serving certificate's life is gone, as Istio's agents do for theirs.
  private static final double RENEW_AT = 2.0 / 3.0;

  private final CertificateAuthority ca;
  private final List<String> dnsNames;
  private final SpiffeId identity;
  private final Duration servingTtl;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  private final AtomicReference<X509Certificate> serving = new AtomicReference<>();
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final Server server;
  private volatile ScheduledFuture<?> renewal;

  private CaServer(Builder b) throws IOException {
    this.ca = b.ca;
    this.dnsNames = List.copyOf(b.dnsNames);
    this.identity = b.identity;
    this.servingTtl = b.servingTtl != null ? b.servingTtl : ca.defaultTtl();
    this.ownScheduler = b.scheduler == null;
    this.scheduler = ownScheduler ? Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-ca-server-renewal");
      t.setDaemon(true);
      return t;
    }) : b.scheduler;
    try {
      renewServingCertificate();
      List<X509Certificate> trusted = b.clientRoots != null ? b.clientRoots : ca.roots();
      TlsServerCredentials.Builder creds = TlsServerCredentials.newBuilder()
          .keyManager(keyManager)
          .trustManager(new ByteArrayInputStream(Pem.encode(trusted).getBytes(StandardCharsets.US_ASCII)))
          .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
      ServerBuilder<?> sb = Grpc.newServerBuilderForPort(b.port, creds.build());
      b.services.forEach(sb::addService);
      this.server = sb.build().start();
    } catch (IOException | RuntimeException e) {
      if (renewal != null) {
        renewal.cancel(false);
      }
      if (ownScheduler) {
        scheduler.shutdownNow();
      }
      throw e;
    }
    LOG.log(System.Logger.Level.INFO, "secure gRPC server on port " + server.getPort() + " as " + dnsNames
        + (identity == null ? "" : " " + identity));
  }

  public static Builder builder(CertificateAuthority ca) {
    return new Builder(ca);
  }

  /** The port bound (useful when built with port 0). */
  public int port() {
    return server.getPort();
  }

  /** The certificate presented now. */
  public X509Certificate servingCertificate() {
    return serving.get();
  }

  /**
   * Issues a new serving certificate (a new key each time) and presents it from the next handshake
   * on; schedules the next renewal.
   */
  public synchronized void renewServingCertificate() {
    KeyPair keys = newKeyPair();
    List<X509Certificate> chain = ca.issueServing(keys.getPublic(), dnsNames, identity, servingTtl);
    keyManager.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), keys.getPrivate());
    serving.set(chain.get(0));
    Instant notBefore = chain.get(0).getNotBefore().toInstant();
    Instant notAfter = chain.get(0).getNotAfter().toInstant();
    long lifeMillis = Duration.between(notBefore, notAfter).toMillis();
    Instant renewAt = notBefore.plusMillis((long) (lifeMillis * RENEW_AT));
    long delay = Math.max(1_000, Duration.between(ca.clock().instant(), renewAt).toMillis());
    if (renewal != null) {
      renewal.cancel(false);
    }
    if (!scheduler.isShutdown()) {
      renewal = scheduler.schedule(this::renewQuietly, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void renewQuietly() {
    try {
      renewServingCertificate();
      LOG.log(System.Logger.Level.INFO, "renewed the secure port's certificate; valid until "
          + serving.get().getNotAfter().toInstant());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot renew the secure port's certificate; retrying in a minute", e);
      renewal = scheduler.schedule(this::renewQuietly, 1, TimeUnit.MINUTES);
    }
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  @Override
  public void close() {
    if (renewal != null) {
      renewal.cancel(false);
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make P-256 keys", e);
    }
  }

  /** How to build the secure server. */
  public static final class Builder {
    private final CertificateAuthority ca;
    private int port = 15012; // Istio's secure xDS and CA port
    private List<String> dnsNames = List.of("istiod.istio-system.svc");
    private SpiffeId identity;
    private Duration servingTtl;
    private List<X509Certificate> clientRoots;
    private ScheduledExecutorService scheduler;
    private final List<ServerServiceDefinition> services = new ArrayList<>();

    private Builder(CertificateAuthority ca) {
      this.ca = Objects.requireNonNull(ca);
    }

    /** 0 picks a free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** DNS names clients reach the control plane by (what they verify the certificate against). */
    public Builder dnsNames(List<String> dnsNames) {
      this.dnsNames = List.copyOf(dnsNames);
      return this;
    }

    /** The control plane's SPIFFE id, e.g. {@code spiffe://TD/ns/istio-system/sa/istiod}; null for none. */
    public Builder identity(SpiffeId identity) {
      this.identity = identity;
      return this;
    }

    /** Lifetime of the serving certificate; the CA's default when unset. */
    public Builder servingTtl(Duration ttl) {
      this.servingTtl = ttl;
      return this;
    }

    /** Roots that client certificates are checked against; the CA's roots when unset. */
    public Builder clientRoots(List<X509Certificate> roots) {
      this.clientRoots = List.copyOf(roots);
      return this;
    }

    /** Where renewals run; a daemon thread of the server's own when unset. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    public Builder addService(BindableService service) {
      services.add(service.bindService());
      return this;
    }

    public Builder addService(ServerServiceDefinition service) {
      services.add(service);
      return this;
    }

    /** Builds and starts the server. */
    public CaServer start() throws IOException {
      return new CaServer(this);
    }
  }
}
