package weft.agent.xdsproxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.agent.testing.ManualScheduler;
import weft.agent.testing.MutableClock;
import weft.agent.xdsproxy.FakeUpstreams.DeltaWorkload;
import weft.agent.xdsproxy.FakeUpstreams.FakeDeltaStream;

/** Delta relaying across control planes, on a manual clock with hand-driven control planes. */
class DeltaRelayTest {
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  final ManualScheduler scheduler = new ManualScheduler(new MutableClock(Instant.parse("2026-01-01T00:00:00Z")));
  final FakeUpstreams upstreams = new FakeUpstreams();
  final DeltaWorkload workload = new DeltaWorkload();
  DeltaRelay relay;

  @BeforeEach
  void start() {
    UpstreamAddresses addresses = new UpstreamAddresses(List.of("istiod.example:15010"));
    UpstreamAddresses.Resolver resolver = host -> new InetAddress[] {
        InetAddress.getByAddress(host, new byte[] {10, 0, 0, 1}), InetAddress.getByAddress(host, new byte[] {10, 0, 0, 2})};
    Node agentKnows = Node.newBuilder().setId("from-agent").setMetadata(Struct.newBuilder()
        .putFields("CLUSTER_ID", Value.newBuilder().setStringValue("cluster1").build())).build();
    relay = new DeltaRelay(new Relay.Settings(addresses, resolver, upstreams, scheduler, XdsProxy.DEFAULT_BACKOFF,
        TIMEOUT, () -> 0.5, agentKnows), workload, "test");
  }

