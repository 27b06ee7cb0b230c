package weft.agent.xdsproxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.agent.testing.ManualScheduler;
import weft.agent.testing.MutableClock;
import weft.agent.xdsproxy.FakeUpstreams.FakeStream;
import weft.agent.xdsproxy.FakeUpstreams.Workload;

/** The proxy's reconnect and replay state machine, on a manual clock with hand-driven control planes. */
class RelayTest {
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  final ManualScheduler scheduler = new ManualScheduler(clock);
  final FakeUpstreams upstreams = new FakeUpstreams();
  final Workload workload = new Workload();
  /** 0.5 is no jitter at all: the delays are the policy's own. */
  double jitter = 0.5;
  Relay relay;

  @BeforeEach
  void start() {
    // One name, two addresses (as /etc/hosts with two lines gives): the relay fails over between them.
    UpstreamAddresses addresses = new UpstreamAddresses(List.of("istiod.example:15010"));
    UpstreamAddresses.Resolver resolver = host -> new InetAddress[] {
        InetAddress.getByAddress(host, new byte[] {10, 0, 0, 1}), InetAddress.getByAddress(host, new byte[] {10, 0, 0, 2})};
    Node agentKnows = Node.newBuilder().setId("from-agent").setMetadata(Struct.newBuilder()
        .putFields("CLUSTER_ID", Value.newBuilder().setStringValue("cluster1").build())
        .putFields("NAMESPACE", Value.newBuilder().setStringValue("agent-ns").build())).build();
    relay = new Relay(new Relay.Settings(addresses, resolver, upstreams, scheduler, XdsProxy.DEFAULT_BACKOFF, TIMEOUT,
        () -> jitter, agentKnows), workload, "test");
  }

  @Test
  void failoverReplaysTheSubscriptionsAndTheWorkloadSeesOnlyWhatDiffers() {
    ask(LDS, "", "", "echo:8080");
    FakeStream first = upstreams.last();
    String ldsNonce = first.respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    assertThat(workload.received).hasSize(1);
    String downNonce = workload.last().getNonce();
    assertThat(downNonce).as("the workload sees the proxy's nonces, not the upstream's").isNotEqualTo(ldsNonce);
    ask(LDS, "v1", downNonce, "echo:8080");
    assertThat(first.lastRequest().getResponseNonce()).isEqualTo(ldsNonce);
    assertThat(first.lastRequest().getVersionInfo()).isEqualTo("v1");

    ask(EDS, "", "", "outbound|8080||echo", "outbound|9090||other");
    first.respond(response(EDS, "e1", assignment("outbound|8080||echo", 1), assignment("outbound|9090||other", 1)));
    run();
    ask(EDS, "e1", workload.last().getNonce(), "outbound|8080||echo", "outbound|9090||other");
    int before = workload.received.size();

    first.die();
    run();
    assertThat(upstreams.opened).hasSize(1);
    assertThat(scheduler.nextDelay()).isEqualTo(Duration.ofMillis(200));
    scheduler.advance(Duration.ofMillis(200));
    assertThat(upstreams.opened).hasSize(2);
    FakeStream second = upstreams.last();
    assertThat(second.address).isNotEqualTo(first.address);
    assertThat(second.requests).extracting(DiscoveryRequest::getTypeUrl).containsExactly(LDS, EDS);
    assertThat(second.requests.get(0).getResponseNonce()).isEmpty();
    assertThat(second.requests.get(0).getResourceNamesList()).containsExactly("echo:8080");
    assertThat(second.requests.get(0).getVersionInfo()).as("what the workload holds").isEqualTo("v1");
    assertThat(second.requests.get(0).getNode().getId()).as("the workload's own id wins").isEqualTo("sidecar~workload");
    assertThat(second.requests.get(1).hasNode()).as("the node goes once a stream").isFalse();

    // The same listener from the other control plane: the relay ACKs it itself, the workload hears nothing.
    String again = second.respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    assertThat(workload.received).hasSize(before);
    assertThat(second.lastRequest().getResponseNonce()).isEqualTo(again);
    assertThat(second.lastRequest().getVersionInfo()).isEqualTo("v1");

    // An endpoint changed meanwhile: only that assignment reaches the workload.
    String eds = second.respond(response(EDS, "e2", assignment("outbound|8080||echo", 2), assignment("outbound|9090||other", 1)));
    run();
    assertThat(workload.received).hasSize(before + 1);
    DiscoveryResponse update = workload.last();
    assertThat(update.getResourcesCount()).isEqualTo(1);
    assertThat(ResourceDigests.nameOf(update.getResources(0).getValue())).isEqualTo("outbound|8080||echo");
    ask(EDS, "e2", update.getNonce(), "outbound|8080||echo", "outbound|9090||other");
    assertThat(second.lastRequest().getResponseNonce()).isEqualTo(eds);
    assertThat(second.lastRequest().getVersionInfo()).isEqualTo("e2");
    assertThat(workload.failed).isNull();
  }

