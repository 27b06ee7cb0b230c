package weft.agent;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.RetryPolicy;
import weft.agent.cert.TokenSource;
import weft.agent.cert.TrustRoots;

/**
 * What the agent needs to join a workload to the mesh. Required: the identity, the control plane's
 * xDS and CA addresses, the mesh root, the CA token and the output folder.
 */
public final class AgentOptions {
  /** Istio's name for the control plane's certificate ({@code istiod.istio-system.svc}). */
  public static final String ISTIOD_SERVER_NAME = "istiod.istio-system.svc";
  /** The bootstrap file the agent writes beside the certificates (the name istio-agent uses). */
  public static final String BOOTSTRAP_FILE = "grpc-bootstrap.json";

  final WorkloadIdentity identity;
  final List<String> xdsAddresses;
  final XdsTransport xdsTransport;
  final Integer xdsProxyPort;
  final List<String> caAddresses;
  final String caServerName;
  final TrustRoots roots;
  final String rootsDescription;
  final TokenSource token;
  final Path outputDir;
  final List<String> trustDomainAliases;
  final Map<String, Path> peerTrustBundles;
  final boolean trustBundlesFromControlPlane;
  final Duration certTtl;
  final double rotationFraction;
  final Duration startTimeout;
  final RetryPolicy retryPolicy;
  final Duration refreshInterval;
  final Map<String, Object> extraMetadata;
  final Integer dnsPort;
  final InetAddress dnsListenAddress;
  final List<InetSocketAddress> dnsUpstreams;
  final Path resolvConf;
  final int dnsQueriesPerSecond;
  final int dnsBurst;
  final Clock clock;
  final ScheduledExecutorService scheduler;

  private AgentOptions(Builder b) {
    this.identity = require(b.identity, "the workload identity");
    this.xdsAddresses = requireAll(b.xdsAddresses, "the control plane's xDS address");
    this.xdsTransport = require(b.xdsTransport, "how to reach the xDS server (plaintext, TLS, mutual TLS)");
    this.xdsProxyPort = b.xdsProxyPort;
    if (xdsProxyPort == null && xdsAddresses.size() > 1) {
      throw new IllegalArgumentException("several xDS addresses need the local xDS proxy (an xDS proxy port): "
          + "grpc-java does not move to another bootstrap server once it has config");
    }
    this.caAddresses = requireAll(b.caAddresses, "the CA address");
    this.caServerName = b.caServerName;
    this.roots = require(b.roots, "the mesh root certificate (file or PEM)");
    this.rootsDescription = b.rootsDescription;
    this.token = require(b.token, "the CA token (file or literal)");
    this.outputDir = require(b.outputDir, "the output folder for the certificate files");
    this.trustDomainAliases = List.copyOf(b.trustDomainAliases);
    this.peerTrustBundles = Map.copyOf(b.peerTrustBundles);
    this.trustBundlesFromControlPlane = b.trustBundlesFromControlPlane;
    // A peer bundle for our own domain would let another CA vouch for our identities: refused here.
    new weft.agent.cert.TrustDomainRoots(identity.trustDomain(), trustDomainAliases, peerTrustBundles);
    this.certTtl = b.certTtl;
    this.rotationFraction = b.rotationFraction;
    this.startTimeout = b.startTimeout;
    this.retryPolicy = b.retryPolicy;
    this.refreshInterval = b.refreshInterval;
    this.extraMetadata = Map.copyOf(b.extraMetadata);
    this.dnsPort = b.dnsPort;
    this.dnsListenAddress = b.dnsListenAddress;
    this.dnsUpstreams = b.dnsUpstreams;
    this.resolvConf = b.resolvConf;
    this.dnsQueriesPerSecond = b.dnsQueriesPerSecond;
    this.dnsBurst = b.dnsBurst;
    this.clock = b.clock;
    this.scheduler = b.scheduler;
  }

  public static Builder builder() {
    return new Builder();
  }

  public WorkloadIdentity identity() {
    return identity;
  }

  public Path outputDir() {
    return outputDir;
  }

  private static List<String> requireAll(List<String> values, String what) {
    if (values == null || values.isEmpty()) {
      throw new IllegalArgumentException("the agent needs " + what);
    }
    values.forEach(v -> require(v, what));
    return List.copyOf(values);
  }

  private static <T> T require(T value, String what) {
    if (value == null || value instanceof String s && s.isBlank()) {
      throw new IllegalArgumentException("the agent needs " + what);
    }
    return value;
  }

