package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.BootstrapInstaller;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.TrustDomainRoots;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/**
 * Trust per trust domain with a real proxyless grpc-java server (gRFC A87's SPIFFE bundle map, which
 * grpc-java 1.85 uses only with {@code GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true} read at class load: the
 * server runs in a child JVM with that environment). Mesh 1 (cluster.local, alias old.local) trusts
 * mesh 2's root for mesh2.example only: a certificate from mesh 2's CA for its own domain gets in,
 * one from the same CA claiming mesh 1's domain is refused in the handshake, and an
 * AuthorizationPolicy naming mesh 2's {@code sa/frontend} admits it and refuses {@code sa/other}.
 */
class PerTrustDomainValidationTest {
  static final String PEER = "mesh2.example";
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  Process server;

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    if (server != null) {
      server.getOutputStream().close();
      if (!server.waitFor(20, TimeUnit.SECONDS)) server.destroyForcibly();
    }
    for (AutoCloseable c : closeables) c.close();
  }

  @Test
  void aPeersCaVouchesOnlyForItsOwnTrustDomainAndPolicyAdmitsExactlyTheNamedForeignIdentity() throws Exception {
    Path work = Files.createTempDirectory("weft-td");
    CertificateAuthority peerCa = CaStore.loadOrCreate(work.resolve("ca2"), PEER, Clock.systemUTC());
    Path peerRoot = work.resolve("mesh2-root.pem");
    Files.writeString(peerRoot, Pem.encode(peerCa.roots()));

    int port = Mesh.freePort();
    Path configDir = Files.createDirectories(work.resolve("config"));
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
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews-callers, namespace: default}
        spec:
          selector: {matchLabels: {app: reviews}}
          rules:
          - from:
            - source: {principals: ["mesh2.example/ns/default/sa/frontend", "cluster.local/ns/default/sa/frontend"]}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: by-namespace, namespace: default}
        spec:
          selector: {matchLabels: {app: ratings}}
          rules:
          - from: [{source: {namespaces: [default]}}]
        """.formatted(port));
    Path meshConfig = work.resolve("mesh.yaml");
    Files.writeString(meshConfig, "trustDomain: cluster.local\ntrustDomainAliases: [old.local]\ncaCertificates:\n"
        + "- trustDomains: [mesh2.example]\n  pem: |\n" + Pem.encode(peerCa.roots()).indent(4));
    Path tokens = work.resolve("tokens.yaml");
    Files.writeString(tokens, "- {token: t-reviews, namespace: default, serviceAccount: reviews}\n");
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(configDir).withPorts(0, 0)
        .withMeshConfig(meshConfig).withCa(new ControlPlaneOptions.Ca(work.resolve("ca1"), tokens, 0)));
    closeables.add(0, cp);

    // The reviews workload: its certificate and, beside it, the SPIFFE bundle map the agent writes.
    WorkloadIdentity reviews = WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default")
        .serviceAccount("reviews").podName("reviews-1").ip("127.0.0.1").clusterId("cluster1")
        .labels(Map.of("app", "reviews", "security.istio.io/tlsMode", "istio")).build();
    CaClient caClient = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> "t-reviews", "cluster1");
    closeables.add(caClient);
    CertificateFiles files = new CertificateFiles(work.resolve("reviews-certs"),
        new TrustDomainRoots("cluster.local", List.of("old.local"), Map.of(PEER, peerRoot)));
    java.util.concurrent.ScheduledExecutorService scheduler = java.util.concurrent.Executors
        .newSingleThreadScheduledExecutor();
    closeables.add(scheduler::shutdownNow);
    CertificateManager certs = CertificateManager.builder(reviews.spiffeId(), caClient, TrustRoots.of(cp.ca().roots()),
        files).ttl(Duration.ofHours(1)).scheduler(scheduler).build();
    closeables.add(0, certs);
    certs.start();
    certs.awaitFirstCertificate(Duration.ofSeconds(120));
    String map = Files.readString(files.spiffeBundleMapFile());
    assertThat(map).contains("\"cluster.local\"", "\"old.local\"", "\"mesh2.example\"", "\"x509-svid\"");

    Path bootstrapFile = work.resolve("bootstrap.json");
    BootstrapInstaller.writeFile(XdsBootstrap.builder().xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .identity(reviews)
        .certificateFiles(files.certificateChainFile(), files.privateKeyFile(), files.rootCertificateFile())
        .spiffeTrustBundleMapFile(files.spiffeBundleMapFile())
        .refreshInterval(Duration.ofSeconds(1)).build(), bootstrapFile);
    assertThat(Files.readString(bootstrapFile)).contains("spiffe_trust_bundle_map_file");
    startServer(port, bootstrapFile);

    CertificateAuthority ourCa = cp.ca();
    // Ours, under our name and under an alias: accepted (the alias is validated with our roots).
    ManagedChannel ours = client(port, ourCa, ourCa, "cluster.local", "frontend");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> call(ours).equals("spiffe://cluster.local/ns/default/sa/frontend"));
    assertThat(call(client(port, ourCa, ourCa, "old.local", "frontend")))
        .isEqualTo("spiffe://old.local/ns/default/sa/frontend");
    // The peer's own identities: its root vouches for them; the policy names only sa/frontend.
    assertThat(call(client(port, ourCa, peerCa, PEER, "frontend"))).isEqualTo("spiffe://mesh2.example/ns/default/sa/frontend");
    assertThat(status(client(port, ourCa, peerCa, PEER, "other"))).isEqualTo(Status.Code.PERMISSION_DENIED);
    // The peer's CA minting an identity of ours: refused in the handshake, though the policy would admit it.
    assertThat(status(client(port, ourCa, peerCa, "cluster.local", "frontend"))).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status(client(port, ourCa, peerCa, "old.local", "frontend"))).isEqualTo(Status.Code.UNAVAILABLE);

    // weft status: the namespaces rule would admit mesh2.example's default namespace.
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> problems = (List<Map<String, Object>>) cp.status().get("configProblems");
    assertThat(problems).anySatisfy(p -> {
      assertThat(p.get("field")).isEqualTo("spec.rules[0].from[0].source.namespaces");
      assertThat(String.valueOf(p.get("resource"))).contains("by-namespace");
      assertThat(String.valueOf(p.get("message"))).contains("mesh2.example");
    });
    assertThat(problems).noneSatisfy(p -> assertThat(String.valueOf(p.get("resource"))).contains("reviews-callers"));
  }

  /** The server in a child JVM with the A87 flag in its environment; returns once it serves. */
  void startServer(int port, Path bootstrapFile) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), SpiffeMapServerMain.class.getName(), String.valueOf(port))
        .redirectErrorStream(true);
    pb.environment().put("GRPC_XDS_BOOTSTRAP", bootstrapFile.toString());
    pb.environment().put("GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE", "true");
    server = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder log = new StringBuilder();
    String line;
    // Reading blocks until the child prints; it prints "serving" only after start() returned.
    while ((line = out.readLine()) != null && !line.startsWith("serving")) log.append(line).append('\n');
    assertThat(line).as("the child server did not start:\n" + log).isEqualTo("serving spiffe=true");
    Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "child-output");
    drain.setDaemon(true);
    drain.start();
  }

  /** A client presenting a certificate from {@code issuer} for {@code spiffe://DOMAIN/ns/default/sa/SA}. */
  ManagedChannel client(int port, CertificateAuthority serverRoots, CertificateAuthority issuer, String domain,
      String serviceAccount) throws Exception {
    KeyPair key = KeyPairGenerator.getInstance("EC").generateKeyPair();
    List<X509Certificate> chain = issuer.issueWorkload(key.getPublic(), new SpiffeId(domain, "default", serviceAccount),
        Duration.ofHours(1));
    List<X509Certificate> presented = chain.subList(0, chain.size() - 1); // the root is not sent
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(GrpcSslContexts.forClient()
            .keyManager(key.getPrivate(), presented.toArray(X509Certificate[]::new))
            .trustManager(new ChainOnly(serverRoots.roots()))
            .build())
        .build();
    channels.add(ch);
    return ch;
  }

  static String call(ManagedChannel ch) {
    return ClientCalls.blockingUnaryCall(ch, EchoService.WHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        StringValue.of("hi")).getValue();
  }

  /** The outcome of one call: OK, or the code it failed with. */
  static Status.Code status(ManagedChannel ch) {
    try {
      call(ch);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /**
   * Checks the server's chain against our roots without a host name: a workload's certificate names
   * only its SPIFFE id (the xDS client matches that SAN; this plain client only needs the chain).
   */
  static final class ChainOnly extends X509ExtendedTrustManager {
    private final X509TrustManager pkix;

    ChainOnly(List<X509Certificate> roots) throws Exception {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < roots.size(); i++) ks.setCertificateEntry("root" + i, roots.get(i));
      TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
      f.init(ks);
      pkix = (X509TrustManager) f.getTrustManagers()[0];
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a client only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      throw new CertificateException("a client only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("a client only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }
}