  @Test
  void anUnansweredRequestCountsAsADeadControlPlane() {
    ask(LDS, "", "", "echo:8080");
    FakeStream silent = upstreams.last();
    scheduler.advance(TIMEOUT.minusMillis(1));
    assertThat(silent.cancelled).isNull();
    scheduler.advance(Duration.ofMillis(1));
    assertThat(silent.cancelled).contains("no response");
    scheduler.advance(Duration.ofMillis(200));
    assertThat(upstreams.opened).hasSize(2);
    assertThat(upstreams.last().address).isNotEqualTo(silent.address);
    assertThat(upstreams.last().requests).extracting(DiscoveryRequest::getTypeUrl).containsExactly(LDS);
    // A late answer from the abandoned stream is not the workload's business.
    silent.respond(response(LDS, "old", listener("echo:8080", 9)));
    run();
    assertThat(workload.received).isEmpty();
  }

  @Test
  void aTypeNoControlPlaneAnswersCostsOneSwitchAndTheRestKeepsFlowing() {
    String nameTable = "type.googleapis.com/istio.networking.nds.v1.NameTable";
    ask(LDS, "", "", "echo:8080");
    FakeStream first = upstreams.last();
    first.respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    ask(LDS, "v1", workload.last().getNonce(), "echo:8080");
    ask(nameTable, "", "", "mesh");
    // The first control plane answers listeners but never the name table: counted as stuck once.
    scheduler.advance(TIMEOUT);
    assertThat(first.cancelled).contains("no response");
    scheduler.advance(Duration.ofMillis(200));
    FakeStream second = upstreams.last();
    assertThat(second.requests).extracting(DiscoveryRequest::getTypeUrl).containsExactly(LDS, nameTable);
    second.respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    // The second does the same: the type stops counting, the relay stays where listeners are answered.
    scheduler.advance(TIMEOUT.multipliedBy(20));
    assertThat(upstreams.opened).as("no switching back and forth").hasSize(2);
    assertThat(second.cancelled).isNull();
    second.respond(response(LDS, "v2", listener("echo:8080", 2)));
    run();
    assertThat(workload.last().getVersionInfo()).as("the workload's other config keeps flowing").isEqualTo("v2");
    assertThat(workload.failed).isNull();

    // Once some control plane answers the type, it counts again.
    second.respond(response(nameTable, "n1"));
    run();
    ask(nameTable, "n1", workload.last().getNonce(), "mesh", "more");
    scheduler.advance(TIMEOUT);
    assertThat(second.cancelled).contains("no response");
  }

  @Test
  void controlPlanesThatAnswerNothingAreLeftEveryTime() {
    ask(LDS, "", "", "echo:8080");
    for (int i = 1; i <= 4; i++) {
      scheduler.advance(TIMEOUT);
      assertThat(upstreams.last().cancelled).contains("no response");
      scheduler.advance(scheduler.nextDelay());
      assertThat(upstreams.opened).hasSize(i + 1);
    }
  }

  @Test
  void anAckedStreamIsNotWatched() {
    ask(LDS, "", "", "echo:8080");
    upstreams.last().respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    ask(LDS, "v1", workload.last().getNonce(), "echo:8080");
    scheduler.advance(TIMEOUT.multipliedBy(100));
    assertThat(upstreams.opened).as("an idle control plane owes nothing").hasSize(1);
  }