  /** Builds options; see each setter for defaults. */
  public static final class Builder {
    private WorkloadIdentity identity;
    private List<String> xdsAddresses;
    private XdsTransport xdsTransport;
    private Integer xdsProxyPort;
    private List<String> caAddresses;
    private String caServerName = ISTIOD_SERVER_NAME;
    private TrustRoots roots;
    private String rootsDescription = "";
    private TokenSource token;
    private Path outputDir;
    private final List<String> trustDomainAliases = new java.util.ArrayList<>();
    private boolean trustBundlesFromControlPlane = true;
    private final Map<String, Path> peerTrustBundles = new java.util.LinkedHashMap<>();
    private Duration certTtl;
    private double rotationFraction = CertificateManager.DEFAULT_ROTATION_FRACTION;
    private Duration startTimeout = Duration.ofSeconds(30);
    private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
    private Duration refreshInterval;
    private final Map<String, Object> extraMetadata = new LinkedHashMap<>();
    private Integer dnsPort;
    private InetAddress dnsListenAddress = InetAddress.getLoopbackAddress();
    private List<InetSocketAddress> dnsUpstreams;
    private Path resolvConf = Path.of("/etc/resolv.conf");
    private int dnsQueriesPerSecond = 1000;
    private int dnsBurst = 2000;
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;

    private Builder() {}

    public Builder identity(WorkloadIdentity identity) {
      this.identity = identity;
      return this;
    }

    /**
     * The control plane's xDS address as the application's gRPC should dial it ({@code host:port}),
     * e.g. {@code istiod.istio-system.svc:15012} with {@link XdsTransport#MUTUAL_TLS}, or
     * {@code HOST:15010} with {@link XdsTransport#PLAINTEXT}. With TLS the control plane's certificate
     * must name the host dialled.
     */
    public Builder xdsServer(String address, XdsTransport transport) {
      return xdsServers(java.util.Collections.singletonList(address), transport);
    }

