package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptors;
import io.grpc.TlsChannelCredentials;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.auth.CallerAuthentication;
import weft.security.auth.XdsAuthMode;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.csr.CaServer;

/**
 * SDS over ADS as the control plane runs it: the secure port (our CA's serving certificate, the ADS
 * service behind {@link CallerAuthentication}) reached by grpc-java ADS clients over real TLS with
 * workload certificates. A Secret goes only to a proxy that proved it runs in the Secret's
 * namespace, over State of the World and Delta; another namespace and the plaintext port get an
 * empty answer and a logged reason, never the key; a changed Secret is pushed to who holds it.
 */
class SecretDiscoveryTest {
  static final String AUTHORITY = "istiod.istio-system.svc";
  static final SpiffeId EGRESS = new SpiffeId("cluster.local", "istio-system", "istio-egressgateway");
  static final SpiffeId BOOKINFO = new SpiffeId("cluster.local", "bookinfo", "productpage");
  /** A Gateway API gateway's pod in its own namespace, whose listener's certificate lives in istio-system. */
  static final SpiffeId WEB_GATEWAY = new SpiffeId("cluster.local", "web", "web-gateway-istio");
  static final String GRANTED = "kubernetes-gateway://istio-system/client-credential";
  static final String CERT = "kubernetes://client-credential";
  static final String CA_CERT = "kubernetes://client-credential-cacert";
  static final TestPem CLIENT = TestPem.selfSigned("client.example.com");
  static final TestPem ROTATED = TestPem.selfSigned("client-rotated.example.com");
  static final TestPem SERVER_CA = TestPem.selfSigned("my-nginx root");

  @TempDir Path tmp;
  TestMesh mesh;
  CertificateAuthority ca;
  CaServer secure;
  final List<String> log = new CopyOnWriteArrayList<>();
  final Logger connectionLog = Logger.getLogger("weft.xds.server.ProxyConnection");
  final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      log.add(record.getMessage());
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  /** Istio's egress task keeps the client credential in the egress gateway's namespace. */
  static String secret(TestPem pem) {
    return """
        apiVersion: v1
        kind: Secret
        metadata: {name: client-credential, namespace: istio-system}
        type: kubernetes.io/tls
        data: {tls.crt: %s, tls.key: %s, ca.crt: %s}
        """.formatted(TestPem.b64(pem.certificate()), TestPem.b64(pem.key()), TestPem.b64(SERVER_CA.certificate()));
  }

