package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.security.ca.Pem;

/**
 * The seed's primary–remote model across networks, in Linux network namespaces (issue 13, item 1).
 * Cluster 1 / network-1 (namespace n1) is the primary: the control plane (in the root namespace)
 * is reachable from n1 alone, over a management link. Cluster 2 / network-2 (namespace n2) has no
 * control plane and no link to it: its only link is the transit link (198.18.100.0/24) to
 * network-1's east-west gateway (198.18.100.1), which holds network-2's east-west gateway address
 * (198.18.100.2) at its other end. Network-1's gateway takes Istio's expose-istiod.yaml (PASSTHROUGH
 * servers on 15012 and 15017, tls routes to the control plane's Service) and so listens on 15012
 * beside 15443. In network-2, {@code weft agent} (for a workload, and for network-2's own gateway)
 * gets its certificate and its config through that port only; the workload then serves and calls
 * across both networks with mTLS, and so does network-1's.
 */
class PrimaryRemoteNamespacesTest {
  static final String DATA_IP = MultiNetworkNamespacesTest.DATA_IP;
  static final String GATEWAY_1 = "198.18.100.1";
  static final String GATEWAY_2 = "198.18.100.2";
  static final String SPIFFE_REVIEWS = "spiffe://cluster.local/ns/default/sa/reviews";
  /** Loopback ports of the agents' xDS proxies inside n2 (each namespace has its own ports). */
  static final int GATEWAY_AGENT_XDS = 15010;
  static final int WORKLOAD_AGENT_XDS = 15011;

  // The same per-run block of 198.19.0.0/16 as the multi-network test takes (run one after the other).
  final int mgmtBase = (int) (ProcessHandle.current().pid() % 8192) * 8;
  final String mgmtRoot = "198.19." + ((mgmtBase + 1) / 256) + "." + ((mgmtBase + 1) % 256);
  final String mgmtN1 = "198.19." + ((mgmtBase + 2) / 256) + "." + ((mgmtBase + 2) % 256);
  final String n1 = "weft-pr1-" + ProcessHandle.current().pid();
  final String n2 = "weft-pr2-" + ProcessHandle.current().pid();
  final List<Process> children = new ArrayList<>();
  final Map<String, List<String>> output = new ConcurrentHashMap<>();
  final Map<String, Process> processes = new ConcurrentHashMap<>();
  ControlPlane cp;

  @BeforeAll
  static void needsRootAndIp() {
    MultiNetworkNamespacesTest.needsRootAndIp();
  }

  @AfterEach
  void stop() throws Exception {
    for (Process p : children) p.destroyForcibly();
    for (Process p : children) p.waitFor();
    if (cp != null) cp.close();
    MultiNetworkNamespacesTest.ip(false, "netns", "del", n1);
    MultiNetworkNamespacesTest.ip(false, "netns", "del", n2);
  }