  @Test
  void reconnectDelaysGrowWithJitterAndStayUnderFiveSeconds() {
    jitter = 0.999; // the longest each delay can be
    start();
    ask(LDS, "", "", "echo:8080");
    for (int i = 0; i < 12; i++) {
      upstreams.last().die();
      run();
      Duration delay = scheduler.nextDelay();
      assertThat(delay).isLessThan(Duration.ofSeconds(5)).isGreaterThan(Duration.ZERO);
      scheduler.advance(delay);
    }
    assertThat(upstreams.opened).hasSize(13);
    assertThat(scheduler.nextDelay()).isEqualTo(TIMEOUT); // the watchdog, not another reconnect
    assertThat(workload.received).isEmpty();
    assertThat(workload.failed).isNull();
  }

  @Test
  void theWorkloadsAnswerToAResponseOfADeadStreamGoesToTheEqualResponseOfTheNext() {
    ask(LDS, "", "", "echo:8080");
    upstreams.last().respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    String pendingNonce = workload.last().getNonce();
    upstreams.last().die();
    run();
    scheduler.advance(Duration.ofMillis(200));
    FakeStream second = upstreams.last();
    String equal = second.respond(response(LDS, "v1", listener("echo:8080", 1)));
    run();
    int sent = second.requests.size();
    assertThat(workload.received).hasSize(1);
    ask(LDS, "", pendingNonce, "echo:8080", Status.newBuilder().setCode(3).setMessage("bad\nlistener").build());
    assertThat(second.requests).hasSize(sent + 1);
    assertThat(second.lastRequest().getResponseNonce()).isEqualTo(equal);
    assertThat(second.lastRequest().getErrorDetail().getMessage()).isEqualTo("bad\nlistener");
    assertThat(second.lastRequest().getVersionInfo()).as("a NACK names the version last accepted").isEmpty();
  }

  @Test
  void aNackedResourceIsSentAgainByTheNextControlPlane() {
    ask(EDS, "", "", "c");
    upstreams.last().respond(response(EDS, "e1", assignment("c", 1)));
    run();
    ask(EDS, "", workload.last().getNonce(), "c", Status.newBuilder().setMessage("no").build());
    upstreams.last().die();
    run();
    scheduler.advance(Duration.ofMillis(200));
    upstreams.last().respond(response(EDS, "e1", assignment("c", 1)));
    run();
    assertThat(workload.received).hasSize(2);
  }

  @Test
  void aResourceDroppedAndAskedForAgainIsSentAgain() {
    ask(EDS, "", "", "a", "b");
    FakeStream up = upstreams.last();
    up.respond(response(EDS, "e1", assignment("a", 1), assignment("b", 1)));
    run();
    ask(EDS, "e1", workload.last().getNonce(), "a");
    ask(EDS, "e1", workload.last().getNonce(), "a", "b");
    assertThat(up.lastRequest().getResourceNamesList()).containsExactlyInAnyOrder("a", "b");
    up.respond(response(EDS, "e1", assignment("b", 1)));
    run();
    assertThat(workload.received).hasSize(2);
    assertThat(ResourceDigests.nameOf(workload.last().getResources(0).getValue())).isEqualTo("b");
  }

  @Test
  void theFirstResponseOfATypeAlwaysReachesTheWorkloadEvenWhenEmpty() {
    ask(LDS, "", "", "missing:80");
    upstreams.last().respond(response(LDS, "v0"));
    run();
    assertThat(workload.received).hasSize(1);
    assertThat(workload.last().getResourcesCount()).isZero();
  }

  @Test
  void theAgentFillsInTheNodeWhereTheWorkloadSaysNothing() {
    ask(LDS, "", "", "echo:8080");
    Node sent = upstreams.last().requests.get(0).getNode();
    assertThat(sent.getId()).isEqualTo("sidecar~workload");
    assertThat(sent.getMetadata().getFieldsMap().get("NAMESPACE").getStringValue()).isEqualTo("default");
    assertThat(sent.getMetadata().getFieldsMap().get("CLUSTER_ID").getStringValue()).isEqualTo("cluster1");
  }

