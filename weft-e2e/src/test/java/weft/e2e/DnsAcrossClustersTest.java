package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsTransport;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.dns.nds.NameTable;
import weft.dns.server.DnsServer;
import weft.dns.server.MeshNames;
import weft.security.ca.Pem;

/**
 * The seed's "DNS with multiple clusters": a client resolves a name before the mesh can route it, and
 * a service whose pods run only in another cluster still resolves. A real control plane with two
 * clusters (files), the agent of a workload in cluster 1 answering DNS from the name table it gets
 * over xDS, queried with dnsjava as any resolver would.
 */
class DnsAcrossClustersTest {
  static final String CLUSTER1 = """
      apiVersion: v1
      kind: Service
      metadata: {name: both, namespace: default}
      spec: {clusterIP: 10.96.1.1, ports: [{name: grpc, port: 9080}]}
      ---
      """;
  static final String CLUSTER2 = """
      apiVersion: v1
      kind: Service
      metadata: {name: echo, namespace: default}
      spec: {clusterIP: 10.97.2.2, ports: [{name: grpc, port: 9080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: both, namespace: default}
      spec: {clusterIP: 10.97.1.1, ports: [{name: grpc, port: 9080}]}
      ---
      """;
  final List<AutoCloseable> closeables = new ArrayList<>();
  ControlPlane cp;
  DnsServer upstream;
  WeftAgent agent;

