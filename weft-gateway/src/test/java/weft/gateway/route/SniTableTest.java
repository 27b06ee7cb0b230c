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
}
