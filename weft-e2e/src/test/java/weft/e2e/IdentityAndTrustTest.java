package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.CertificateSigner;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.security.ca.CaTools;

/**
 * The seed's "Identity and trust models": workloads get SPIFFE certificates from the control
 * plane's CA, call each other over mTLS configured by xDS, and are authorized by identity; two
 * control planes with intermediates of one root issue certificates that trust each other.
 */
class IdentityAndTrustTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  static final AtomicInteger SCHEMES = new AtomicInteger();
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<Server> servers = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  Path configDir;
  int port;

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
    for (AutoCloseable c : closeables) c.close();
  }

  /** A control plane with a CA on its secure port, tokens in file mode, and a STRICT mesh. */
  ControlPlane controlPlane(Path caDir) throws Exception {
    Path tokens = Files.createTempFile("weft-tokens", ".yaml");
    Files.writeString(tokens, """
        - {token: t-frontend, namespace: default, serviceAccount: frontend}
        - {token: t-other, namespace: default, serviceAccount: other}
        - {token: t-reviews, namespace: default, serviceAccount: reviews}
        """);
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(configDir).withPorts(0, 0)
        .withCa(new ControlPlaneOptions.Ca(caDir, tokens, 0)));
    closeables.add(0, cp);
    return cp;
  }

  void writeMesh() throws Exception {
    configDir = Files.createTempDirectory("weft-mtls");
    port = Mesh.freePort();
    Files.writeString(configDir.resolve("reviews.yaml"), Yamls.service("reviews", "default", 9080, port, null) + """
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - addresses: ["127.0.0.1"]
          targetRef: {kind: Pod, name: reviews-1}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-1
          namespace: default
          labels: {app: reviews, security.istio.io/tlsMode: istio}
        spec: {serviceAccountName: reviews}
        status: {podIP: 127.0.0.1, phase: Running}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: STRICT}
        """.formatted(port));
  }

  /** A workload's certificate manager: its key, its CSR, its files, renewed at half-life. */
  CertificateManager certificates(ControlPlane cp, String serviceAccount, Duration ttl) throws Exception {
    WorkloadIdentity id = identity(serviceAccount);
    CaClient ca = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> "t-" + serviceAccount, "cluster1");
    closeables.add(ca);
    CertificateManager manager = CertificateManager.builder(id.spiffeId(), ca, TrustRoots.of(cp.ca().roots()),
        new CertificateFiles(Files.createTempDirectory("weft-certs-" + serviceAccount))).ttl(ttl)
        .scheduler(scheduler()).build();
    closeables.add(0, manager);
    manager.start();
    manager.awaitFirstCertificate(Duration.ofSeconds(120));
    return manager;
  }

  java.util.concurrent.ScheduledExecutorService scheduler() {
    java.util.concurrent.ScheduledExecutorService s = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    closeables.add(s::shutdownNow);
    return s;
  }

  static WorkloadIdentity identity(String serviceAccount) {
    return WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default").serviceAccount(serviceAccount)
        .podName(serviceAccount + "-1").ip("127.0.0.1").clusterId("cluster1")
        .labels(serviceAccount.equals("reviews") ? Map.of("app", "reviews", "security.istio.io/tlsMode", "istio")
            : Map.of("app", serviceAccount))
        .build();
  }

  static Map<String, Object> bootstrap(ControlPlane cp, String serviceAccount, CertificateManager certs) {
    return bootstrap("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT, serviceAccount, certs);
  }

  /**
   * What the agent writes for the secure port: TLS checked against the mesh root, the workload's own
   * certificate as the client's ({@link XdsTransport#MUTUAL_TLS}).
   */
  static Map<String, Object> secureBootstrap(ControlPlane cp, String serviceAccount, CertificateManager certs) {
    return bootstrap("localhost:" + cp.securePort(), XdsTransport.MUTUAL_TLS, serviceAccount, certs);
  }

  static Map<String, Object> bootstrap(String xds, XdsTransport transport, String serviceAccount,
      CertificateManager certs) {
    CertificateFiles f = certs.files();
    return XdsBootstrap.builder().xdsServer(xds, transport)
        .identity(identity(serviceAccount))
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .refreshInterval(Duration.ofSeconds(1)).build().toMap();
  }

  /** The reviews server: an xDS server whose answer names the caller's SPIFFE identity. */
  void reviewsServer(ControlPlane cp, CertificateManager certs) throws Exception {
    reviewsServer(bootstrap(cp, "reviews", certs));
  }

  void reviewsServer(Map<String, Object> bootstrap) throws Exception {
    servers.add(XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap)
        .addService(whoCalls())
        .build()
        .start());
  }

  ManagedChannel client(ControlPlane xds, String serviceAccount, CertificateManager certs) {
    return client(bootstrap(xds, serviceAccount, certs));
  }

  ManagedChannel client(Map<String, Object> bootstrap) {
    String scheme = "xds-mtls-" + SCHEMES.incrementAndGet();
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel ch = Grpc.newChannelBuilder(scheme + ":///" + HOST + ":9080",
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    channels.add(ch);
    return ch;
  }

  static String http(ControlPlane cp, String path) throws Exception {
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://localhost:" + cp.monitoringPort() + path)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  static String call(ManagedChannel ch) {
    return ClientCalls.blockingUnaryCall(ch, EchoService.WHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        StringValue.of("hi")).getValue();
  }

  /** Answers with the SPIFFE id in the caller's certificate ("none" over plaintext). */
  static ServerServiceDefinition whoCalls() {
    return whoCalls(null);
  }

  /** As {@link #whoCalls()}, prefixed with {@code name|} when a name is given. */
  static ServerServiceDefinition whoCalls(String name) {
    MethodDescriptor<StringValue, StringValue> who = EchoService.WHO;
    ServerCallHandler<StringValue, StringValue> handler = ServerCalls.asyncUnaryCall((req, resp) -> {
      resp.onNext(StringValue.of(name == null ? CALLER.get() : name + "|" + CALLER.get()));
      resp.onCompleted();
    });
    ServerServiceDefinition plain = ServerServiceDefinition.builder("weft.demo.Echo").addMethod(who, handler).build();
    return io.grpc.ServerInterceptors.intercept(plain, new io.grpc.ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        io.grpc.Context ctx = io.grpc.Context.current().withValue(CALLER, spiffe(call.getAttributes()
            .get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
        return io.grpc.Contexts.interceptCall(ctx, call, headers, next);
      }
    });
  }

  static final io.grpc.Context.Key<String> CALLER = io.grpc.Context.key("caller");

  static String spiffe(SSLSession session) {
    if (session == null) return "none";
    try {
      X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
      for (List<?> san : leaf.getSubjectAlternativeNames()) {
        if (((Integer) san.get(0)) == 6) return (String) san.get(1);
      }
      return "no SPIFFE id";
    } catch (Exception e) {
      return "no peer certificate";
    }
  }

  @Test
  void mtlsCallsCarryTheCallersIdentityAndPlaintextIsRefusedUnderStrict() throws Exception {
    writeMesh();
    Path caDir = Files.createTempDirectory("weft-ca");
    ControlPlane cp = controlPlane(caDir);
    reviewsServer(cp, certificates(cp, "reviews", Duration.ofHours(1)));
    ManagedChannel frontend = client(cp, "frontend", certificates(cp, "frontend", Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> call(frontend).equals("spiffe://cluster.local/ns/default/sa/frontend"));
    ManagedChannel plaintext = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    channels.add(plaintext);
    assertThatThrownBy(() -> call(plaintext)).isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void authorizationPolicyLetsFrontendInAndDeniesOther() throws Exception {
    writeMesh();
    Files.writeString(configDir.resolve("authz.yaml"), """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews-frontend-only, namespace: default}
        spec:
          selector: {matchLabels: {app: reviews}}
          action: ALLOW
          rules:
          - from:
            - source: {principals: ["cluster.local/ns/default/sa/frontend"]}
        """);
    ControlPlane cp = controlPlane(Files.createTempDirectory("weft-ca"));
    reviewsServer(cp, certificates(cp, "reviews", Duration.ofHours(1)));
    ManagedChannel frontend = client(cp, "frontend", certificates(cp, "frontend", Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> call(frontend).endsWith("sa/frontend"));
    ManagedChannel other = client(cp, "other", certificates(cp, "other", Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      try {
        call(other);
        return false;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.PERMISSION_DENIED;
      }
    });
  }

  @Test
  void certificatesRotatingDuringAThousandRpcsLoseNone() throws Exception {
    writeMesh();
    ControlPlane cp = controlPlane(Files.createTempDirectory("weft-ca"));
    // Four-second certificates renewed at half-life: several rotations on both sides during the run.
    CertificateManager serverCerts = certificates(cp, "reviews", Duration.ofSeconds(4));
    CertificateManager clientCerts = certificates(cp, "frontend", Duration.ofSeconds(4));
    reviewsServer(cp, serverCerts);
    ManagedChannel frontend = client(cp, "frontend", clientCerts);
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> call(frontend).endsWith("sa/frontend"));
    // Calls from a scheduler, a short rest between them, until at least a thousand were made and
    // both sides have rotated twice: the run lasts as long as the rotations take, however busy the
    // machine, and the load it puts on it stays small.
    Set<BigInteger> clientSerials = ConcurrentHashMap.newKeySet();
    Set<BigInteger> serverSerials = ConcurrentHashMap.newKeySet();
    AtomicInteger calls = new AtomicInteger();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    try {
      pacer.scheduleWithFixedDelay(() -> {
        clientCerts.current().ifPresent(c -> clientSerials.add(c.leaf().getSerialNumber()));
        serverCerts.current().ifPresent(c -> serverSerials.add(c.leaf().getSerialNumber()));
        try {
          String who = call(frontend);
          if (!who.endsWith("sa/frontend")) failures.add(new AssertionError("answered as " + who));
        } catch (RuntimeException e) {
          failures.add(e);
        }
        calls.incrementAndGet();
      }, 0, 5, TimeUnit.MILLISECONDS);
      await().atMost(Duration.ofMinutes(3)).until(() -> !failures.isEmpty()
          || (calls.get() >= 1000 && clientSerials.size() >= 3 && serverSerials.size() >= 3));
    } finally {
      // shutdown, not shutdownNow: interrupting the call in flight would fail it (CANCELLED), and
      // the periodic task stops by itself once the pacer is shut down.
      pacer.shutdown();
      assertThat(pacer.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(failures).isEmpty();
    assertThat(clientSerials).hasSizeGreaterThanOrEqualTo(3);
    assertThat(serverSerials).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void aCertificateForAnotherIdentityOrWithABadTokenIsRefused() throws Exception {
    writeMesh();
    ControlPlane cp = controlPlane(Files.createTempDirectory("weft-ca"));
    CaClient asFrontend = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> "t-frontend", "cluster1");
    closeables.add(asFrontend);
    CertificateManager impostor = CertificateManager.builder(identity("other").spiffeId(), asFrontend,
        TrustRoots.of(cp.ca().roots()), new CertificateFiles(Files.createTempDirectory("weft-impostor")))
        .scheduler(scheduler()).build();
    closeables.add(0, impostor);
    impostor.start();
    // The refusal is the signal: wait for it (a slow CA may first time out), then nothing was issued.
    await().atMost(Duration.ofSeconds(120))
        .until(() -> impostor.lastError().map(Object::toString).orElse("").contains("PERMISSION_DENIED"));
    assertThat(impostor.current()).isEmpty();
    assertThat(Files.exists(impostor.files().certificateChainFile())).isFalse();

    CaClient unknown = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> "no-such-token", "cluster1");
    closeables.add(unknown);
    assertThatThrownBy(() -> unknown.sign("not a csr", Duration.ofHours(1)))
        .isInstanceOf(CertificateSigner.SigningException.class).hasMessageContaining("UNAUTHENTICATED");
  }

  @Test
  void twoControlPlanesWithIntermediatesOfOneRootIssueCertificatesThatTrustEachOther() throws Exception {
    writeMesh();
    Path root = Files.createTempDirectory("weft-root").resolve("root");
    CaTools.initRoot(root, "cluster.local");
    Path ca1 = Files.createTempDirectory("weft-ca1").resolve("cluster1");
    Path ca2 = Files.createTempDirectory("weft-ca2").resolve("cluster2");
    CaTools.intermediate(root, "cluster1", ca1);
    CaTools.intermediate(root, "cluster2", ca2);
    ControlPlane cp1 = controlPlane(ca1);
    ControlPlane cp2 = controlPlane(ca2);
    assertThat(cp1.ca().roots()).isEqualTo(cp2.ca().roots());
    assertThat(cp1.trustBundles().roots("cluster.local")).isEqualTo(cp1.ca().roots());
    // The server's certificate comes from cluster 1's CA, the client's from cluster 2's.
    reviewsServer(cp1, certificates(cp1, "reviews", Duration.ofHours(1)));
    ManagedChannel frontend = client(cp1, "frontend", certificates(cp2, "frontend", Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> call(frontend).equals("spiffe://cluster.local/ns/default/sa/frontend"));
  }

  @Test
  void workloadsGetTheirConfigOnTheSecurePortWithTheirOwnCertificate() throws Exception {
    writeMesh();
    ControlPlane cp = controlPlane(Files.createTempDirectory("weft-ca"));
    CertificateManager reviews = certificates(cp, "reviews", Duration.ofHours(1));
    reviewsServer(secureBootstrap(cp, "reviews", reviews));
    ManagedChannel frontend = client(secureBootstrap(cp, "frontend", certificates(cp, "frontend", Duration.ofHours(1))));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> call(frontend).equals("spiffe://cluster.local/ns/default/sa/frontend"));
    assertThat(http(cp, "/debug/status"))
        .contains("spiffe://cluster.local/ns/default/sa/frontend (client certificate)")
        .contains("spiffe://cluster.local/ns/default/sa/reviews (client certificate)");
  }

  @Test
  void aWorkloadWhoseNodeClaimsAnotherServiceAccountGetsNoConfigOnTheSecurePort() throws Exception {
    writeMesh();
    ControlPlane cp = controlPlane(Files.createTempDirectory("weft-ca"));
    reviewsServer(cp, certificates(cp, "reviews", Duration.ofHours(1)));
    // The other workload's certificate, with a node that says it is frontend.
    ManagedChannel impostor = client(secureBootstrap(cp, "frontend", certificates(cp, "other", Duration.ofHours(1))));
    assertThatThrownBy(() -> call(impostor)).isInstanceOf(StatusRuntimeException.class);
    await().atMost(Duration.ofSeconds(60)).until(() -> http(cp, "/metrics").lines()
        .anyMatch(l -> l.startsWith("weft_xds_rejected_streams_total ") && !l.endsWith(" 0.0")));
    assertThat(http(cp, "/debug/status")).doesNotContain("sa/other (client certificate)");
  }

  @Test
  void caFilesWhoseKeyDoesNotMatchAreRefusedByNameAndLeftAlone() throws Exception {
    writeMesh();
    Path root = Files.createTempDirectory("weft-root").resolve("root");
    CaTools.initRoot(root, "cluster.local");
    Path ca1 = Files.createTempDirectory("weft-ca1").resolve("cluster1");
    Path ca2 = Files.createTempDirectory("weft-ca2").resolve("cluster2");
    CaTools.intermediate(root, "cluster1", ca1);
    CaTools.intermediate(root, "cluster2", ca2);
    Files.copy(ca2.resolve("ca-key.pem"), ca1.resolve("ca-key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    byte[] before = Files.readAllBytes(ca1.resolve("ca-cert.pem"));
    assertThatThrownBy(() -> controlPlane(ca1)).hasMessageContaining("ca-key.pem");
    assertThat(Files.readAllBytes(ca1.resolve("ca-cert.pem"))).isEqualTo(before);
  }
}