    /**
     * Several control planes for the same mesh ({@code host:port} each; a host stands for every
     * address it resolves to). More than one needs {@link #xdsProxyPort}: only the proxy fails over.
     */
    public Builder xdsServers(List<String> addresses, XdsTransport transport) {
      this.xdsAddresses = addresses;
      this.xdsTransport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /**
     * Runs the local xDS proxy on this loopback port (0: any free one) and points the bootstrap at it:
     * the proxy holds the stream to the xDS addresses (with {@link XdsTransport#MUTUAL_TLS}, presenting
     * the workload certificate) and fails over between them. Default (null): off.
     */
    public Builder xdsProxyPort(Integer port) {
      if (port != null && (port < 0 || port > 65535)) {
        throw new IllegalArgumentException("xDS proxy port must be 0-65535, got " + port);
      }
      this.xdsProxyPort = port;
      return this;
    }

    /** The CA's {@code host:port} (Istio's 15012). */
    public Builder caAddress(String address) {
      return caAddresses(java.util.Collections.singletonList(address));
    }

    /** Several CAs; a renewal goes to whichever answers (the last to answer is asked first). */
    public Builder caAddresses(List<String> addresses) {
      this.caAddresses = addresses;
      return this;
    }

    /**
     * The DNS name the CA's certificate is checked against, whatever address is dialled; default
     * {@value #ISTIOD_SERVER_NAME}; "" for the host of the CA address.
     */
    public Builder caServerName(String name) {
      this.caServerName = name;
      return this;
    }

    /** The mesh root(s), a PEM file re-read at every request (Istio's {@code root-cert.pem}). */
    public Builder rootCertificateFile(Path file) {
      this.roots = TrustRoots.file(file);
      this.rootsDescription = file.toString();
      return this;
    }

    /** The mesh root(s) as PEM bytes. */
    public Builder rootCertificatePem(byte[] pem) {
      this.roots = TrustRoots.pem(pem);
      this.rootsDescription = "PEM given";
      return this;
    }

    /** A token file, re-read at every request (a projected ServiceAccount token). */
    public Builder tokenFile(Path file) {
      this.token = TokenSource.file(file);
      return this;
    }

    /** A fixed token (file-mode CAs, tests). */
    public Builder token(String token) {
      this.token = TokenSource.literal(token);
      return this;
    }

    /** Where {@code cert-chain.pem}, {@code key.pem}, {@code root-cert.pem} and the bootstrap go. */
    public Builder outputDir(Path dir) {
      this.outputDir = dir;
      return this;
    }

    /**
     * Another name of our trust domain (MeshConfig {@code trustDomainAliases}): its identities are
     * checked against our roots in the SPIFFE bundle map.
     */
    public Builder trustDomainAlias(String alias) {
      this.trustDomainAliases.add(java.util.Objects.requireNonNull(alias, "alias"));
      return this;
    }

    /**
     * A peer trust domain and the PEM file of its roots (a federated mesh's bundle): filed under that
     * domain only in the SPIFFE bundle map, re-read at each certificate rotation.
     */
    public Builder peerTrustBundle(String trustDomain, Path pemFile) {
      this.peerTrustBundles.put(java.util.Objects.requireNonNull(trustDomain, "trustDomain"),
          java.util.Objects.requireNonNull(pemFile, "pemFile"));
      return this;
    }

    /**
     * Whether to follow the control plane's per-trust-domain roots (federated peers' bundles) on the
     * CA address, rewriting the SPIFFE bundle map when they change. Default: true.
     */
    public Builder trustBundlesFromControlPlane(boolean follow) {
      this.trustBundlesFromControlPlane = follow;
      return this;
    }

    /** Certificate lifetime to ask for; default (null): the CA's (Istio's 24 hours). */
    public Builder certTtl(Duration ttl) {
      this.certTtl = ttl;
      return this;
    }

    /** Share of a certificate's life after which it is replaced; default 0.5. */
    public Builder rotationFraction(double fraction) {
      this.rotationFraction = weft.agent.cert.CertificateManager.checkRotationFraction(fraction);
      return this;
    }

    /** How long {@code start} waits for the first certificate; default 30 s. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy);
      return this;
    }

    /**
     * How often gRPC re-reads the certificate files ({@code refresh_interval}). Default: a tenth of the
     * time a certificate has left when it is replaced, between 1 s and 10 minutes (grpc-java's default).
     */
    public Builder refreshInterval(Duration interval) {
      this.refreshInterval = interval;
      return this;
    }

    /** More node metadata, e.g. Istio's {@code DNS_CAPTURE} or {@code REQUESTED_NETWORK_VIEW}. */
    public Builder metadata(String key, Object value) {
      this.extraMetadata.put(key, value);
      return this;
    }

    /**
     * Answers DNS on this port (UDP and TCP; Istio's is 15053; 0: any free port): mesh names from the
     * workload's name table, which the agent subscribes to through its xDS proxy (one is started on a
     * loopback port for it when {@link #xdsProxyPort} is off), other names forwarded to the upstream
     * resolvers. The node metadata then carries Istio's {@code DNS_CAPTURE} and {@code DNS_AUTO_ALLOCATE}.
     * An in-process agent also registers a grpc {@code dns} resolver that reads the same table. Default
     * (null): off.
     */
    public Builder dnsPort(Integer port) {
      if (port != null && (port < 0 || port > 65535)) {
        throw new IllegalArgumentException("DNS port must be 0-65535, got " + port);
      }
      this.dnsPort = port;
      return this;
    }

    /** The address the DNS listens on; default loopback (127.0.0.1). */
    public Builder dnsListenAddress(InetAddress address) {
      this.dnsListenAddress = Objects.requireNonNull(address);
      return this;
    }

    /**
     * Where names outside the mesh are forwarded; default (null): the nameservers of {@link #resolvConf}.
     * An address that is the agent's own DNS is dropped (it would loop).
     */
    public Builder dnsUpstreams(List<InetSocketAddress> upstreams) {
      this.dnsUpstreams = upstreams == null ? null : List.copyOf(upstreams);
      return this;
    }

    /** The resolv.conf whose nameservers are the default upstreams; default {@code /etc/resolv.conf}. */
    public Builder resolvConf(Path file) {
      this.resolvConf = Objects.requireNonNull(file);
      return this;
    }

    /** DNS queries per second and burst allowed from one source address; default 1000 and 2000. */
    public Builder dnsRateLimit(int queriesPerSecond, int burst) {
      if (queriesPerSecond < 1 || burst < 1) {
        throw new IllegalArgumentException("DNS rate limit must be at least 1 query per second and a burst of 1");
      }
      this.dnsQueriesPerSecond = queriesPerSecond;
      this.dnsBurst = burst;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /** Where certificate requests run; default a daemon thread of the agent's own, shut down on close. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    public AgentOptions build() {
      return new AgentOptions(this);
    }
  }
}