  @Test
  void afterAFailoverTheNewControlPlaneIsToldWhatTheWorkloadHoldsAndOnlyRealChangesReachIt() {
    // Envoy's wildcard CDS: an empty first subscription.
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setNode(Node.newBuilder().setId("sidecar~workload")));
    FakeDeltaStream first = upstreams.lastDelta();
    assertThat(first.requests.get(0).getNode().getId()).isEqualTo("sidecar~workload");
    assertThat(first.requests.get(0).getNode().getMetadata().getFieldsMap()).containsKey("CLUSTER_ID");
    String upNonce = first.respond(response(CDS, cluster("a", "1"), cluster("b", "1"), cluster("c", "1")));
    run();
    assertThat(workload.received).hasSize(1);
    String downNonce = workload.last().getNonce();
    assertThat(downNonce).isNotEqualTo(upNonce);
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(downNonce));
    assertThat(first.lastRequest().getResponseNonce()).as("the ACK goes up under the upstream's nonce").isEqualTo(upNonce);
    assertThat(first.lastRequest().getResourceNamesSubscribeList()).isEmpty();

    first.die();
    run();
    scheduler.advance(Duration.ofMillis(200));
    FakeDeltaStream second = upstreams.lastDelta();
    assertThat(second.address).isNotEqualTo(first.address);
    DeltaDiscoveryRequest replay = second.requests.get(0);
    assertThat(replay.getTypeUrl()).isEqualTo(CDS);
    assertThat(replay.getResourceNamesSubscribeList()).as("still the legacy wildcard").isEmpty();
    assertThat(replay.getInitialResourceVersionsMap()).isEqualTo(Map.of("a", "1", "b", "1", "c", "1"));
    assertThat(replay.getNode().getId()).isEqualTo("sidecar~workload");

    // b changed and c went away while the workload was on the old control plane; a is the same.
    String changes = second.respond(response(CDS, cluster("a", "1"), cluster("b", "2")).addRemovedResources("c")
        .addRemovedResources("never-held"));
    run();
    assertThat(workload.received).hasSize(2);
    DeltaDiscoveryResponse update = workload.last();
    assertThat(update.getResourcesList()).extracting(Resource::getName).containsExactly("b");
    assertThat(update.getRemovedResourcesList()).as("only what really went away").containsExactly("c");
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).setResponseNonce(update.getNonce()));
    assertThat(second.lastRequest().getResponseNonce()).isEqualTo(changes);

    // A response with nothing new is ACKed by the relay; the workload hears nothing.
    String same = second.respond(response(CDS, cluster("a", "1")));
    run();
    assertThat(workload.received).hasSize(2);
    assertThat(second.lastRequest().getResponseNonce()).isEqualTo(same);
    assertThat(workload.failed).isNull();
  }

  @Test
  void namedSubscriptionsAreReplayedAndAnUnsubscribedNameIsNotClaimed() {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).addResourceNamesSubscribe("x").addResourceNamesSubscribe("y")
        .setNode(Node.newBuilder().setId("sidecar~workload")));
    FakeDeltaStream first = upstreams.lastDelta();
    first.respond(response(EDS, cluster("x", "1"), cluster("y", "1")));
    run();
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).setResponseNonce(workload.last().getNonce())
        .addResourceNamesUnsubscribe("y").addResourceNamesSubscribe("z"));
    assertThat(first.lastRequest().getResourceNamesSubscribeList()).containsExactly("z");
    assertThat(first.lastRequest().getResourceNamesUnsubscribeList()).containsExactly("y");

    scheduler.advance(TIMEOUT); // z is never answered: this control plane is stuck
    assertThat(first.cancelled).contains("no response");
    scheduler.advance(Duration.ofMillis(200));
    DeltaDiscoveryRequest replay = upstreams.lastDelta().requests.get(0);
    assertThat(replay.getResourceNamesSubscribeList()).containsExactly("x", "z");
    assertThat(replay.getInitialResourceVersionsMap()).isEqualTo(Map.of("x", "1"));
  }

  @Test
  void aNackedResourceIsSentAgainByTheNextControlPlane() {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).addResourceNamesSubscribe("x")
        .setNode(Node.newBuilder().setId("sidecar~workload")));
    upstreams.lastDelta().respond(response(EDS, cluster("x", "1")));
    run();
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(EDS).setResponseNonce(workload.last().getNonce())
        .setErrorDetail(Status.newBuilder().setMessage("bad\nendpoint")));
    assertThat(upstreams.lastDelta().lastRequest().getErrorDetail().getMessage()).isEqualTo("bad\nendpoint");
    upstreams.lastDelta().die();
    run();
    scheduler.advance(Duration.ofMillis(200));
    assertThat(upstreams.lastDelta().requests.get(0).getInitialResourceVersionsMap())
        .as("a version the workload refused is not claimed").isEmpty();
    upstreams.lastDelta().respond(response(EDS, cluster("x", "1")));
    run();
    assertThat(workload.received).hasSize(2);
  }

  @Test
  void aWorkloadThatReconnectsToTheProxyDeclaresWhatItHoldsAndItsFirstAnswerAlwaysComes() {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(CDS).putInitialResourceVersions("a", "1")
        .setNode(Node.newBuilder().setId("sidecar~workload")));
    FakeDeltaStream up = upstreams.lastDelta();
    assertThat(up.requests.get(0).getInitialResourceVersionsMap()).isEqualTo(Map.of("a", "1"));
    up.respond(response(CDS, cluster("a", "1")));
    run();
    assertThat(workload.received).as("the first response of a type goes even with nothing new").hasSize(1);
    assertThat(workload.last().getResourcesCount()).isZero();
  }

  private void send(DeltaDiscoveryRequest.Builder r) {
    relay.onWorkloadRequest(r.build());
    run();
  }

  private void run() {
    scheduler.runDue();
  }

  private static DeltaDiscoveryResponse.Builder response(String type, Resource... resources) {
    return DeltaDiscoveryResponse.newBuilder().setTypeUrl(type).setSystemVersionInfo("sys")
        .addAllResources(List.of(resources));
  }

  private static Resource cluster(String name, String version) {
    return Resource.newBuilder().setName(name).setVersion(version)
        .setResource(Any.pack(Cluster.newBuilder().setName(name).setAltStatName(version).build())).build();
  }
}
