package weft.agent.cert;

import com.google.protobuf.ByteString;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import weft.security.api.trust.TrustBundleServiceGrpc;
import weft.security.api.trust.TrustBundleSet;
import weft.security.api.trust.RootCertificates;
import weft.security.api.trust.WatchTrustBundlesRequest;

/**
 * Follows the control plane's per-trust-domain roots ({@code weft.security.v1.TrustBundleService/
 * WatchTrustBundles} on the secure port, checked as the CA is: the mesh roots and the CA's DNS name),
 * so a federated peer's rotated root reaches the workload's bundle map without a restart. Each set
 * received is checked; a domain whose entry is bad keeps the roots last accepted for it (and the
 * reason is logged), the rest of the set is taken. A broken stream is opened again, on the next
 * address, after 1 s doubling to 30 s (±20%); meanwhile the last roots stay in force.
 *
 * <p>A control plane without the service (an older Weft, istiod) answers UNIMPLEMENTED: the watcher
 * then asks again every 5 minutes only, and the workload keeps what it has (its own roots, peers'
 * files).
 *
 * <p>Thread-safety: everything after {@link #start} runs on gRPC's callback threads and the
 * scheduler; {@code onRoots} is called from one of them at a time (a stream delivers in order and
 * only one stream is open).
 */
