package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
 * The seed's "Multiple networks" in Linux network namespaces: network-1 and network-2 each hold a
 * workload at the same data address (198.18.1.10); each is reached from the other only through
 * network-2's east-west gateway on a shared transit link (198.18.100.0/24); each namespace has a
 * management link to the control plane in the root namespace (a /30 pair in 198.19.0.0/16). A proxyless client
 * in network-1 gets answers from both workloads, network-2's through weft-gateway with mTLS end to
 * end; removing the gateway from config keeps it in network-1 with no failed RPC.
 */
class MultiNetworkNamespacesTest {
  static final String DATA_IP = "198.18.1.10";
  static final String SPIFFE_FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";
  /**
   * Management links sit in the root namespace, shared by every run on the machine: each run takes
   * its own block of 8 addresses in 198.19.0.0/16 (two /30s), so two runs side by side do not clash.
   */
  final int mgmtBase = (int) (ProcessHandle.current().pid() % 8192) * 8;
  final String mgmt1 = address(mgmtBase + 1);
  final String mgmt2 = address(mgmtBase + 5);
  final String n1 = "weft-n1-" + ProcessHandle.current().pid();
  final String n2 = "weft-n2-" + ProcessHandle.current().pid();
  final List<Process> children = new ArrayList<>();
  final Map<String, List<String>> output = new ConcurrentHashMap<>();
  final Map<String, Process> processes = new ConcurrentHashMap<>();
  ControlPlane cp;

  @AfterEach
  void stop() throws Exception {
    for (Process p : children) p.destroyForcibly();
    for (Process p : children) p.waitFor();
    if (cp != null) cp.close();
    ip(false, "netns", "del", n1);
    ip(false, "netns", "del", n2);
  }

