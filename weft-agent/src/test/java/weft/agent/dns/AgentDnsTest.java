package weft.agent.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.testing.FakeNameTables;
import weft.agent.testing.TestMesh;
import weft.dns.nds.NameTable;
import weft.dns.server.DnsServer;
import weft.dns.server.MeshNames;

/** {@code weft agent --dns-port}: the workload's DNS answered from its name table, the rest forwarded. */
public class AgentDnsTest {
  @TempDir Path tmp;
  private TestMesh mesh;
  private FakeNameTables controlPlane;
  private DnsServer upstream;

  static NameTable.NameInfo service(String name, String ns, List<String> ips, NameTable.Port... ports) {
    return NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry("Kubernetes").setShortname(name)
        .setNamespace(ns).addAllWeftPorts(List.of(ports)).build();
  }

  public static NameTable table() {
    return NameTable.newBuilder()
        .putTable("echo.default.svc.cluster.local", service("echo", "default", List.of("10.96.0.10", "fd00::10"),
            NameTable.Port.newBuilder().setName("grpc").setNumber(7070).setProtocol("GRPC").build()))
        .putTable("db.data.svc.cluster.local", service("db", "data", List.of("10.96.0.20")))
        .putTable("api.example.com", NameTable.NameInfo.newBuilder().addIps("240.240.1.2").build())
        .build();
  }

  @BeforeEach
  void start() throws Exception {
    mesh = TestMesh.start(tmp, Clock.systemUTC());
    controlPlane = new FakeNameTables(table());
    NameTable upstreamZone = NameTable.newBuilder()
        .putTable("example.org", NameTable.NameInfo.newBuilder().addIps("192.0.2.80").build()).build();
    MeshNames upstreamNames = MeshNames.compile(upstreamZone, "");
    upstream = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .names(c -> upstreamNames).start();
  }

  @AfterEach
  void stop() throws Exception {
    upstream.close();
    controlPlane.close();
    mesh.close();
  }

  private AgentOptions.Builder options() {
    return AgentOptions.builder().identity(TestMesh.frontend()).caAddress(mesh.address())
        .rootCertificateFile(mesh.rootFile).token(TestMesh.FRONTEND_TOKEN).outputDir(tmp.resolve("out"))
        .startTimeout(Duration.ofSeconds(30)).xdsServer(controlPlane.address(), XdsTransport.PLAINTEXT)
        .dnsPort(0).dnsUpstreams(List.of(upstream.address()));
  }

  static Message ask(InetSocketAddress server, String name, int type) throws Exception {
    SimpleResolver r = new SimpleResolver(server);
    r.setTimeout(Duration.ofSeconds(10));
    return r.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
  }

  private static List<String> answers(Message m) {
    return m.getSection(Section.ANSWER).stream().map(Record::rdataToString).toList();
  }

  private static void awaitTable(WeftAgent agent) {
    await().atMost(Duration.ofSeconds(30)).until(() -> agent.dns().orElseThrow().tablesAccepted() > 0);
  }