  @BeforeEach
  void start() throws Exception {
    Path c1 = Files.createTempDirectory("weft-dns-c1");
    Path c2 = Files.createTempDirectory("weft-dns-c2");
    Files.writeString(c1.resolve("services.yaml"), CLUSTER1);
    Files.writeString(c2.resolve("services.yaml"), CLUSTER2);
    Path tokens = Files.createTempFile("weft-tokens", ".yaml");
    Files.writeString(tokens, "- {token: t-frontend, namespace: default, serviceAccount: frontend}\n");
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(c1).withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", c2))
        .withCa(new ControlPlaneOptions.Ca(Files.createTempDirectory("weft-dns-ca"), tokens, 0)));
    closeables.add(0, cp);
    MeshNames outside = MeshNames.compile(NameTable.newBuilder()
        .putTable("example.org", NameTable.NameInfo.newBuilder().addIps("192.0.2.80").build()).build(), "");
    upstream = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .names(c -> outside).start();
    closeables.add(0, upstream);
    WorkloadIdentity frontend = WorkloadIdentity.builder().namespace("default").serviceAccount("frontend")
        .podName("frontend-1").ip("127.0.0.1").clusterId("cluster1").label("app", "frontend").build();
    agent = WeftAgent.startStandalone(AgentOptions.builder().identity(frontend)
        .caAddress("localhost:" + cp.securePort())
        .rootCertificatePem(Pem.encode(cp.ca().roots()).getBytes(StandardCharsets.US_ASCII))
        .token("t-frontend").outputDir(Files.createTempDirectory("weft-dns-agent"))
        .startTimeout(Duration.ofSeconds(60))
        .xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .dnsPort(0).dnsUpstreams(List.of(upstream.address())).build());
    closeables.add(0, agent);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) c.close();
  }

  private AgentOptions.Builder agentOptions() throws Exception {
    WorkloadIdentity frontend = WorkloadIdentity.builder().namespace("default").serviceAccount("frontend")
        .podName("frontend-2").ip("127.0.0.1").clusterId("cluster1").label("app", "frontend").build();
    return AgentOptions.builder().identity(frontend)
        .caAddress("localhost:" + cp.securePort())
        .rootCertificatePem(Pem.encode(cp.ca().roots()).getBytes(StandardCharsets.US_ASCII))
        .token("t-frontend").outputDir(Files.createTempDirectory("weft-dns-agent"))
        .startTimeout(Duration.ofSeconds(60))
        .xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .dnsUpstreams(List.of(upstream.address()));
  }

  private Message ask(String name, int type) throws Exception {
    SimpleResolver r = new SimpleResolver(agent.dns().orElseThrow().address());
    r.setTimeout(Duration.ofSeconds(10));
    return r.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
  }

  private List<String> a(String name) throws Exception {
    return ask(name, Type.A).getSection(Section.ANSWER).stream().map(Record::rdataToString).toList();
  }

  @Test
  void aServiceOnlyInClusterTwoResolvesToItsClusterTwoVipFromAnAgentOfClusterOne() throws Exception {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .untilAsserted(() -> assertThat(a("echo.default.svc.cluster.local.")).containsExactly("10.97.2.2"));
    Message m = ask("echo.default.svc.cluster.local.", Type.A);
    assertThat(m.getHeader().getFlag(Flags.AA)).isTrue();
    // The search-path forms of a workload in default answer the same.
    assertThat(a("echo.default.")).containsExactly("10.97.2.2");
    assertThat(a("echo.")).containsExactly("10.97.2.2");
    // A service in both clusters: the agent's own cluster's VIP.
    assertThat(a("both.default.svc.cluster.local.")).containsExactly("10.96.1.1");
    // SRV for the service's named port, from the ports the control plane puts in the table.
    Message srv = ask("_grpc._tcp.echo.default.svc.cluster.local.", Type.SRV);
    assertThat(srv.getSection(Section.ANSWER)).singleElement().satisfies(r -> {
      assertThat(((org.xbill.DNS.SRVRecord) r).getPort()).isEqualTo(9080);
      assertThat(((org.xbill.DNS.SRVRecord) r).getTarget()).hasToString("echo.default.svc.cluster.local.");
    });
    assertThat(srv.getSection(Section.ADDITIONAL).stream().map(Record::rdataToString)).contains("10.97.2.2");
  }

  /**
   * A plain process (glibc's resolver, through {@code getent}) in a network namespace whose
   * resolv.conf names the agent. glibc only asks port 53; here the agent listens on port 53 of the
   * host's end of a veth link into the namespace (the README's setup runs it inside the namespace on
   * 127.0.0.1:53; what glibc does is the same).
   */
  @Test
  void aPlainProcessInANetworkNamespaceResolvesAMeshNameThroughTheAgent() throws Exception {
    MultiNetworkNamespacesTest.needsRootAndIp();
    long pid = ProcessHandle.current().pid();
    String ns = "weft-dns-" + pid;
    String tag = String.valueOf(pid % 100000);
    int third = 200 + (int) (pid % 50);
    int fourth = (int) (pid / 50 % 60) * 4;
    String hostSide = "198.18." + third + "." + (fourth + 1);
    String nsSide = "198.18." + third + "." + (fourth + 2);
    Path netnsDir = Path.of("/etc/netns", ns);
    Process add = new ProcessBuilder("ip", "netns", "add", ns).redirectErrorStream(true).start();
    String refused = new String(add.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    org.junit.jupiter.api.Assumptions.assumeTrue(add.waitFor() == 0 || !refused.contains("Operation not permitted"),
        "skipped: this root cannot create network namespaces (" + refused.trim() + ")");
    closeables.add(() -> {
      MultiNetworkNamespacesTest.ip(false, "netns", "del", ns);
      MultiNetworkNamespacesTest.ip(false, "link", "del", "wd" + tag + "a");
      Files.deleteIfExists(netnsDir.resolve("resolv.conf"));
      Files.deleteIfExists(netnsDir);
    });
    if (add.exitValue() != 0) throw new java.io.IOException("ip netns add " + ns + " failed: " + refused);
    MultiNetworkNamespacesTest.ip(true, "link", "add", "wd" + tag + "a", "type", "veth", "peer", "name", "wd" + tag + "b");
    MultiNetworkNamespacesTest.ip(true, "link", "set", "wd" + tag + "b", "netns", ns);
    MultiNetworkNamespacesTest.ip(true, "addr", "add", hostSide + "/30", "dev", "wd" + tag + "a");
    MultiNetworkNamespacesTest.ip(true, "link", "set", "wd" + tag + "a", "up");
    MultiNetworkNamespacesTest.ip(true, "-n", ns, "addr", "add", nsSide + "/30", "dev", "wd" + tag + "b");
    MultiNetworkNamespacesTest.ip(true, "-n", ns, "link", "set", "wd" + tag + "b", "up");
    MultiNetworkNamespacesTest.ip(true, "-n", ns, "link", "set", "lo", "up");
    Files.createDirectories(netnsDir);
    Files.writeString(netnsDir.resolve("resolv.conf"), "nameserver " + hostSide + "\noptions timeout:2 attempts:3\n");

    WeftAgent onPort53 = WeftAgent.startStandalone(agentOptions().dnsPort(53)
        .dnsListenAddress(InetAddress.getByName(hostSide)).build());
    closeables.add(0, onPort53);
    await().atMost(Duration.ofSeconds(60)).until(() -> onPort53.dns().orElseThrow().names()
        .lookup(Name.fromString("echo.default.svc.cluster.local.")) != null);

    Process getent = new ProcessBuilder("ip", "netns", "exec", ns, "getent", "ahostsv4",
        "echo.default.svc.cluster.local").redirectErrorStream(true).start();
    String out = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(getent.waitFor()).as(out).isZero();
    assertThat(out.lines().map(l -> l.split("\\s+")[0]).distinct().toList()).containsExactly("10.97.2.2");
    assertThat(onPort53.dns().orElseThrow().server().queries()).isPositive();
  }

  @Test
  void unknownClusterNamesAreNxdomainAndOtherNamesGoUpstream() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> agent.dns().orElseThrow().tablesAccepted() > 0);
    assertThat(ask("nobody.default.svc.cluster.local.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(upstream.queries()).isZero();
    assertThat(a("example.org.")).containsExactly("192.0.2.80");
    assertThat(upstream.queries()).isEqualTo(1);
  }
}