  static void ip(boolean check, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0 && check) throw new IOException(String.join(" ", cmd) + " failed: " + out);
  }

  /**
   * The scenario builds Linux network namespaces: it needs root and iproute2's {@code ip}. Without
   * them it is skipped, saying what is missing, rather than failed.
   */
  @BeforeAll
  static void needsRootAndIp() {
    assumeTrue(System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux"),
        "skipped: network namespaces need Linux");
    assumeTrue(isRoot(), "skipped: network namespaces need root (run the tests as root, as CI does)");
    assumeTrue(onPath("ip"), "skipped: the 'ip' command (iproute2) is not installed; install iproute2");
  }

  static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 && out.equals("0");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) return true;
    }
    return Files.isExecutable(Path.of("/sbin", command)) || Files.isExecutable(Path.of("/usr/sbin", command));
  }

  /** Two namespaces: data address on lo, a transit link between them, a management link to root each. */
  void network() throws Exception {
    // Root in a container without CAP_SYS_ADMIN still cannot make a namespace: that is a skip too.
    List<String> add = new ArrayList<>(List.of("ip", "netns", "add", n1));
    Process probe = new ProcessBuilder(add).redirectErrorStream(true).start();
    String refused = new String(probe.getInputStream().readAllBytes());
    assumeTrue(probe.waitFor() == 0 || !refused.contains("Operation not permitted"),
        "skipped: this root cannot create network namespaces (" + refused.trim() + ")");
    if (probe.exitValue() != 0) throw new IOException("ip netns add " + n1 + " failed: " + refused);
    ip(true, "netns", "add", n2);
    String tag = String.valueOf(ProcessHandle.current().pid() % 10000);
    String[][] mgmt = {{n1, "wm1" + tag, mgmt1 + "/30", address(mgmtBase + 2) + "/30"}, {n2, "wm2" + tag, mgmt2 + "/30", address(mgmtBase + 6) + "/30"}};
    for (String[] m : mgmt) {
      ip(true, "link", "add", m[1] + "a", "type", "veth", "peer", "name", m[1] + "b");
      ip(true, "link", "set", m[1] + "b", "netns", m[0]);
      ip(true, "addr", "add", m[2], "dev", m[1] + "a");
      ip(true, "link", "set", m[1] + "a", "up");
      ip(true, "-n", m[0], "addr", "add", m[3], "dev", m[1] + "b");
      ip(true, "-n", m[0], "link", "set", m[1] + "b", "up");
      ip(true, "-n", m[0], "link", "set", "lo", "up");
      ip(true, "-n", m[0], "addr", "add", DATA_IP + "/32", "dev", "lo");
    }
    ip(true, "link", "add", "wt1" + tag, "type", "veth", "peer", "name", "wt2" + tag);
    ip(true, "link", "set", "wt1" + tag, "netns", n1);
    ip(true, "link", "set", "wt2" + tag, "netns", n2);
    ip(true, "-n", n1, "addr", "add", "198.18.100.1/24", "dev", "wt1" + tag);
    ip(true, "-n", n2, "addr", "add", "198.18.100.2/24", "dev", "wt2" + tag);
    ip(true, "-n", n1, "link", "set", "wt1" + tag, "up");
    ip(true, "-n", n2, "link", "set", "wt2" + tag, "up");
  }

  private static String address(int offsetIn198dot19) {
    return "198.19." + (offsetIn198dot19 / 256) + "." + (offsetIn198dot19 % 256);
  }

  /** A child JVM in a namespace; its output lines are collected under {@code name}. */
  Process child(String namespace, String name, String mainClass, String... args) throws IOException {
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
    return p;
  }

  void awaitLine(String name, String prefix) {
    // Child JVMs that start, get certificates and serve: minutes on a busy machine. One that dies
    // first ends the wait at once, and either way the failure shows what it printed.
    Process p = processes.get(name);
    try {
      await().atMost(Duration.ofMinutes(4)).until(() -> output.get(name).stream().anyMatch(l -> l.startsWith(prefix))
          || !p.isAlive());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(name + " printed no " + prefix + " line; its output: " + output.get(name), e);
    }
    if (output.get(name).stream().noneMatch(l -> l.startsWith(prefix))) {
      throw new AssertionError(name + " ended before printing " + prefix + "; its output: " + output.get(name));
    }
  }

  @Test
  void proxylessClientReachesBothNetworksThroughTheGatewayAndStaysHomeWhenTheGatewayGoes() throws Exception {
    network();
    int port = Mesh.freePort();
    int gatewayPort = Mesh.freePort();
    Path c1 = Files.createTempDirectory("weft-net1");
    Path c2 = Files.createTempDirectory("weft-net2");
    Files.writeString(c1.resolve("reviews.yaml"), workload(port, "network-1") + """
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
        """);
    Files.writeString(c2.resolve("reviews.yaml"), workload(port, "network-2"));
    Files.writeString(c2.resolve("gateway.yaml"), """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-eastwestgateway
          namespace: istio-system
          labels: {topology.istio.io/network: network-2, networking.istio.io/gatewayPort: "%d", istio: eastwestgateway}
        spec:
          externalIPs: [198.18.100.2]
          ports: [{name: tls, port: 15443}]
        """.formatted(gatewayPort));
    Path tokens = Files.createTempFile("weft-tokens", ".yaml");
    Files.writeString(tokens, """
        - {token: t-frontend, namespace: default, serviceAccount: frontend}
        - {token: t-reviews, namespace: default, serviceAccount: reviews}
        """);
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(c1).withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", c2))
        .withCa(new ControlPlaneOptions.Ca(Files.createTempDirectory("weft-ca"), tokens, 0)));
    Path root = Files.createTempFile("weft-root", ".pem");
    Files.writeString(root, Pem.encode(cp.ca().roots()));

    String w = NetworkWorkload.class.getName();
    child(n1, "server1", w, "server", "reviews-net1", DATA_IP, "network-1", "reviews", mgmt1 + ":" + cp.xdsPort(),
        mgmt1 + ":" + cp.securePort(), root.toString(), "t-reviews", String.valueOf(port));
    child(n2, "server2", w, "server", "reviews-net2", DATA_IP, "network-2", "reviews", mgmt2 + ":" + cp.xdsPort(),
        mgmt2 + ":" + cp.securePort(), root.toString(), "t-reviews", String.valueOf(port));
    child(n2, "gateway", "weft.cli.Main", "gateway", "--ip", "198.18.100.2", "--xds-address",
        mgmt2 + ":" + cp.xdsPort(), "--cluster-id", "cluster2", "--network", "network-2",
        "--port", String.valueOf(gatewayPort), "--health-port", "0");
    awaitLine("server1", "READY");
    awaitLine("server2", "READY");
    child(n1, "client", w, "client", "frontend-1", "198.18.1.20", "network-1", "frontend",
        mgmt1 + ":" + cp.xdsPort(), mgmt1 + ":" + cp.securePort(), root.toString(), "t-frontend", "9080");

    await().atMost(Duration.ofMinutes(4)).until(() -> output.get("client").containsAll(List.of(
        "OK reviews-net1|" + SPIFFE_FRONTEND, "OK reviews-net2|" + SPIFFE_FRONTEND)));

    // Without network-2's gateway the client has only its own network left, and no call fails.
    Files.delete(c2.resolve("gateway.yaml"));
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.registry().current().gateways().isEmpty());
    // The client has taken the change once fifty calls in a row stay home: with the gateway it
    // alternates between the networks, so a run of fifty cannot happen before.
    String home = "OK reviews-net1|" + SPIFFE_FRONTEND;
    await().atMost(Duration.ofMinutes(3)).until(() -> {
      List<String> lines = output.get("client");
      return lines.size() >= 50 && lines.subList(lines.size() - 50, lines.size()).stream().allMatch(home::equals);
    });
    // From then on every call stays home: watch the next hundred.
    int from = output.get("client").size();
    await().atMost(Duration.ofMinutes(3)).until(() -> output.get("client").size() >= from + 100);
    List<String> after = List.copyOf(output.get("client").subList(from, from + 100));
    assertThat(after).allMatch(home::equals);
    assertThat(output.get("client")).noneMatch(l -> l.startsWith("FAIL"));
  }

  static String workload(int port, String network) {
    return Yamls.service("reviews", "default", 9080, port, null) + """
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-%s, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: grpc, port: %d}]
        endpoints:
        - addresses: ["%s"]
          targetRef: {kind: Pod, name: reviews-%s}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-%s
          namespace: default
          labels: {app: reviews, security.istio.io/tlsMode: istio, topology.istio.io/network: %s}
        spec: {serviceAccountName: reviews}
        status: {podIP: %s, phase: Running}
        """.formatted(network, port, DATA_IP, network, network, network, DATA_IP);
  }
}