public final class TrustBundleWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TrustBundleWatcher.class.getName());
  // SPIFFE's trust-domain grammar: lowercase letters, digits, '.', '-', '_'; at most 255 characters.
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
  // Bounds on what one set may hold, far above any real mesh: a hostile or broken sender cannot make
  // the agent write a huge map file.
  static final int MAX_DOMAINS = 256;
  static final int MAX_ROOTS_PER_DOMAIN = 32;
  private static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  private static final Duration MAX_RETRY = Duration.ofSeconds(30);
  private static final Duration UNIMPLEMENTED_RETRY = Duration.ofMinutes(5);

  private final List<String> addresses;
  private final TrustRoots roots;
  private final Consumer<Map<String, List<X509Certificate>>> onRoots;
  private final ScheduledExecutorService scheduler;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<AdvancedTlsX509TrustManager> trust = new ArrayList<>();
  private final Object lock = new Object();
  // @GuardedBy("lock")
  private ClientCallStreamObserver<WatchTrustBundlesRequest> call;
  // @GuardedBy("lock")
  private boolean closed;
  // @GuardedBy("lock")
  private int next;
  // @GuardedBy("lock")
  private Duration retry = FIRST_RETRY;
  // The roots last accepted per domain, so a bad entry keeps them. Touched by one stream at a time.
  private Map<String, List<X509Certificate>> accepted = Map.of();
  private volatile String lastVersion;

  /**
   * @param addresses the control plane's secure port(s), as for the CA
   * @param serverName the DNS name the control plane's certificate must carry (as the CA's)
   * @param roots the mesh roots the control plane's certificate is checked against
   * @param onRoots called with the whole map (trust domain to roots) whenever a set is accepted
   */
  public TrustBundleWatcher(List<String> addresses, String serverName, TrustRoots roots,
      Consumer<Map<String, List<X509Certificate>>> onRoots, ScheduledExecutorService scheduler) {
    if (addresses.isEmpty()) throw new IllegalArgumentException("no control plane address to watch trust bundles on");
    this.addresses = List.copyOf(addresses);
    this.roots = Objects.requireNonNull(roots, "roots");
    this.onRoots = Objects.requireNonNull(onRoots, "onRoots");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    for (String address : this.addresses) {
      AdvancedTlsX509TrustManager tm;
      try {
        tm = AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
            .build();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("this JDK has no X.509 trust manager", e);
      }
      ChannelCredentials creds = TlsChannelCredentials.newBuilder().trustManager(tm).build();
      String authority = serverName == null || serverName.isEmpty() ? CaClient.hostOf(address) : serverName;
      trust.add(tm);
      channels.add(Grpc.newChannelBuilder(address, creds).overrideAuthority(authority)
          .maxInboundMessageSize(MAX_MESSAGE_BYTES).build());
    }
  }

  /** Opens the stream (on the scheduler). */
  public void start() {
    scheduler.execute(this::open);
  }

  /** The version of the last set accepted, if any. */
  public String lastVersion() {
    return lastVersion;
  }

  private void open() {
    int index;
    synchronized (lock) {
      if (closed) return;
      index = next;
    }
    String address = addresses.get(index);
    try {
      trust.get(index).updateTrustCredentials(roots.roots().toArray(X509Certificate[]::new));
    } catch (GeneralSecurityException | java.io.IOException | RuntimeException e) {
      retryLater(address, Status.UNAVAILABLE.withDescription("cannot read the mesh root: " + e.getMessage()));
      return;
    }
    TrustBundleServiceGrpc.newStub(channels.get(index)).watchTrustBundles(WatchTrustBundlesRequest.getDefaultInstance(),
        new ClientResponseObserver<WatchTrustBundlesRequest, TrustBundleSet>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WatchTrustBundlesRequest> requestStream) {
            synchronized (lock) {
              if (closed) {
                requestStream.cancel("closed", null);
                return;
              }
              call = requestStream;
            }
          }

          @Override
          public void onNext(TrustBundleSet set) {
            synchronized (lock) {
              retry = FIRST_RETRY; // a working stream: the next break starts the backoff afresh
            }
            accept(address, set);
          }

          @Override
          public void onError(Throwable t) {
            retryLater(address, Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            retryLater(address, Status.UNAVAILABLE.withDescription("the control plane ended the stream"));
          }
        });
  }

  private void retryLater(String address, Status status) {
    Duration delay;
    synchronized (lock) {
      call = null;
      if (closed) return;
      if (status.getCode() == Status.Code.UNIMPLEMENTED) {
        delay = UNIMPLEMENTED_RETRY;
      } else {
        delay = retry;
        retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
        next = (next + 1) % addresses.size();
      }
    }
    long millis = (long) (delay.toMillis() * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    LOG.log(status.getCode() == Status.Code.CANCELLED ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
        "trust bundles from " + address + ": " + status.getCode()
            + (status.getDescription() == null ? "" : " (" + status.getDescription() + ")")
            + "; the roots last received stay in force; trying again in " + millis + " ms");
    try {
      scheduler.schedule(this::open, millis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shut down: nothing more to watch
    }
  }

  /** Checks one set and hands on what passes; a bad domain keeps the roots last accepted for it. */
  void accept(String source, TrustBundleSet set) {
    Map<String, List<X509Certificate>> out = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    if (set.getTrustDomainsCount() > MAX_DOMAINS) {
      LOG.log(System.Logger.Level.WARNING, "trust bundles from " + source + ": " + set.getTrustDomainsCount()
          + " trust domains, more than " + MAX_DOMAINS + "; the whole set is refused and the last one stays");
      return;
    }
    set.getTrustDomainsMap().forEach((domain, entry) -> {
      String problem = check(domain, entry, out);
      if (problem != null) {
        problems.add(problem);
        List<X509Certificate> kept = accepted.get(domain);
        if (kept != null) out.put(domain, kept);
      }
    });
    problems.forEach(p -> LOG.log(System.Logger.Level.WARNING, "trust bundles from " + source + ": " + p
        + "; that domain keeps the roots last accepted for it"));
    accepted = Map.copyOf(out);
    lastVersion = set.getVersion();
    onRoots.accept(out);
  }

  /** Adds {@code domain}'s roots to {@code out}, or says what is wrong with them. */
  private static String check(String domain, RootCertificates entry, Map<String, List<X509Certificate>> out) {
    String shown = domain.length() > 64 ? domain.substring(0, 64) + "..." : domain;
    if (!TRUST_DOMAIN.matcher(domain).matches()) {
      return "trust domain \"" + escape(shown) + "\" is not a SPIFFE trust domain name";
    }
    if (entry.getCertificatesCount() == 0 || entry.getCertificatesCount() > MAX_ROOTS_PER_DOMAIN) {
      return "trust domain " + domain + ": " + entry.getCertificatesCount() + " roots (1 to " + MAX_ROOTS_PER_DOMAIN
          + " expected)";
    }
    List<X509Certificate> certs = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (int i = 0; i < entry.getCertificatesCount(); i++) {
        ByteString der = entry.getCertificates(i);
        X509Certificate c = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der.toByteArray()));
        if (c.getBasicConstraints() < 0) {
          return "trust domain " + domain + ": certificate " + i + " (" + c.getSubjectX500Principal().getName()
              + ") is not a CA certificate";
        }
        String alg = c.getPublicKey().getAlgorithm();
        if (!alg.equals("RSA") && !alg.equals("EC")) {
          return "trust domain " + domain + ": certificate " + i + " has a " + alg + " key (RSA or EC expected)";
        }
        certs.add(c);
      }
    } catch (CertificateException | ClassCastException e) {
      return "trust domain " + domain + ": a certificate cannot be read (" + e.getMessage() + ")";
    }
    out.put(domain, List.copyOf(certs));
    return null;
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints().forEach(c -> {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') b.appendCodePoint(c);
      else b.append(String.format("\\u%04x", c));
    });
    return b.toString();
  }

  @Override
  public void close() {
    ClientCallStreamObserver<WatchTrustBundlesRequest> open;
    synchronized (lock) {
      closed = true;
      open = call;
      call = null;
    }
    if (open != null) open.cancel("agent closing", null);
    channels.forEach(ManagedChannel::shutdownNow);
  }
}
