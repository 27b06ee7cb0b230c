package weft.agent.xdsproxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.agent.testing.ManualScheduler;
import weft.agent.testing.MutableClock;
import weft.agent.xdsproxy.FakeUpstreams.FakeStream;
import weft.agent.xdsproxy.FakeUpstreams.Workload;
import weft.dns.nds.NameTable;

/**
 * The agent's DNS subscribes to Istio's name table through the proxy: one nameless resource, the whole
 * table each time. Every table that differs from the last one forwarded must reach it, even one seen
 * before, and an empty one; and the subscription (no names: wildcard) is replayed after a failover.
 */
class RelayNameTableTest {
  static final String NDS = "type.googleapis.com/istio.networking.nds.v1.NameTable";
  final ManualScheduler scheduler = new ManualScheduler(new MutableClock(Instant.parse("2026-01-01T00:00:00Z")));
  final FakeUpstreams upstreams = new FakeUpstreams();
  final Workload dns = new Workload();
  final Relay relay = new Relay(new Relay.Settings(new UpstreamAddresses(List.of("istiod.example:15010")),
      host -> new InetAddress[] {InetAddress.getByAddress(host, new byte[] {10, 0, 0, 1}),
          InetAddress.getByAddress(host, new byte[] {10, 0, 0, 2})},
      upstreams, scheduler, XdsProxy.DEFAULT_BACKOFF, Duration.ofSeconds(10), () -> 0.5, Node.getDefaultInstance()),
      dns, "dns");

  private static NameTable table(String host, String ip) {
    return NameTable.newBuilder().putTable(host, NameTable.NameInfo.newBuilder().addIps(ip).build()).build();
  }

  private void ask(String version, String nonce) {
    relay.onWorkloadRequest(DiscoveryRequest.newBuilder().setTypeUrl(NDS).setVersionInfo(version)
        .setResponseNonce(nonce).setNode(Node.newBuilder().setId("sidecar~dns")).build());
    scheduler.runDue();
  }

  private void push(FakeStream up, String version, NameTable t) {
    up.respond(DiscoveryResponse.newBuilder().setTypeUrl(NDS).setVersionInfo(version)
        .addResources(Any.pack(t, "type.googleapis.com")));
    scheduler.runDue();
  }

  private NameTable lastTable() throws Exception {
    DiscoveryResponse r = dns.last();
    return r.getResourcesCount() == 0 ? NameTable.getDefaultInstance() : r.getResources(0).unpack(NameTable.class);
  }

  @Test
  void everyChangedTableIsForwardedEvenOneSeenBeforeOrEmpty() throws Exception {
    ask("", "");
    FakeStream up = upstreams.last();
    NameTable a = table("a.example.com", "240.240.0.1");
    NameTable b = table("b.example.com", "240.240.0.2");
    push(up, "1", a);
    ask("1", dns.last().getNonce());
    push(up, "2", b);
    ask("2", dns.last().getNonce());
    push(up, "3", a);
    assertThat(dns.received).hasSize(3);
    assertThat(lastTable()).isEqualTo(a);
    ask("3", dns.last().getNonce());
    push(up, "4", NameTable.getDefaultInstance());
    assertThat(dns.received).hasSize(4);
    assertThat(lastTable().getTableCount()).isZero();
  }

  @Test
  void theSubscriptionIsReplayedAfterAFailoverAndAnEqualTableIsNotResent() throws Exception {
    ask("", "");
    FakeStream first = upstreams.last();
    NameTable a = table("a.example.com", "240.240.0.1");
    push(first, "1", a);
    ask("1", dns.last().getNonce());
    first.die();
    scheduler.runDue();
    scheduler.advance(Duration.ofMillis(200));
    FakeStream second = upstreams.last();
    assertThat(second).isNotSameAs(first);
    assertThat(second.requests).extracting(DiscoveryRequest::getTypeUrl).containsExactly(NDS);
    assertThat(second.requests.get(0).getResourceNamesList()).isEmpty();
    push(second, "1", a);
    assertThat(dns.received).as("the same table from the other control plane costs the DNS nothing").hasSize(1);
    push(second, "2", table("a.example.com", "240.240.0.9"));
    assertThat(dns.received).hasSize(2);
  }
}