  /** n1: management link to the root namespace and the transit link; n2: the transit link only. */
  void network() throws Exception {
    Process probe = new ProcessBuilder("ip", "netns", "add", n1).redirectErrorStream(true).start();
    String refused = new String(probe.getInputStream().readAllBytes());
    org.junit.jupiter.api.Assumptions.assumeTrue(probe.waitFor() == 0 || !refused.contains("Operation not permitted"),
        "skipped: this root cannot create network namespaces (" + refused.trim() + ")");
    if (probe.exitValue() != 0) throw new IOException("ip netns add " + n1 + " failed: " + refused);
    ip("netns", "add", n2);
    String tag = String.valueOf(ProcessHandle.current().pid() % 10000);
    ip("link", "add", "pm" + tag + "a", "type", "veth", "peer", "name", "pm" + tag + "b");
    ip("link", "set", "pm" + tag + "b", "netns", n1);
    ip("addr", "add", mgmtRoot + "/30", "dev", "pm" + tag + "a");
    ip("link", "set", "pm" + tag + "a", "up");
    ip("-n", n1, "addr", "add", mgmtN1 + "/30", "dev", "pm" + tag + "b");
    ip("-n", n1, "link", "set", "pm" + tag + "b", "up");
    for (String ns : List.of(n1, n2)) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "addr", "add", DATA_IP + "/32", "dev", "lo");
    }
    ip("link", "add", "pt" + tag + "a", "type", "veth", "peer", "name", "pt" + tag + "b");
    ip("link", "set", "pt" + tag + "a", "netns", n1);
    ip("link", "set", "pt" + tag + "b", "netns", n2);
    ip("-n", n1, "addr", "add", GATEWAY_1 + "/24", "dev", "pt" + tag + "a");
    ip("-n", n2, "addr", "add", GATEWAY_2 + "/24", "dev", "pt" + tag + "b");
    ip("-n", n1, "link", "set", "pt" + tag + "a", "up");
    ip("-n", n2, "link", "set", "pt" + tag + "b", "up");
  }

  static void ip(String... args) throws IOException, InterruptedException {
    MultiNetworkNamespacesTest.ip(true, args);
  }

  /** Whether {@code namespace} has any route to {@code address}. */
  static boolean routes(String namespace, String address) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("ip", "-n", namespace, "route", "get", address).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor() == 0;
  }

  /** A child JVM in a namespace; its output lines (stdout and stderr) are collected under {@code name}. */
  void child(String namespace, String name, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    children.add(p);
    processes.put(name, p);
    List<String> lines = new CopyOnWriteArrayList<>();
    output.put(name, lines);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
        for (String line = r.readLine(); line != null; line = r.readLine()) lines.add(line);
      } catch (IOException ignored) {
        // process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
  }

  /** Waits for a condition while {@code name} runs; its death or a timeout fails with what every process printed. */
  void awaitWhile(String name, String what, java.util.concurrent.Callable<Boolean> done) {
    Process p = processes.get(name);
    try {
      await().atMost(Duration.ofMinutes(4)).until(() -> done.call() || !p.isAlive());
      if (!done.call()) throw new AssertionError(name + " ended before " + what + "\n" + outputs());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(name + ": no " + what + "\n" + outputs(), e);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The last lines of every process, each cut short: enough to see why without flooding the report. */
  String outputs() {
    StringBuilder b = new StringBuilder();
    output.forEach((name, lines) -> {
      b.append("--- ").append(name).append(" (").append(lines.size()).append(" lines)\n");
      for (String l : lines.subList(Math.max(0, lines.size() - 25), lines.size())) {
        b.append(l, 0, Math.min(l.length(), 400)).append('\n');
      }
    });
    return b.toString();
  }

  @Test
  void remoteWorkloadGetsItsCertificateAndConfigOnlyThroughThePrimarysGatewayAndCallsAcrossBothNetworks()
      throws Exception {
    network();
    int port = Mesh.freePort();
    int securePort = Mesh.freePort();
    Path c1 = Files.createTempDirectory("weft-primary");
    Path c2 = Files.createTempDirectory("weft-remote");
    Files.writeString(c1.resolve("reviews.yaml"), MultiNetworkNamespacesTest.workload(port, "network-1") + """
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: STRICT}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: cross-network-gateway, namespace: istio-system}
        spec:
          selector: {istio: eastwestgateway}
          servers:
          - port: {number: 15443, name: tls, protocol: TLS}
            tls: {mode: AUTO_PASSTHROUGH}
            hosts: ["*.local"]
        """ + eastWestGateway("network-1", GATEWAY_1));
    // The control plane as a Service of cluster 1: 15012 is its secure port (xDS and CA over TLS).
    // 443 → 15017 is Istio's webhook, which Weft does not have: routed, but nothing answers there.
    Files.writeString(c1.resolve("istiod.yaml"), """
        apiVersion: v1
        kind: Service
        metadata: {name: istiod, namespace: istio-system}
        spec:
          ports:
          - {name: tls-xds, port: 15012, targetPort: %d}
          - {name: https-webhook, port: 443, targetPort: 15017}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: istiod-1, namespace: istio-system, labels: {kubernetes.io/service-name: istiod}}
        addressType: IPv4
        ports: [{name: tls-xds, port: %d}, {name: https-webhook, port: 15017}]
        endpoints:
        - addresses: ["%s"]
        """.formatted(securePort, securePort, mgmtRoot));
    Files.writeString(c1.resolve("expose-istiod.yaml"), exposeIstiod());
    Files.writeString(c2.resolve("reviews.yaml"), MultiNetworkNamespacesTest.workload(port, "network-2")
        + "---\n" + eastWestGateway("network-2", GATEWAY_2));
    Path tokens = Files.createTempFile("weft-tokens", ".yaml");
    Files.writeString(tokens, """
        - {token: t-reviews, namespace: default, serviceAccount: reviews}
        - {token: t-eastwest, namespace: istio-system, serviceAccount: istio-eastwestgateway}
        """);
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(c1).withCluster("cluster1", "network-1").withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", c2))
        .withCa(new ControlPlaneOptions.Ca(Files.createTempDirectory("weft-ca"), tokens, securePort)));
    Path root = Files.createTempFile("weft-root", ".pem");
    Files.writeString(root, Pem.encode(cp.ca().roots()));
    assertThat(routes(n2, mgmtRoot)).as("network-2 has no route to the control plane").isFalse();
    assertThat(routes(n2, GATEWAY_1)).as("only to network-1's east-west gateway").isTrue();

    // Network-1, the primary: its gateway and its workload reach the control plane directly.
    String cli = "weft.cli.Main";
    child(n1, "gateway-1", cli, "gateway", "--ip", GATEWAY_1, "--xds-address", mgmtRoot + ":" + cp.xdsPort(),
        "--cluster-id", "cluster1", "--network", "network-1", "--pod-name", "eastwest-1");
    child(n1, "reviews-1", NetworkWorkload.class.getName(), "both", "reviews-net1", DATA_IP, "network-1", "reviews",
        mgmtRoot + ":" + cp.xdsPort(), mgmtRoot + ":" + cp.securePort(), root.toString(), "t-reviews",
        String.valueOf(port), "9080");

    // Network-2, the remote: everything goes to network-1's gateway at 15012, once it listens there
    // (an agent gives up on its first certificate after 30 s).
    awaitWhile("gateway-1", "listener on 15012", () -> stats().contains("15012"));
    String viaGateway = GATEWAY_1 + ":15012";
    Path gatewayAgent = Files.createTempDirectory("weft-agent-eastwest");
    Path workloadAgent = Files.createTempDirectory("weft-agent-reviews");
    child(n2, "agent-gateway-2", cli, agent(viaGateway, root, token("t-eastwest"), gatewayAgent, GATEWAY_AGENT_XDS,
        "--namespace", "istio-system", "--service-account", "istio-eastwestgateway", "--pod-name", "eastwest-2",
        "--ip", GATEWAY_2));
    child(n2, "agent-reviews-2", cli, agent(viaGateway, root, token("t-reviews"), workloadAgent, WORKLOAD_AGENT_XDS,
        "--namespace", "default", "--service-account", "reviews", "--pod-name", "reviews-net2", "--ip", DATA_IP,
        "--label", "app=reviews", "--label", "security.istio.io/tlsMode=istio"));
    Path gatewayBootstrap = gatewayAgent.resolve("grpc-bootstrap.json");
    Path workloadBootstrap = workloadAgent.resolve("grpc-bootstrap.json");
    awaitWhile("agent-gateway-2", "certificate and bootstrap", () -> Files.exists(gatewayBootstrap));
    child(n2, "gateway-2", cli, "gateway", "--ip", GATEWAY_2, "--xds-address", "127.0.0.1:" + GATEWAY_AGENT_XDS,
        "--cluster-id", "cluster2", "--network", "network-2", "--pod-name", "eastwest-2");
    awaitWhile("agent-reviews-2", "certificate and bootstrap", () -> Files.exists(workloadBootstrap));
    child(n2, "reviews-2", AgentWorkload.class.getName(), "both", "reviews-net2", workloadBootstrap.toString(),
        String.valueOf(port), "9080");

    // Each workload is answered by both: its own network's directly, the other's through its gateway.
    List<String> both = List.of("OK reviews-net1|" + SPIFFE_REVIEWS, "OK reviews-net2|" + SPIFFE_REVIEWS);
    awaitWhile("reviews-2", "answers from both networks", () -> output.get("reviews-2").containsAll(both));
    awaitWhile("reviews-1", "answers from both networks", () -> output.get("reviews-1").containsAll(both));
    assertThat(output.get("reviews-1")).noneMatch(l -> l.startsWith("FAIL"));
    assertThat(output.get("reviews-2")).noneMatch(l -> l.startsWith("FAIL"));

    // The remote workload's config stream: its own cluster's view, proven by its certificate, and
    // arriving from network-1's side of the management link, that is through the gateway.
    Map<String, Object> remote = cp.ads().proxyStatus().stream()
        .filter(p -> String.valueOf(p.get("id")).contains("reviews-net2.default")).findFirst().orElseThrow();
    assertThat(remote).containsEntry("clusterId", "cluster2").containsEntry("network", "network-2")
        .containsEntry("verifiedIdentity", SPIFFE_REVIEWS + " (client certificate)");
    assertThat(String.valueOf(remote.get("peer"))).contains(mgmtN1);
    Map<String, Object> gateway2 = cp.ads().proxyStatus().stream()
        .filter(p -> String.valueOf(p.get("id")).startsWith("router~" + GATEWAY_2)).findFirst().orElseThrow();
    assertThat(gateway2).containsEntry("clusterId", "cluster2");
    assertThat(String.valueOf(gateway2.get("peer"))).contains(mgmtN1);

    // Network-1's gateway listens on every port of its servers: 15443, 15012 and 15017 (routed, unserved).
    assertThat(stats()).contains("\"listeningPorts\":[15443, 15012, 15017]");
  }

  /** Network-1's gateway's /stats, read over the management link; empty while it does not answer. */
  String stats() {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + mgmtN1 + ":15021/stats"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  String token(String value) throws IOException {
    Path f = Files.createTempFile("weft-token", "");
    Files.writeString(f, value);
    return f.toString();
  }

  /** {@code weft agent} arguments: certificate and xDS (mTLS, through the local proxy) from {@code address}. */
  static String[] agent(String address, Path root, String tokenFile, Path out, int proxyPort, String... identity) {
    List<String> a = new ArrayList<>(List.of("agent", "--ca-address", address, "--xds-address", address,
        "--xds-mtls", "--xds-proxy-port", String.valueOf(proxyPort), "--root-cert", root.toString(),
        "--token-file", tokenFile, "--out", out.toString(), "--cluster-id", "cluster2", "--network", "network-2"));
    a.addAll(List.of(identity));
    return a.toArray(String[]::new);
  }

  static String eastWestGateway(String network, String address) {
    return """
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-eastwestgateway
          namespace: istio-system
          labels: {topology.istio.io/network: %s, istio: eastwestgateway}
        spec:
          externalIPs: [%s]
          ports: [{name: tls, port: 15443}, {name: tls-istiod, port: 15012}, {name: tls-webhook, port: 15017}]
        """.formatted(network, address);
  }

  /** Istio's samples/multicluster/expose-istiod.yaml, unchanged. */
  static String exposeIstiod() {
    return """
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: istiod-gateway
          namespace: istio-system
        spec:
          selector:
            istio: eastwestgateway
          servers:
            - port:
                name: tls-istiod
                number: 15012
                protocol: tls
              tls:
                mode: PASSTHROUGH
              hosts:
                - "*"
            - port:
                name: tls-istiodwebhook
                number: 15017
                protocol: tls
              tls:
                mode: PASSTHROUGH
              hosts:
                - "*"
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: istiod-vs
          namespace: istio-system
        spec:
          hosts:
          - "*"
          gateways:
          - istiod-gateway
          tls:
          - match:
            - port: 15012
              sniHosts:
              - "*"
            route:
            - destination:
                host: istiod.istio-system.svc.cluster.local
                port:
                  number: 15012
          - match:
            - port: 15017
              sniHosts:
              - "*"
            route:
            - destination:
                host: istiod.istio-system.svc.cluster.local
                port:
                  number: 443
        """;
  }
}
