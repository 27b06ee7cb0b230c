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
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.SpiffeBundleMap;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.federation.BundleEndpointProfile;

/**
 * Two meshes, each with its own control plane, root and trust domain, on loopback; each follows the
 * other's SPIFFE bundle (mesh 1 fetches mesh 2's over https_spiffe, mesh 2 fetches mesh 1's over
 * https_web). Their workloads are proxyless grpc-java processes started with {@code
 * GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true} (read once at class load, hence a JVM each), beside agents that
 * get the peers' roots from their own control plane's secure port and write them into the gRFC A87
 * bundle map, no peer file given.
 *
 * <p>Mesh 1's {@code frontend} calls mesh 2's {@code reviews} directly with mTLS, each call a new
 * handshake, all through a rotation of mesh 2's root: the new root is published beside the old one
 * (new sequence), mesh 2's control plane is restarted on the new root (its bundle endpoint away
 * meanwhile: mesh 1 keeps the last bundle, marked stale) and reviews takes a certificate from it.
 * The test counts the failed calls (goal: none) and prints them with the refresh latency.
 */
class TrustBetweenMeshesTest {
  static final String MESH1 = "mesh1.example";
  static final String MESH2 = "mesh2.example";
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<Process> children = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  ControlPlane mesh2;

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    for (Process p : children) {
      p.getOutputStream().close();
      if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
    }
    if (mesh2 != null) mesh2.close();
    for (AutoCloseable c : closeables) c.close();
  }

  @Test
  void workloadsOfTwoMeshesAuthenticateEachOtherAndARotationOfMesh2sRootLosesNoCall() throws Exception {
    Path work = Files.createTempDirectory("weft-federation");
    int reviewsPort = Mesh.freePort();
    int frontendPort = Mesh.freePort();
    int bundle1 = Mesh.freePort();
    int bundle2 = Mesh.freePort();
    int xds2 = Mesh.freePort();
    int monitoring2 = Mesh.freePort();
    int secure2 = Mesh.freePort();

    // Mesh 1's https_web endpoint: a certificate for "localhost" from a private Web PKI mesh 2 trusts.
    CertificateAuthority web = CaStore.loadOrCreate(work.resolve("web-ca"), "web", Clock.systemUTC());
    Path tlsDir = Files.createDirectories(work.resolve("mesh1-bundle-tls"));
    KeyPair tlsKey = KeyPairGenerator.getInstance("EC").generateKeyPair();
    Files.writeString(tlsDir.resolve("tls.crt"),
        Pem.encode(web.issueServing(tlsKey.getPublic(), List.of("localhost"), null, Duration.ofHours(1))));
    Files.writeString(tlsDir.resolve("tls.key"), Pem.encodePrivateKey(tlsKey.getPrivate()));
    Path webRoots = Files.writeString(work.resolve("web-roots.pem"), Pem.encode(web.roots()));

    // Mesh 2's root exists before its control plane: mesh 1's https_spiffe peer is bootstrapped with it.
    Path ca2Dir = work.resolve("mesh2-ca");
    CertificateAuthority ca2 = CaStore.loadOrCreate(ca2Dir, MESH2, Clock.systemUTC());
    ControlPlaneOptions.Federation fast = ControlPlaneOptions.Federation.DEFAULTS
        .withRefresh(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(1));

    Path config1 = Files.createDirectories(work.resolve("mesh1-config"));
    Files.writeString(config1.resolve("mesh1.yaml"), workload("frontend", frontendPort) + """
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews-mesh2, namespace: default}
        spec:
          hosts: [reviews.mesh2.example]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: 9080, name: grpc, protocol: GRPC, targetPort: %d}]
          endpoints: [{address: 127.0.0.1}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews-mesh2, namespace: default}
        spec:
          host: reviews.mesh2.example
          trafficPolicy:
            tls: {mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://mesh2.example/ns/default/sa/reviews"]}
        ---
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: mesh2}
        spec:
          trustDomain: mesh2.example
          bundleEndpointURL: https://127.0.0.1:%d/
          bundleEndpointProfile:
            type: https_spiffe
            endpointSPIFFEID: spiffe://mesh2.example/ns/istio-system/sa/istiod
          trustDomainBundle: |
        %s
        """.formatted(reviewsPort, bundle2, Pem.encode(ca2.roots()).indent(4).stripTrailing()));
    Path tokens1 = Files.writeString(work.resolve("mesh1-tokens.yaml"),
        "- {token: t-frontend, namespace: default, serviceAccount: frontend}\n");
    ControlPlane mesh1 = ControlPlane.start(ControlPlaneOptions.forConfigDir(config1).withPorts(0, 0)
        .withMeshConfig(Files.writeString(work.resolve("mesh1-mesh.yaml"), "trustDomain: " + MESH1 + "\n"))
        .withCa(new ControlPlaneOptions.Ca(work.resolve("mesh1-ca"), tokens1, 0))
        .withFederation(fast.withBundleEndpoint(bundle1, BundleEndpointProfile.HTTPS_WEB, tlsDir)));
    closeables.add(0, mesh1);

    Path config2 = Files.createDirectories(work.resolve("mesh2-config"));
    Files.writeString(config2.resolve("mesh2.yaml"), workload("reviews", reviewsPort) + """
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: reviews-callers, namespace: default}
        spec:
          selector: {matchLabels: {app: reviews}}
          rules:
          - from:
            - source: {principals: ["mesh1.example/ns/default/sa/frontend"]}
        ---
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: mesh1}
        spec:
          trustDomain: mesh1.example
          bundleEndpointURL: https://localhost:%d/
          bundleEndpointProfile: {type: https_web}
        """.formatted(bundle1));
    Path tokens2 = Files.writeString(work.resolve("mesh2-tokens.yaml"),
        "- {token: t-reviews, namespace: default, serviceAccount: reviews}\n");
    Path meshConfig2 = Files.writeString(work.resolve("mesh2-mesh.yaml"), "trustDomain: " + MESH2 + "\n");
    ControlPlaneOptions options2 = ControlPlaneOptions.forConfigDir(config2).withPorts(xds2, monitoring2)
        .withMeshConfig(meshConfig2)
        .withRemoteSecrets(null, work.resolve("mesh2-state"), Duration.ofSeconds(5))
        .withFederation(fast.withBundleEndpoint(bundle2, BundleEndpointProfile.HTTPS_SPIFFE, null)
            .withWebRoots(webRoots));
    mesh2 = ControlPlane.start(options2.withCa(new ControlPlaneOptions.Ca(ca2Dir, tokens2, secure2)));

    // Each control plane follows the other's bundle, each under its own profile. Mesh 1's bootstrap
    // bundle already holds mesh 2's roots, so the wait is for each peer's first fetch, not the roots.
    await().atMost(Duration.ofSeconds(60)).until(() -> Boolean.FALSE.equals(peer(mesh1).get("stale"))
        && Boolean.FALSE.equals(peer(mesh2).get("stale")));
    assertThat(mesh1.trustBundles().roots(MESH2)).isEqualTo(ca2.roots());
    assertThat(mesh2.trustBundles().roots(MESH1)).isEqualTo(mesh1.ca().roots());
    assertThat(peer(mesh1)).containsEntry("profile", "https_spiffe").containsEntry("stale", false);
    assertThat(peer(mesh2)).containsEntry("profile", "https_web").containsEntry("stale", false);

    // The agents: no peer file; the peers' roots come from their control plane.
    Path roots2 = Files.writeString(work.resolve("mesh2-roots.pem"), Pem.encode(ca2.roots()));
    Path roots1 = Files.writeString(work.resolve("mesh1-roots.pem"), Pem.encode(mesh1.ca().roots()));
    WeftAgent reviews = agent(MESH2, "reviews", "localhost:" + xds2, "localhost:" + secure2, roots2, "t-reviews",
        work.resolve("reviews-certs"));
    WeftAgent frontend = agent(MESH1, "frontend", "localhost:" + mesh1.xdsPort(), "localhost:" + mesh1.securePort(),
        roots1, "t-frontend", work.resolve("frontend-certs"));
    Path frontendMap = frontend.certificates().files().spiffeBundleMapFile();
    Path reviewsMap = reviews.certificates().files().spiffeBundleMapFile();
    await().atMost(Duration.ofSeconds(60)).until(() -> holds(frontendMap, MESH2, ca2.root())
        && holds(reviewsMap, MESH1, mesh1.ca().root()));
    assertThat(mapDomains(frontendMap)).containsExactlyInAnyOrder(MESH1, MESH2);

    Child server = start("server", "reviews", reviewsPort, null, reviews);
    Child client = start("both", "frontend", frontendPort, "xds:///reviews.mesh2.example:9080", frontend);

    // Frontend of mesh 1 calls reviews of mesh 2 directly: each side sees the other's SPIFFE id.
    await().atMost(Duration.ofSeconds(120)).until(() -> client.ok.get() > 0 || client.failed.get() > 0);
    assertThat(client.firstOk()).as("first answer (failures: %s)", client.failures)
        .startsWith("OK spiffe://mesh2.example/ns/default/sa/reviews ")
        .endsWith(" reviews|spiffe://mesh1.example/ns/default/sa/frontend");

    // Mesh 2's CA minting an identity of mesh 1: refused by mesh 1's frontend in the handshake; the
    // same CA's own identities are accepted (mesh 2's root, delivered to the agent, vouches for them).
    assertThat(status(plainClient(frontendPort, mesh1.ca(), ca2, MESH1, "frontend")))
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(call(plainClient(frontendPort, mesh1.ca(), ca2, MESH2, "reviews")))
        .isEqualTo("frontend|spiffe://mesh2.example/ns/default/sa/reviews");
    // Mesh 2's policy admits mesh 1's sa/frontend only.
    assertThat(call(plainClient(reviewsPort, ca2, mesh1.ca(), MESH1, "frontend")))
        .isEqualTo("reviews|spiffe://mesh1.example/ns/default/sa/frontend");
    assertThat(status(plainClient(reviewsPort, ca2, mesh1.ca(), MESH1, "other")))
        .isEqualTo(Status.Code.PERMISSION_DENIED);

    // Rotation, step 1: mesh 2 publishes its next root beside the current one (a new sequence).
    CertificateAuthority next = CaStore.loadOrCreate(work.resolve("mesh2-next-ca"), MESH2, Clock.systemUTC());
    Files.writeString(roots2, Pem.encode(List.of(ca2.root(), next.root())));
    long sequenceBefore = sequence(mesh2);
    int callsBefore = client.ok.get() + client.failed.get();
    Files.writeString(meshConfig2, meshConfigWithRoot(next.root()));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() -> sequence(mesh2) > sequenceBefore);
    long published = System.nanoTime();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
        .until(() -> mesh1.trustBundles().roots(MESH2).contains(next.root()));
    long controlPlaneFollowed = System.nanoTime();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
        .until(() -> holds(frontendMap, MESH2, next.root()) && holds(frontendMap, MESH2, ca2.root()));
    long workloadFollowed = System.nanoTime();

    // Step 2: mesh 2's control plane restarts on the next root, still publishing the old one. While it
    // is away, mesh 1 keeps the last bundle, marked stale, and so do its workloads.
    int okBefore = client.ok.get();
    mesh2.close();
    mesh2 = null;
    await().atMost(Duration.ofSeconds(60)).until(() -> Boolean.TRUE.equals(peer(mesh1).get("stale")));
    assertThat(mesh1.trustBundles().roots(MESH2)).containsExactlyInAnyOrder(ca2.root(), next.root());
    assertThat(String.valueOf(peer(mesh1).get("lastError"))).contains("127.0.0.1:" + bundle2);
    Files.writeString(meshConfig2, meshConfigWithRoot(ca2.root()));
    await().atMost(Duration.ofSeconds(60)).until(() -> client.ok.get() > okBefore + 5); // calls go on meanwhile
    mesh2 = ControlPlane.start(options2.withCa(
        new ControlPlaneOptions.Ca(work.resolve("mesh2-next-ca"), tokens2, secure2)));
    assertThat(mesh2.ca().root()).isEqualTo(next.root());
    await().atMost(Duration.ofSeconds(60)).until(() -> !Boolean.TRUE.equals(peer(mesh1).get("stale")));
    assertThat(mesh1.trustBundles().roots(MESH2)).containsExactlyInAnyOrder(ca2.root(), next.root());

    // Step 3: reviews takes a certificate from the next root; frontend's new handshakes see it.
    reviews.certificates().rotateNow();
    await().atMost(Duration.ofSeconds(60)).until(() -> reviews.certificates().current()
        .map(c -> c.chain().stream().anyMatch(x -> signedBy(x, next.root()))).orElse(false));
    await().atMost(Duration.ofSeconds(120)).until(() -> client.okSignedBy(next.root()) >= 50);

    int calls = client.ok.get() + client.failed.get() - callsBefore;
    System.out.printf("trust between meshes: %d calls from mesh 1 to mesh 2 during mesh 2's root rotation "
            + "(each a new mTLS handshake), %d failed in the whole run, %d answered under the new root; peer "
            + "bundle refresh (peer refresh bounds 0.5..1 s): mesh 1's control plane %d ms, mesh 1's workload "
            + "bundle map %d ms after mesh 2 published the new root%n", calls, client.failed.get(),
        client.okSignedBy(next.root()), (controlPlaneFollowed - published) / 1_000_000,
        (workloadFollowed - published) / 1_000_000);
    assertThat(client.failures).as("calls lost during the rotation").isEmpty();
    assertThat(server.process.isAlive()).isTrue();
  }

  /** A Service, its EndpointSlice and Pod on 127.0.0.1, mTLS STRICT: a proxyless server's inbound config. */
  static String workload(String name, int port) {
    return Yamls.service(name, "default", 9080, port, null) + """
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %1$s-1, namespace: default, labels: {kubernetes.io/service-name: %1$s}}
        addressType: IPv4
        ports: [{name: grpc, port: %2$d}]
        endpoints:
        - addresses: ["127.0.0.1"]
          targetRef: {kind: Pod, name: %1$s-1}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: %1$s-1
          namespace: default
          labels: {app: %1$s, security.istio.io/tlsMode: istio}
        spec: {serviceAccountName: %1$s}
        status: {podIP: 127.0.0.1, phase: Running}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: STRICT}
        """.formatted(name, port);
  }

  static String meshConfigWithRoot(X509Certificate extra) {
    return "trustDomain: " + MESH2 + "\ncaCertificates:\n- trustDomains: [" + MESH2 + "]\n  pem: |\n"
        + Pem.encode(List.of(extra)).indent(4);
  }

  WeftAgent agent(String trustDomain, String sa, String xds, String ca, Path roots, String token, Path out) {
    WorkloadIdentity id = WorkloadIdentity.builder().trustDomain(trustDomain).namespace("default").serviceAccount(sa)
        .podName(sa + "-1").ip("127.0.0.1").clusterId("cluster1")
        .labels(Map.of("app", sa, "security.istio.io/tlsMode", "istio")).build();
    WeftAgent agent = WeftAgent.startStandalone(AgentOptions.builder().identity(id)
        .xdsServer(xds, XdsTransport.PLAINTEXT).caAddress(ca).rootCertificateFile(roots).token(token)
        .outputDir(out).certTtl(Duration.ofHours(1)).refreshInterval(Duration.ofSeconds(1))
        .startTimeout(Duration.ofMinutes(2)).build());
    closeables.add(0, agent);
    return agent;
  }

  /** A workload JVM of {@link FederatedWorkloadMain} on the agent's bootstrap, with the A87 flag set. */
  Child start(String mode, String name, int port, String target, WeftAgent agent) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), FederatedWorkloadMain.class.getName(), mode, name,
        String.valueOf(port)));
    if (target != null) cmd.add(target);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("GRPC_XDS_BOOTSTRAP", agent.bootstrapFile().toString());
    pb.environment().put(WeftAgent.SPIFFE_FLAG, "true");
    Process p = pb.start();
    children.add(p);
    Child child = new Child(p);
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder log = new StringBuilder();
    String line;
    // Reading blocks until the child prints; it prints "serving" only after its server started.
    while ((line = out.readLine()) != null && !line.startsWith("serving")) log.append(line).append('\n');
    assertThat(line).as("the %s workload did not start:%n%s", name, log).isEqualTo("serving spiffe=true");
    Thread reader = new Thread(() -> out.lines().forEach(child::line), name + "-output");
    reader.setDaemon(true);
    reader.start();
    return child;
  }

  /** What a workload child printed: its calls' outcomes and the server certificates it saw. */
  static final class Child {
    final Process process;
    final AtomicInteger ok = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final List<String> oks = new CopyOnWriteArrayList<>();
    final Map<String, X509Certificate> certificates = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> okBySerial = new ConcurrentHashMap<>();

    Child(Process process) {
      this.process = process;
    }

    void line(String line) {
      if (line.startsWith("OK ")) {
        if (oks.isEmpty()) oks.add(line);
        String[] parts = line.split(" ");
        okBySerial.computeIfAbsent(parts[2], s -> new AtomicInteger()).incrementAndGet();
        ok.incrementAndGet();
      } else if (line.startsWith("FAIL ")) {
        if (failures.size() < 20) failures.add(line);
        failed.incrementAndGet();
      } else if (line.startsWith("CERT ")) {
        String[] parts = line.split(" ");
        try {
          certificates.put(parts[1], (X509Certificate) CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(parts[2]))));
        } catch (Exception e) {
          failures.add("unreadable certificate line: " + e);
        }
      }
    }

    String firstOk() {
      return oks.isEmpty() ? "" : oks.get(0);
    }

    /** Calls answered by a server whose certificate chains to {@code root}. */
    int okSignedBy(X509Certificate root) {
      int n = 0;
      for (Map.Entry<String, X509Certificate> c : certificates.entrySet()) {
        if (signedBy(c.getValue(), root)) {
          AtomicInteger count = okBySerial.get(c.getKey());
          n += count == null ? 0 : count.get();
        }
      }
      return n;
    }
  }

  static boolean signedBy(X509Certificate cert, X509Certificate root) {
    try {
      cert.verify(root.getPublicKey());
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** Whether the A87 map file lists {@code root} under {@code domain}. */
  static boolean holds(Path mapFile, String domain, X509Certificate root) throws Exception {
    if (!Files.exists(mapFile)) return false;
    var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(mapFile));
    var keys = doc.path("trust_domains").path(domain).path("keys");
    String der = Base64.getEncoder().encodeToString(root.getEncoded());
    for (var key : keys) {
      if (der.equals(key.path("x5c").path(0).asText())) return true;
    }
    return false;
  }

  static List<String> mapDomains(Path mapFile) throws Exception {
    List<String> out = new ArrayList<>();
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(mapFile)).path("trust_domains")
        .fieldNames().forEachRemaining(out::add);
    return out;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> peer(ControlPlane cp) {
    Map<String, Object> federation = (Map<String, Object>) cp.status().get("federation");
    List<Map<String, Object>> peers = (List<Map<String, Object>>) federation.get("peers");
    return peers.isEmpty() ? Map.of() : peers.get(0);
  }

  @SuppressWarnings("unchecked")
  static long sequence(ControlPlane cp) {
    Map<String, Object> federation = (Map<String, Object>) cp.status().get("federation");
    return ((Number) federation.get("bundleSequence")).longValue();
  }

  /** A plain grpc-java client presenting a certificate from {@code issuer} for {@code spiffe://DOMAIN/ns/default/sa/SA}. */
  ManagedChannel plainClient(int port, CertificateAuthority serverRoots, CertificateAuthority issuer, String domain,
      String serviceAccount) throws Exception {
    KeyPair key = KeyPairGenerator.getInstance("EC").generateKeyPair();
    List<X509Certificate> chain = issuer.issueWorkload(key.getPublic(), new SpiffeId(domain, "default", serviceAccount),
        Duration.ofHours(1));
    List<X509Certificate> presented = chain.subList(0, Math.max(1, chain.size() - 1)); // the root is not sent
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(GrpcSslContexts.forClient()
            .keyManager(key.getPrivate(), presented.toArray(X509Certificate[]::new))
            .trustManager(new PerTrustDomainValidationTest.ChainOnly(serverRoots.roots()))
            .build())
        .build();
    channels.add(ch);
    return ch;
  }

  static String call(ManagedChannel ch) {
    return ClientCalls.blockingUnaryCall(ch, EchoService.WHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        StringValue.of("hi")).getValue();
  }

  static Status.Code status(ManagedChannel ch) {
    try {
      call(ch);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }
}
