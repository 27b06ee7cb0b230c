package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.auth.CallerAuthentication;
import weft.security.auth.FileTokenAuthenticator;
import weft.security.auth.XdsAuthMode;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.csr.CaServer;

/**
 * The secure port as the control plane runs it (our CA's serving certificate, client certificates
 * asked for but not required, the ADS service behind {@link CallerAuthentication}), reached by
 * grpc-java over real TLS: a proxy is served only as the identity its certificate or token proves.
 */
class SecurePortAuthenticationTest {
  static final String AUTHORITY = "istiod.istio-system.svc";
  static final String REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
  static final String RATINGS = "outbound|9080||ratings.bookinfo.svc.cluster.local";
  static final String FRONTEND_TOKEN = "token-of-default-frontend";
  static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "default", "frontend");

  @TempDir Path tmp;
  TestMesh mesh;
  CertificateAuthority ca;
  FileTokenAuthenticator tokens;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final List<CaServer> servers = new CopyOnWriteArrayList<>();
  final List<String> refusals = new CopyOnWriteArrayList<>();
  final Logger adsLog = Logger.getLogger("weft.xds.server.AdsServer");
  final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      refusals.add(record.getMessage());
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1")
        + TestMesh.service("ratings", "bookinfo", 9080, "10.2.0.1"));
    ca = CaStore.loadOrCreate(tmp.resolve("ca"), "cluster.local", Clock.systemUTC());
    tokens = new FileTokenAuthenticator(List.of(
        new FileTokenAuthenticator.Entry(FRONTEND_TOKEN, "default", "frontend", null)), Clock.systemUTC());
    adsLog.addHandler(capture);
  }

  @AfterEach
  void stop() {
    adsLog.removeHandler(capture);
    servers.forEach(CaServer::close);
    mesh.close();
  }

  /** The secure port with {@code --xds-auth mode}. */
  private int securePort(XdsAuthMode mode) throws Exception {
    CallerAuthentication auth = new CallerAuthentication(mode, tokens, ca::roots, () -> "cluster.local",
        Clock.systemUTC(), meters);
    CaServer server = CaServer.builder(ca).port(0).dnsNames(List.of(AUTHORITY))
        .identity(new SpiffeId("cluster.local", "istio-system", "istiod"))
        .addService(ServerInterceptors.intercept(mesh.ads.definition(), auth)).start();
    servers.add(server);
    return server.port();
  }

  /** A TLS channel that checks the control plane against our root, with a client certificate and token if given. */
  private ManagedChannel channel(int port, SpiffeId certificateFor, String token) throws java.io.IOException {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(pem(Pem.encode(ca.roots())));
    if (certificateFor != null) {
      KeyPair keys = newKeyPair();
      List<X509Certificate> chain = ca.issueWorkload(keys.getPublic(), certificateFor, Duration.ofHours(1));
      tls.keyManager(pem(Pem.encode(chain)), pem(Pem.encodePrivateKey(keys.getPrivate())));
    }
    ChannelCredentials creds = token == null ? tls.build()
        : CompositeChannelCredentials.create(tls.build(), bearer(token));
    return Grpc.newChannelBuilderForAddress("localhost", port, creds).overrideAuthority(AUTHORITY).build();
  }

  private static Status.Code refusal(AdsTestClient client) throws InterruptedException {
    Throwable error = client.errors.poll(60, TimeUnit.SECONDS);
    assertThat(error).as("the stream was refused").isNotNull();
    return Status.fromThrowable(error).getCode();
  }

  private static String clusterName(DiscoveryResponse r) throws Exception {
    return r.getResources(0).unpack(Cluster.class).getName();
  }

  @Test
  void aClientWithNoCertificateAndNoTokenIsUnauthenticated() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, null), AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(client.responses).isEmpty();
    }
    assertThat(meters.counter("weft_xds_unauthenticated_streams_total", "code", "UNAUTHENTICATED").count())
        .isEqualTo(1.0);
  }

  @Test
  void aCertificateOfNamespaceDefaultClaimingBookinfoIsDeniedAndLoggedWithBothIdentities() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), AdsTestClient.proxyless("a", "bookinfo"))) {
      client.request(TypeUrls.CLUSTER, List.of(RATINGS));
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(client.responses).isEmpty();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> refusals.stream().anyMatch(l -> l.contains("bookinfo")));
    assertThat(refusals).anySatisfy(l -> assertThat(l).contains("namespace 'bookinfo'")
        .contains("spiffe://cluster.local/ns/default/sa/frontend (client certificate)"));
    assertThat(mesh.ads.connectedProxies()).isZero();
  }

  @Test
  void aTokenOfOneNamespaceClaimingAnotherIsDenied() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, FRONTEND_TOKEN),
        AdsTestClient.proxyless("a", "bookinfo"))) {
      client.request(TypeUrls.CLUSTER, List.of(RATINGS));
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> refusals.stream().anyMatch(l -> l.contains("(token)")));
  }

  @Test
  void aCertificateClaimingAnotherServiceAccountIsDenied() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    Node node = withServiceAccount(AdsTestClient.proxyless("a", "default"), "reviews");
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), node)) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void aDeltaStreamClaimingAnotherNamespaceIsDeniedToo() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    ManagedChannel channel = channel(port, FRONTEND, null);
    BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
    try {
      StreamObserver<DeltaDiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
          .deltaAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DeltaDiscoveryResponse value) {
              errors.add(new AssertionError("a response was sent: " + value));
            }

            @Override
            public void onError(Throwable t) {
              errors.add(t);
            }

            @Override
            public void onCompleted() {}
          });
      requests.onNext(DeltaDiscoveryRequest.newBuilder().setNode(AdsTestClient.sidecar("a", "bookinfo", "10.0.0.9"))
          .setTypeUrl(TypeUrls.CLUSTER).build());
      assertThat(Status.fromThrowable(errors.poll(60, TimeUnit.SECONDS)).getCode())
          .isEqualTo(Status.Code.PERMISSION_DENIED);
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void aRouterIdentityGetsOnlyRouterConfigAndAWorkloadCannotPassForARouter() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    SpiffeId gateway = new SpiffeId("cluster.local", "istio-system", "istio-eastwestgateway");
    Node asSidecar = AdsTestClient.proxyless("gw-1", "istio-system");
    try (AdsTestClient client = new AdsTestClient(channel(port, gateway, null), asSidecar)) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    Node frontendAsRouter = router("frontend-1", "default");
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), frontendAsRouter)) {
      client.request(TypeUrls.CLUSTER, List.of());
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    assertThat(refusals).anyMatch(l -> l.contains("to be a router"))
        .anyMatch(l -> l.contains("may only connect as a router"));
    try (AdsTestClient client = new AdsTestClient(channel(port, gateway, null), router("gw-1", "istio-system"))) {
      client.request(TypeUrls.CLUSTER, List.of());
      client.next();
      assertThat(mesh.ads.proxyStatus()).singleElement().satisfies(p -> assertThat(p.get("verifiedIdentity"))
          .isEqualTo("spiffe://cluster.local/ns/istio-system/sa/istio-eastwestgateway (client certificate)"));
    }
  }

  @Test
  void aGatewayApiGatewaysDeploymentIsARouterOnlyWhileItsGatewayExistsInItsNamespace() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    // The account Istio's deployment controller gives Gateway "web" of class istio.
    SpiffeId web = new SpiffeId("cluster.local", "shop", "web-istio");
    try (AdsTestClient client = new AdsTestClient(channel(port, web, null), router("web-1", "shop"))) {
      client.request(TypeUrls.CLUSTER, List.of());
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    mesh.apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web, namespace: shop}
        spec:
          gatewayClassName: istio
          listeners: [{name: http, port: 80, protocol: HTTP}]
        """, false);
    try (AdsTestClient client = new AdsTestClient(channel(port, web, null), router("web-1", "shop"))) {
      client.request(TypeUrls.CLUSTER, List.of());
      assertThat(client.next().getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);
    }
    // Once it runs as a router, the same account may not pass for a sidecar.
    try (AdsTestClient client = new AdsTestClient(channel(port, web, null),
        AdsTestClient.sidecar("web-1", "shop", "10.0.0.9"))) {
      client.request(TypeUrls.CLUSTER, List.of());
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
    // Another namespace's account of the same name is not that Gateway's.
    SpiffeId elsewhere = new SpiffeId("cluster.local", "default", "web-istio");
    try (AdsTestClient client = new AdsTestClient(channel(port, elsewhere, null), router("web-1", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of());
      assertThat(refusal(client)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  private static Node router(String pod, String namespace) {
    return Node.newBuilder().setId("router~10.0.0.9~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(com.google.protobuf.Struct.newBuilder().putFields("NAMESPACE",
            com.google.protobuf.Value.newBuilder().setStringValue(namespace).build()))
        .build();
  }

  @Test
  void aCertificateForItsOwnNamespaceAndServiceAccountGetsConfig() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    Node node = withServiceAccount(AdsTestClient.proxyless("a", "default"), "frontend");
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), node)) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(clusterName(client.next())).isEqualTo(REVIEWS);
      assertThat(mesh.ads.proxyStatus().get(0).get("verifiedIdentity"))
          .isEqualTo("spiffe://cluster.local/ns/default/sa/frontend (client certificate)");
    }
  }

  @Test
  void aTokenForItsOwnNamespaceGetsConfig() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, FRONTEND_TOKEN),
        AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(clusterName(client.next())).isEqualTo(REVIEWS);
    }
  }

  @Test
  void anUnknownTokenIsUnauthenticated() throws Exception {
    int port = securePort(XdsAuthMode.ANY);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, "not-a-token"),
        AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
  }

  @Test
  void certificateModeRefusesATokenAndServesACertificate() throws Exception {
    int port = securePort(XdsAuthMode.CERTIFICATE);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, FRONTEND_TOKEN),
        AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), AdsTestClient.proxyless("b", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(clusterName(client.next())).isEqualTo(REVIEWS);
    }
  }

  @Test
  void tokenModeRefusesACertificateAndServesAToken() throws Exception {
    int port = securePort(XdsAuthMode.TOKEN);
    try (AdsTestClient client = new AdsTestClient(channel(port, FRONTEND, null), AdsTestClient.proxyless("a", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(refusal(client)).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    try (AdsTestClient client = new AdsTestClient(channel(port, null, FRONTEND_TOKEN),
        AdsTestClient.proxyless("b", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(clusterName(client.next())).isEqualTo(REVIEWS);
    }
  }

  @Test
  void noneModeServesAnyClientAsItsNodeSays() throws Exception {
    int port = securePort(XdsAuthMode.NONE);
    try (AdsTestClient client = new AdsTestClient(channel(port, null, null), AdsTestClient.proxyless("a", "bookinfo"))) {
      client.request(TypeUrls.CLUSTER, List.of(RATINGS));
      assertThat(clusterName(client.next())).isEqualTo(RATINGS);
      assertThat(mesh.ads.proxyStatus().get(0)).doesNotContainKey("verifiedIdentity");
    }
  }

  @Test
  void thePlaintextPortStaysUnauthenticated() throws Exception {
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("a", "bookinfo"))) {
      client.request(TypeUrls.CLUSTER, List.of(RATINGS));
      assertThat(clusterName(client.next())).isEqualTo(RATINGS);
    }
  }

  private static Node withServiceAccount(Node node, String serviceAccount) {
    return node.toBuilder().setMetadata(node.getMetadata().toBuilder().putFields("SERVICE_ACCOUNT",
        com.google.protobuf.Value.newBuilder().setStringValue(serviceAccount).build())).build();
  }

  private static ByteArrayInputStream pem(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      return gen.generateKeyPair();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code authorization: Bearer TOKEN} on every call, as a client's call credentials send it. */
  private static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        applier.apply(headers);
      }
    };
  }
}