  /** Istio's egress task: the gateway originates mTLS to my-nginx with the client credential. */
  static final String ORIGINATE = """
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: nginx, namespace: istio-system}
      spec:
        hosts: [my-nginx.mesh-external.svc.cluster.local]
        ports: [{number: 443, name: tls, protocol: TLS}]
        location: MESH_EXTERNAL
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: originate-mtls-for-nginx, namespace: istio-system}
      spec:
        host: my-nginx.mesh-external.svc.cluster.local
        trafficPolicy:
          tls: {mode: MUTUAL, credentialName: client-credential, sni: my-nginx.mesh-external.svc.cluster.local}
      """;
  static final String NGINX = "outbound|443||my-nginx.mesh-external.svc.cluster.local";

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1") + "---\n" + secret(CLIENT)
        + ORIGINATE);
    ca = CaStore.loadOrCreate(tmp.resolve("ca"), "cluster.local", Clock.systemUTC());
    CallerAuthentication auth = new CallerAuthentication(XdsAuthMode.CERTIFICATE, null, ca::roots,
        () -> "cluster.local", Clock.systemUTC(), new SimpleMeterRegistry());
    secure = CaServer.builder(ca).port(0).dnsNames(List.of(AUTHORITY))
        .identity(new SpiffeId("cluster.local", "istio-system", "istiod"))
        .addService(ServerInterceptors.intercept(mesh.ads.definition(), auth)).start();
    connectionLog.addHandler(capture);
  }

  @AfterEach
  void stop() {
    connectionLog.removeHandler(capture);
    secure.close();
    mesh.close();
  }

  private ManagedChannel channel(SpiffeId identity) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = g.generateKeyPair();
    List<X509Certificate> chain = ca.issueWorkload(keys.getPublic(), identity, Duration.ofHours(1));
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(pem(Pem.encode(ca.roots())))
        .keyManager(pem(Pem.encode(chain)), pem(Pem.encodePrivateKey(keys.getPrivate())));
    return Grpc.newChannelBuilderForAddress("localhost", secure.port(), tls.build()).overrideAuthority(AUTHORITY)
        .build();
  }

  private static ByteArrayInputStream pem(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  /** An egress gateway's node, as Istio's gateway deployment names it. */
  private static Node gateway(String namespace) {
    return Node.newBuilder().setId("router~10.0.0.7~egress-1." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(com.google.protobuf.Struct.newBuilder().putFields("NAMESPACE",
            com.google.protobuf.Value.newBuilder().setStringValue(namespace).build()))
        .build();
  }

  private static Map<String, Secret> secrets(DiscoveryResponse r) throws Exception {
    assertThat(r.getTypeUrl()).isEqualTo(TypeUrls.SECRET);
    Map<String, Secret> out = new java.util.TreeMap<>();
    for (var any : r.getResourcesList()) {
      Secret s = any.unpack(Secret.class);
      out.put(s.getName(), s);
    }
    return out;
  }

  private static String certificateOf(Secret s) {
    return s.getTlsCertificate().getCertificateChain().getInlineBytes().toStringUtf8();
  }

  private List<String> keyLines() {
    List<String> out = new ArrayList<>();
    for (TestPem p : List.of(CLIENT, ROTATED)) {
      p.key().lines().filter(l -> !l.startsWith("-----")).forEach(out::add);
    }
    return out;
  }

  @Test
  void aGatewayThatProvedItsNamespaceGetsItsSecretsThereAndARotationIsPushed() throws Exception {
    try (AdsTestClient client = new AdsTestClient(channel(EGRESS), gateway("istio-system"))) {
      client.request(TypeUrls.SECRET, List.of(CERT, CA_CERT));
      DiscoveryResponse first = client.next();
      Map<String, Secret> got = secrets(first);
      assertThat(got).containsOnlyKeys(CERT, CA_CERT);
      assertThat(certificateOf(got.get(CERT))).isEqualTo(CLIENT.certificate());
      assertThat(got.get(CERT).getTlsCertificate().getPrivateKey().getInlineBytes().toStringUtf8())
          .isEqualTo(CLIENT.key());
      assertThat(got.get(CA_CERT).getValidationContext().getTrustedCa().getInlineBytes().toStringUtf8())
          .isEqualTo(SERVER_CA.certificate());
      client.ack(first, List.of(CERT, CA_CERT));

      mesh.apply(secret(ROTATED), false);
      DiscoveryResponse rotated = client.next();
      assertThat(certificateOf(secrets(rotated).get(CERT))).isEqualTo(ROTATED.certificate());
      assertThat(rotated.getVersionInfo()).isNotEqualTo(first.getVersionInfo());

      // Its config dump shows the certificate and hides the key.
      String dump = weft.xds.dump.ConfigDumps.json(mesh.ads.configOf(gateway("istio-system").getId()).orElseThrow(),
          List.of(TypeUrls.SECRET));
      assertThat(dump).contains(CERT).contains("[redacted]");
      for (String line : keyLines()) assertThat(dump).doesNotContain(line);
      assertThat(dump).doesNotContain(java.util.Base64.getEncoder().encodeToString(
          ROTATED.key().getBytes(StandardCharsets.US_ASCII)));
    }
  }

  @Test
  void theGatewayOnTheSecurePortGetsTheOriginatingClusterAndOnThePlaintextPortItIsLeftOut() throws Exception {
    try (AdsTestClient secureClient = new AdsTestClient(channel(EGRESS), gateway("istio-system"))) {
      secureClient.request(TypeUrls.CLUSTER, List.of());
      var clusters = new java.util.TreeMap<String, io.envoyproxy.envoy.config.cluster.v3.Cluster>();
      for (var any : secureClient.next().getResourcesList()) {
        var c = any.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class);
        clusters.put(c.getName(), c);
      }
      assertThat(clusters).containsKey(NGINX);
      var tls = clusters.get(NGINX).getTransportSocket().getTypedConfig()
          .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.class);
      assertThat(tls.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName()).isEqualTo(CERT);
    }
    // The same gateway on the plaintext port (its clusters built in the same snapshot) is not sent it.
    Node plaintextNode = gateway("istio-system").toBuilder()
        .setId("router~10.0.0.8~egress-2.istio-system~istio-system.svc.cluster.local").build();
    try (AdsTestClient plain = new AdsTestClient(mesh.port(), plaintextNode)) {
      plain.request(TypeUrls.CLUSTER, List.of());
      List<String> names = new ArrayList<>();
      for (var any : plain.next().getResourcesList()) {
        names.add(any.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class).getName());
      }
      assertThat(names).isNotEmpty().doesNotContain(NGINX);
    }
  }

  @Test
  void aDeltaStreamInTheSecretsNamespaceGetsItToo() throws Exception {
    try (DeltaTestClient client = new DeltaTestClient(channel(EGRESS), gateway("istio-system"))) {
      client.subscribe(TypeUrls.SECRET, List.of(CERT), Map.of());
      DeltaDiscoveryResponse r = client.next();
      assertThat(r.getResourcesList()).extracting(Resource::getName).containsExactly(CERT);
      assertThat(certificateOf(r.getResources(0).getResource().unpack(Secret.class))).isEqualTo(CLIENT.certificate());
    }
  }

  @Test
  void aProxyOfAnotherNamespaceGetsAnEmptyAnswerAndTheReasonIsLoggedWithoutTheKey() throws Exception {
    Node node = AdsTestClient.sidecar("productpage-1", "bookinfo", "10.0.0.8");
    try (AdsTestClient client = new AdsTestClient(channel(BOOKINFO), node)) {
      client.request(TypeUrls.SECRET, List.of(CERT, "kubernetes://istio-system/client-credential", CA_CERT));
      DiscoveryResponse r = client.next();
      assertThat(r.getResourcesCount()).isZero();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> log.stream().anyMatch(l -> l.contains("namespace istio-system")));
    assertThat(log).anySatisfy(l -> assertThat(l).contains("kubernetes://istio-system/client-credential not sent")
        .contains("proved namespace bookinfo"));
    assertThat(log).anySatisfy(l -> assertThat(l).contains("Secret bookinfo/client-credential does not exist"));
    for (String line : keyLines()) assertThat(log).noneMatch(l -> l.contains(line));
    assertThat(mesh.meters.counter("weft_xds_secrets_refused_total").count()).isEqualTo(3.0);
  }

  /** A ReferenceGrant in istio-system for Gateways of {@code from}, to the Secret {@code secret}. */
  static String grant(String from, String secret) {
    return """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata: {name: certs-for-%1$s, namespace: istio-system}
        spec:
          from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: %1$s}]
          to: [{group: "", kind: Secret, name: %2$s}]
        """.formatted(from, secret);
  }

  @Test
  void anotherNamespacesSecretGoesToAGatewayOnlyOnceAReferenceGrantThereAllowsIt() throws Exception {
    // Gateway web-gateway (class istio) runs as web-gateway-istio, the account Istio's deployment
    // controller gives it; its HTTPS listener's certificate is in istio-system.
    mesh.apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: web-gateway, namespace: web}
        spec:
          gatewayClassName: istio
          listeners:
          - {name: http, port: 80, protocol: HTTP}
          - name: https
            port: 443
            protocol: HTTPS
            tls:
              mode: Terminate
              certificateRefs: [{kind: Secret, name: client-credential, namespace: istio-system}]
        ---
        # Written by hand in the gateway's namespace, this names the same certificate: it opens nothing.
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: forged, namespace: web}
        spec:
          selector: {gateway.networking.k8s.io/gateway-name: web-gateway}
          servers:
          - port: {number: 8443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: SIMPLE, credentialName: "kubernetes-gateway://istio-system/client-credential"}
        """, false);
    // Kubernetes RBAC lets no account here read Secrets: a verified Gateway API certificate does not need it.
    mesh.ads.secretAccess((namespace, account) -> "no Role lets " + account + " list Secrets");
    // Istio's name for a Gateway API listener's certificateRef in another namespace.
    try (AdsTestClient client = new AdsTestClient(channel(WEB_GATEWAY), gateway("web"))) {
      client.request(TypeUrls.SECRET, List.of(GRANTED));
      DiscoveryResponse refused = client.next();
      assertThat(refused.getResourcesCount()).isZero();
      client.ack(refused, List.of(GRANTED));
      await().atMost(Duration.ofSeconds(60)).until(() -> log.stream().anyMatch(l -> l.contains(GRANTED)));
      assertThat(log).anySatisfy(l -> assertThat(l).contains("no Gateway API Gateway of namespace web")
          .contains("ReferenceGrant"));

      // A grant for another Secret, or for another namespace's Gateways, opens nothing.
      mesh.apply(grant("web", "other-credential") + "---\n" + grant("bookinfo", "client-credential"), false);
      // The grant that names this Secret for this namespace's Gateways is followed at once.
      mesh.apply(grant("web", "client-credential"), false);
      DiscoveryResponse granted = client.next();
      assertThat(secrets(granted)).containsOnlyKeys(GRANTED);
      assertThat(certificateOf(secrets(granted).get(GRANTED))).isEqualTo(CLIENT.certificate());
      client.ack(granted, List.of(GRANTED));
    }
    // Taking the grant back takes the Secret back: a Delta stream is told it is removed (State of the
    // World has no way to say so for SDS; Envoy keeps what it has, as with a deleted Secret).
    try (DeltaTestClient delta = new DeltaTestClient(channel(WEB_GATEWAY), gateway("web"))) {
      delta.subscribe(TypeUrls.SECRET, List.of(GRANTED), Map.of());
      DeltaDiscoveryResponse held = delta.next();
      assertThat(held.getResourcesList()).extracting(Resource::getName).containsExactly(GRANTED);
      delta.ack(held);
      mesh.delete(new weft.model.ResourceId("ReferenceGrant", "istio-system", "certs-for-web"));
      assertThat(delta.next().getRemovedResourcesList()).containsExactly(GRANTED);
    }
    for (String line : keyLines()) assertThat(log).noneMatch(l -> l.contains(line));
  }

  @Test
  void aProvenProxyWhoseAccountMayNotReadSecretsIsSentNoneAndTheReasonIsKubernetesRbac() throws Exception {
    // As in Kubernetes mode: the API server decides whether the service account may list Secrets.
    mesh.ads.secretAccess((namespace, account) -> account.equals("istio-egressgateway") ? null
        : "service account " + account + " may not list Secrets in namespace " + namespace + " (SubjectAccessReview)");
    SpiffeId ingress = new SpiffeId("cluster.local", "istio-system", "istio-ingressgateway");
    try (AdsTestClient client = new AdsTestClient(channel(ingress), gateway("istio-system"))) {
      client.request(TypeUrls.SECRET, List.of(CERT));
      assertThat(client.next().getResourcesCount()).isZero();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> log.stream().anyMatch(l -> l.contains(CERT + " not sent")));
    assertThat(log).anySatisfy(l -> assertThat(l).contains(CERT + " not sent")
        .contains("istio-ingressgateway may not list Secrets"));
    // The account RBAC lets read them is still sent them.
    // (A Gateway API listener's verified certificate needs no RBAC: see the ReferenceGrant test.)
    try (AdsTestClient client = new AdsTestClient(channel(EGRESS), gateway("istio-system"))) {
      client.request(TypeUrls.SECRET, List.of(CERT));
      assertThat(secrets(client.next())).containsOnlyKeys(CERT);
    }
  }

  @Test
  void aProxyWhoseAccessIsStillBeingReviewedGetsItsKeyOnceTheApiServerAnswers() throws Exception {
    java.util.concurrent.CompletableFuture<String> answer = new java.util.concurrent.CompletableFuture<>();
    mesh.ads.secretAccess(new weft.xds.sds.SecretAccess() {
      @Override
      public String refusal(String namespace, String account) {
        return answer.join();
      }

      @Override
      public java.util.concurrent.CompletableFuture<String> decide(String namespace, String account) {
        return answer;
      }
    });
    try (AdsTestClient client = new AdsTestClient(channel(EGRESS), gateway("istio-system"))) {
      client.request(TypeUrls.SECRET, List.of(CERT));
      DiscoveryResponse waiting = client.next();
      assertThat(waiting.getResourcesCount()).as("no key before the answer").isZero();
      client.ack(waiting, List.of(CERT));
      answer.complete(null); // allowed
      DiscoveryResponse sent = client.next();
      assertThat(secrets(sent)).containsOnlyKeys(CERT);
      assertThat(certificateOf(secrets(sent).get(CERT))).isEqualTo(CLIENT.certificate());
    }
  }

  @Test
  void thePlaintextPortNeverServesASecret() throws Exception {
    try (AdsTestClient client = new AdsTestClient(mesh.port(), gateway("istio-system"))) {
      client.request(TypeUrls.SECRET, List.of(CERT, CA_CERT));
      DiscoveryResponse r = client.next();
      assertThat(r.getResourcesCount()).isZero();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> log.stream().anyMatch(l -> l.contains("secure port")));
    try (DeltaTestClient delta = new DeltaTestClient(mesh.port(), gateway("istio-system"))) {
      delta.subscribe(TypeUrls.SECRET, List.of(CERT), Map.of());
      DeltaDiscoveryResponse r = delta.next();
      assertThat(r.getResourcesList()).isEmpty();
      assertThat(r.getRemovedResourcesList()).containsExactly(CERT);
    }
  }
}