  @Test
  void theAgentAnswersMeshNamesFromItsTableWithSearchForms() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      Message a = ask(dns, "echo.default.svc.cluster.local.", Type.A);
      assertThat(answers(a)).containsExactly("10.96.0.10");
      assertThat(a.getHeader().getFlag(Flags.AA)).isTrue();
      assertThat(answers(ask(dns, "echo.default.svc.cluster.local.", Type.AAAA))).containsExactly("fd00:0:0:0:0:0:0:10");
      // Relative to the workload's namespace (default): all three search forms.
      for (String form : List.of("echo.", "echo.default.", "echo.default.svc.")) {
        assertThat(answers(ask(dns, form, Type.A))).as(form).containsExactly("10.96.0.10");
      }
      assertThat(answers(ask(dns, "db.data.", Type.A))).containsExactly("10.96.0.20");
      assertThat(answers(ask(dns, "api.example.com.", Type.A))).containsExactly("240.240.1.2");
      Message srv = ask(dns, "_grpc._tcp.echo.default.svc.cluster.local.", Type.SRV);
      assertThat(((SRVRecord) srv.getSection(Section.ANSWER).get(0)).getPort()).isEqualTo(7070);
      Message ptr = ask(dns, ReverseMap.fromAddress("10.96.0.10").toString(), Type.PTR);
      assertThat(((PTRRecord) ptr.getSection(Section.ANSWER).get(0)).getTarget())
          .hasToString("echo.default.svc.cluster.local.");
    }
  }

  @Test
  void itsSubscriptionAsksForTheNameTableWithIstiosDnsMetadata() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().build())) {
      awaitTable(agent);
      DiscoveryRequest first = controlPlane.requests.stream()
          .filter(r -> r.getTypeUrl().equals(FakeNameTables.TYPE_URL)).findFirst().orElseThrow();
      assertThat(first.getResourceNamesList()).as("wildcard, as Istio's agent asks").isEmpty();
      var md = controlPlane.nodes.get(0).getMetadata().getFieldsMap();
      assertThat(controlPlane.nodes.get(0).getId()).isEqualTo(TestMesh.frontend().nodeId());
      assertThat(md.get(DnsMetadata.DNS_CAPTURE).getStringValue()).isEqualTo("true");
      assertThat(md.get(DnsMetadata.DNS_AUTO_ALLOCATE).getStringValue()).isEqualTo("true");
      assertThat(md.get("NAMESPACE").getStringValue()).isEqualTo("default");
      // The workload's own bootstrap carries the same metadata: its config is that of a DNS-capturing proxy.
      assertThat(agent.bootstrap().toJson()).contains("\"DNS_CAPTURE\"").contains("\"DNS_AUTO_ALLOCATE\"");
      // And the table was ACKed with its version.
      await().atMost(Duration.ofSeconds(60)).until(() -> controlPlane.requests.stream()
          .anyMatch(r -> r.getResponseNonce().equals("n1") && r.getVersionInfo().equals("v1")));
    }
  }

  @Test
  void otherNamesAreForwardedToTheUpstreamAndCached() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      Message first = ask(dns, "example.org.", Type.A);
      assertThat(answers(first)).containsExactly("192.0.2.80");
      assertThat(first.getHeader().getFlag(Flags.AA)).as("not ours: not authoritative").isFalse();
      assertThat(answers(ask(dns, "example.org.", Type.A))).containsExactly("192.0.2.80");
      assertThat(upstream.queries()).as("the second answer came from the cache").isEqualTo(1);
    }
  }

  @Test
  void unknownClusterNamesAreNxdomainAndNeverLeaveTheAgent() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      Message m = ask(dns, "nobody.default.svc.cluster.local.", Type.A);
      assertThat(m.getRcode()).isEqualTo(Rcode.NXDOMAIN);
      // glibc's search expansion of a short name: also ours to refuse, never the upstream's.
      assertThat(ask(dns, "echo.default.svc.cluster.local.default.svc.cluster.local.", Type.A).getRcode())
          .isEqualTo(Rcode.NXDOMAIN);
      assertThat(upstream.queries()).isZero();
    }
  }

  @Test
  void theLastTableKeepsAnsweringWhileTheControlPlaneIsDownAndANewOneArrivesWhenItIsBack() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().xdsProxyPort(0).build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      controlPlane.stop();
      await().atMost(Duration.ofSeconds(30)).until(() -> !agent.xdsProxy().orElseThrow().answering());
      assertThat(answers(ask(dns, "echo.default.svc.cluster.local.", Type.A))).containsExactly("10.96.0.10");
      assertThat(answers(ask(dns, "echo.", Type.A))).containsExactly("10.96.0.10");

      NameTable moved = table().toBuilder()
          .putTable("echo.default.svc.cluster.local", service("echo", "default", List.of("10.96.0.99"))).build();
      controlPlane.push(moved); // nobody is connected: the next stream gets it
      controlPlane.restart();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(answers(ask(dns, "echo.default.svc.cluster.local.", Type.A))).containsExactly("10.96.0.99"));
    }
  }

  @Test
  void aTableThatGoesBackToAnEarlierOneOrEmptyReachesTheDns() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().xdsProxyPort(0).build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      NameTable other = NameTable.newBuilder()
          .putTable("other.default.svc.cluster.local", service("other", "default", List.of("10.96.0.30"))).build();
      controlPlane.push(other);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(answers(ask(dns, "other.", Type.A))).containsExactly("10.96.0.30"));
      long before = agent.dns().orElseThrow().tablesAccepted();
      controlPlane.push(table());
      // Each push is a table accepted by the agent's DNS (the proxy must not hold back one it saw before).
      await().atMost(Duration.ofSeconds(30)).until(() -> agent.dns().orElseThrow().tablesAccepted() == before + 1);
      assertThat(ask(dns, "other.", Type.A).getRcode()).isNotEqualTo(Rcode.NOERROR);
      assertThat(answers(ask(dns, "echo.", Type.A))).containsExactly("10.96.0.10");
      controlPlane.push(NameTable.getDefaultInstance());
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(ask(dns, "echo.default.svc.cluster.local.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN));
    }
  }

  @Test
  void aBrokenTableIsRejectedAndTheLastGoodOneKeepsAnswering() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().xdsProxyPort(0).build())) {
      awaitTable(agent);
      InetSocketAddress dns = agent.dns().orElseThrow().address();
      controlPlane.pushRaw(com.google.protobuf.Any.newBuilder().setTypeUrl(FakeNameTables.TYPE_URL)
          .setValue(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0xFF, (byte) 0xFF, 1})).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> controlPlane.requests.stream()
          .anyMatch(r -> r.hasErrorDetail() && r.getErrorDetail().getMessage().contains("does not parse")));
      controlPlane.pushRaw(com.google.protobuf.Any.pack(com.google.protobuf.StringValue.of("not a table")));
      await().atMost(Duration.ofSeconds(30)).until(() -> controlPlane.requests.stream()
          .anyMatch(r -> r.hasErrorDetail() && r.getErrorDetail().getMessage().contains("google.protobuf.StringValue")));
      assertThat(answers(ask(dns, "echo.", Type.A))).containsExactly("10.96.0.10");
    }
  }

  @Test
  void malformedPacketsAndAFloodAgainstTheAgentsPortCostOthersNothing() throws Exception {
    try (WeftAgent agent = WeftAgent.startStandalone(options().dnsRateLimit(5, 5).build());
        java.net.DatagramSocket flooder = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      awaitTable(agent);
      var server = agent.dns().orElseThrow().server();
      InetSocketAddress dns = server.address();
      byte[] garbage = "\u0000\u0001not dns at all, a pointer loop follows".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      byte[] loop = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xC0, 12, 0, 1, 0, 1};
      flooder.send(new java.net.DatagramPacket(garbage, garbage.length, dns));
      flooder.send(new java.net.DatagramPacket(loop, loop.length, dns));
      byte[] q = Message.newQuery(Record.newRecord(Name.fromString("echo."), Type.A, DClass.IN)).toWire();
      for (int i = 0; i < 200; i++) {
        flooder.send(new java.net.DatagramPacket(q, q.length, dns));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> server.queries() >= 202);
      assertThat(server.rateLimited()).isGreaterThan(150);
      // Another source is answered at once: the flood spent only the flooder's own budget.
      SimpleResolver other = new SimpleResolver(dns);
      other.setLocalAddress(InetAddress.getByName("127.0.0.2"));
      other.setTimeout(Duration.ofSeconds(10));
      Message m = other.send(Message.newQuery(Record.newRecord(Name.fromString("echo."), Type.A, DClass.IN)));
      assertThat(answers(m)).containsExactly("10.96.0.10");
    }
  }

  @Test
  void inProcessGrpcResolvesMeshNamesThroughTheDnsSchemeAndOthersThroughGrpcsOwn() throws Exception {
    // The table maps a mesh name to where the fake control plane listens: a gRPC server to call.
    NameTable withLocal = table().toBuilder()
        .putTable("cp.default.svc.cluster.local", service("cp", "default", List.of("127.0.0.1"))).build();
    controlPlane.push(withLocal);
    try (WeftAgent agent = WeftAgent.start(options().build())) {
      await().atMost(Duration.ofSeconds(30)).until(() ->
          agent.dns().orElseThrow().names().lookup(Name.fromString("cp.default.svc.cluster.local.")) != null);
      for (String target : List.of("dns:///cp.default.svc.cluster.local:" + controlPlane.port(),
          "dns:///cp:" + controlPlane.port(), "cp.default:" + controlPlane.port(), "dns:///localhost:" + controlPlane.port())) {
        assertThat(callsTheControlPlane(target)).as(target).isTrue();
      }
    }
  }

  /** Opens an ADS stream on {@code target} and waits for the fake's answer: the name resolved to it. */
  private static boolean callsTheControlPlane(String target) throws Exception {
    ManagedChannel ch = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    try {
      LinkedBlockingQueue<Object> got = new LinkedBlockingQueue<>();
      StreamObserver<DiscoveryRequest> req = AggregatedDiscoveryServiceGrpc.newStub(ch).streamAggregatedResources(
          new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse value) {
              got.add(value);
            }

            @Override
            public void onError(Throwable t) {
              got.add(t);
            }

            @Override
            public void onCompleted() {}
          });
      req.onNext(DiscoveryRequest.newBuilder().setTypeUrl(FakeNameTables.TYPE_URL).build());
      Object first = got.poll(30, TimeUnit.SECONDS);
      req.onCompleted();
      return first instanceof DiscoveryResponse;
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theAgentsOwnDnsIsNeverItsUpstream() throws Exception {
    Path resolv = tmp.resolve("resolv.conf");
    // The netns case: resolv.conf names the agent itself (127.0.0.1 on the port it will take).
    int port;
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Files.writeString(resolv, "nameserver 127.0.0.1\nnameserver " + upstream.address().getAddress().getHostAddress() + "\n");
    try (WeftAgent agent = WeftAgent.startStandalone(options().dnsPort(port).dnsUpstreams(null).resolvConf(resolv)
        .build())) {
      // 127.0.0.1:53 is kept (it is not this server unless the agent listens on 53); our own port is not listed.
      assertThat(agent.dns().orElseThrow().server().upstreams()).allMatch(u -> u.getPort() == 53);
    }
    try (WeftAgent agent = WeftAgent.startStandalone(options().dnsPort(port)
        .dnsUpstreams(List.of(new InetSocketAddress("127.0.0.1", port), upstream.address())).build())) {
      assertThat(agent.dns().orElseThrow().server().upstreams()).containsExactly(upstream.address());
    }
  }
}