  @Test
  void aRequestWithoutATypeOrWithTooManyTypesEndsOnlyThatWorkloadStream() {
    ask(LDS, "", "", "echo:8080");
    for (int i = 0; i < Relay.MAX_TYPES - 1; i++) ask("type.googleapis.com/t" + i, "", "", "x");
    assertThat(workload.failed).isNull();
    ask("type.googleapis.com/one-too-many", "", "", "x");
    assertThat(workload.failed.getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
    assertThat(upstreams.last().cancelled).isNotNull();

    Workload other = new Workload();
    Relay second = new Relay(new Relay.Settings(new UpstreamAddresses(List.of("127.0.0.1:1")), InetAddress::getAllByName,
        upstreams, scheduler, XdsProxy.DEFAULT_BACKOFF, TIMEOUT, () -> 0.5, Node.getDefaultInstance()), other, "other");
    second.onWorkloadRequest(DiscoveryRequest.newBuilder().setTypeUrl("x".repeat(Relay.MAX_TYPE_URL_LENGTH + 1)).build());
    run();
    assertThat(other.failed.getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void subscriptionsPastTheNameBudgetEndTheStream() {
    String name = "n".repeat(1 << 16);
    List<String> many = new java.util.ArrayList<>();
    for (int i = 0; i < Relay.MAX_NAME_BYTES / name.length() / 2; i++) many.add(name + i);
    ask(EDS, "", "", many, null);
    assertThat(workload.failed).as("half the budget is allowed").isNull();
    ask("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "", "", many, null);
    assertThat(workload.failed.getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
    assertThat(workload.failed.getDescription()).contains("bytes of resource names");
  }

  @Test
  void theWorkloadsNodeWinsAndTheAgentsGeneratorIsNotImposedOnAClientThatSaysNone() {
    Node proxyless = Node.newBuilder().setId("from-agent").setMetadata(Struct.newBuilder()
        .putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build())
        .putFields("CLUSTER_ID", Value.newBuilder().setStringValue("cluster2").build())).build();
    relay = new Relay(new Relay.Settings(new UpstreamAddresses(List.of("istiod.example:15010")),
        host -> new InetAddress[] {InetAddress.getByAddress(host, new byte[] {10, 0, 0, 1})}, upstreams, scheduler,
        XdsProxy.DEFAULT_BACKOFF, TIMEOUT, () -> jitter, proxyless), workload, "test");
    relay.onWorkloadRequest(DiscoveryRequest.newBuilder().setTypeUrl(LDS)
        .setNode(Node.newBuilder().setId("router~198.18.100.2~eastwest.istio-system~istio-system.svc.cluster.local")
            .setMetadata(Struct.newBuilder().putFields("NAMESPACE", Value.newBuilder().setStringValue("istio-system")
                .build())))
        .build());
    run();
    Node sent = upstreams.last().requests.get(0).getNode();
    assertThat(sent.getId()).startsWith("router~");
    assertThat(sent.getMetadata().getFieldsMap()).containsKeys("NAMESPACE", "CLUSTER_ID").doesNotContainKey("GENERATOR");
  }

  private void ask(String type, String version, String nonce, String... names) {
    ask(type, version, nonce, List.of(names), null);
  }

  private void ask(String type, String version, String nonce, String name1, Status nack) {
    ask(type, version, nonce, List.of(name1), nack);
  }

  private void ask(String type, String version, String nonce, String name1, String name2, Status nack) {
    ask(type, version, nonce, List.of(name1, name2), nack);
  }

  private void ask(String type, String version, String nonce, List<String> names, Status nack) {
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(type).setVersionInfo(version)
        .setResponseNonce(nonce).addAllResourceNames(names)
        .setNode(Node.newBuilder().setId("sidecar~workload").setMetadata(Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("default").build())));
    if (nack != null) b.setErrorDetail(nack);
    relay.onWorkloadRequest(b.build());
    run();
  }

  private void run() {
    scheduler.runDue();
  }

  static DiscoveryResponse.Builder response(String type, String version, Any... resources) {
    return DiscoveryResponse.newBuilder().setTypeUrl(type).setVersionInfo(version).addAllResources(List.of(resources));
  }

  static Any listener(String name, int generation) {
    return Any.pack(Listener.newBuilder().setName(name).setStatPrefix("g" + generation).build());
  }

  static Any assignment(String cluster, int generation) {
    return Any.pack(ClusterLoadAssignment.newBuilder().setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder().setPriority(generation)).build());
  }
}
