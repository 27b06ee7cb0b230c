package weft.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SniTableTest {
  static final InetSocketAddress A = InetSocketAddress.createUnresolved("10.0.0.1", 9080);
  static final InetSocketAddress B = InetSocketAddress.createUnresolved("10.0.0.2", 9080);

  @Test
  void roundRobinStartsEachNewConnectionAtTheNextEndpointAndKeepsTheOthersAsFallbacks() {
    SniTable t = SniTable.of(Map.of("a.local", "c"), Map.of("c", List.of(A, B)));
    assertThat(t.route("a.local").pickOrder()).containsExactly(A, B);
    assertThat(t.route("a.local").pickOrder()).containsExactly(B, A);
    assertThat(t.route("a.local").pickOrder()).containsExactly(A, B);
  }

  @Test
  void unknownOrMissingSniHasNoRouteAndAClusterWithoutEndpointsHasAnEmptyOne() {
    SniTable t = SniTable.of(Map.of("a.local", "c", "b.local", "gone"), Map.of("c", List.of(A)));
    assertThat(t.route("x.local")).isNull();
    assertThat(t.route(null)).isNull();
    assertThat(t.route("b.local").endpoints()).isEmpty();
  }

  @Test
  void exactNameBeatsWildcardAndTheLongestWildcardWins() {
    SniTable t = SniTable.of(Map.of("*.local", "any", "*.svc.cluster.local", "svc", "a.svc.cluster.local", "exact"),
        Map.of());
    assertThat(t.route("A.svc.cluster.local").cluster()).isEqualTo("exact");
    assertThat(t.route("b.svc.cluster.local").cluster()).isEqualTo("svc");
    assertThat(t.route("x.local").cluster()).isEqualTo("any");
    assertThat(t.route("local")).isNull();
  }

  @Test
  void weightedClustersShareNewConnectionsByWeightAndTheChainForAnyNameTakesUnknownAndMissingNames() {
    SniTable t = SniTable.of(Map.of("a.local", List.of(new ClusterWeight("c", 1))),
        List.of(new ClusterWeight("big", 3), new ClusterWeight("small", 1)),
        Map.of("c", List.of(A), "big", List.of(A), "small", List.of(B)));
    assertThat(t.route("a.local").pick().cluster()).isEqualTo("c");
    assertThat(t.route(null)).as("no SNI, or not TLS").isSameAs(t.route("x.local"));
    java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    for (int i = 0; i < 400; i++) counts.merge(t.route(null).pick().cluster(), 1, Integer::sum);
    assertThat(counts).containsExactly(Map.entry("big", 300), Map.entry("small", 100));
    assertThat(t.serverNames()).containsExactly("a.local", "*");
  }
}
