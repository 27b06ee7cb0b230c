package weft.xds.eds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import weft.registry.Locality;
import weft.registry.NetworkGateway;
import weft.registry.WorkloadEndpoint;

/** Split-horizon EDS as tables: which endpoints each network's consumers get, and their weights. */
class SplitHorizonTest {
  static WorkloadEndpoint ep(String address, String network, boolean mtls) {
    return new WorkloadEndpoint(address, 80, 8080, mtls ? Map.of("security.istio.io/tlsMode", "istio") : Map.of(),
        "c-" + network, network, Locality.parse("r1/z1"), "sa", WorkloadEndpoint.Health.HEALTHY, 0, "");
  }

  static NetworkGateway gw(String network, String address) {
    return new NetworkGateway(network, address, 15443, "c-" + network, Locality.UNKNOWN);
  }

  /** n1: 1 endpoint behind 1 gateway; n2: 2 behind 1; n3: 3 behind 2; n4: 4 endpoints and no gateway. */
  static final List<WorkloadEndpoint> FOUR_NETWORKS = List.of(
      ep("198.18.1.1", "n1", true),
      ep("198.18.2.1", "n2", true), ep("198.18.2.2", "n2", true),
      ep("198.18.3.1", "n3", true), ep("198.18.3.2", "n3", true), ep("198.18.3.3", "n3", true),
      ep("198.18.4.1", "n4", true), ep("198.18.4.2", "n4", true), ep("198.18.4.3", "n4", true),
      ep("198.18.4.4", "n4", true));
  static final Map<String, List<NetworkGateway>> GATEWAYS = Map.of(
      "n1", List.of(gw("n1", "198.19.1.100")),
      "n2", List.of(gw("n2", "198.19.2.100")),
      "n3", List.of(gw("n3", "198.19.3.100"), gw("n3", "198.19.3.101")));

  /** address:port → weight, sorted, for a consumer in {@code network}. */
  static Map<String, Integer> view(String network, List<String> notes) {
    Map<String, Integer> out = new TreeMap<>();
    for (WorkloadEndpoint e : SplitHorizon.apply(FOUR_NETWORKS, network, GATEWAYS, 80, true, notes)) {
      out.put(e.address() + ":" + e.port(), LocalityLb.weight(e));
    }
    return out;
  }

  @Test
  void consumerInNetworkOneSeesItsEndpointAndTheOtherNetworksGatewaysWeightedByWhatTheyStandFor() {
    List<String> notes = new ArrayList<>();
    // Scale 2 (the least common multiple of 1 and 2 gateways) keeps n3's two gateways whole.
    assertThat(view("n1", notes)).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "198.18.1.1:8080", 2,
        "198.19.2.100:15443", 4,
        "198.19.3.100:15443", 3, "198.19.3.101:15443", 3,
        "198.18.4.1:8080", 2, "198.18.4.2:8080", 2, "198.18.4.3:8080", 2, "198.18.4.4:8080", 2)));
    assertThat(notes).anyMatch(n -> n.contains("network n4 has no gateway"));
  }

  @Test
  void consumerInEachNetworkGetsItsOwnView() {
    assertThat(view("n2", new ArrayList<>())).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "198.18.2.1:8080", 2, "198.18.2.2:8080", 2,
        "198.19.1.100:15443", 2,
        "198.19.3.100:15443", 3, "198.19.3.101:15443", 3,
        "198.18.4.1:8080", 2, "198.18.4.2:8080", 2, "198.18.4.3:8080", 2, "198.18.4.4:8080", 2)));
    assertThat(view("n3", new ArrayList<>())).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "198.18.3.1:8080", 1, "198.18.3.2:8080", 1, "198.18.3.3:8080", 1,
        "198.19.1.100:15443", 1, "198.19.2.100:15443", 2,
        "198.18.4.1:8080", 1, "198.18.4.2:8080", 1, "198.18.4.3:8080", 1, "198.18.4.4:8080", 1)));
    assertThat(view("n4", new ArrayList<>())).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "198.18.4.1:8080", 2, "198.18.4.2:8080", 2, "198.18.4.3:8080", 2, "198.18.4.4:8080", 2,
        "198.19.1.100:15443", 2, "198.19.2.100:15443", 4,
        "198.19.3.100:15443", 3, "198.19.3.101:15443", 3)));
  }

  @Test
  void endpointsOfOtherNetworksWithoutMtlsAreLeftOutAndGatewayEndpointsCarryTlsModeIstio() {
    List<String> notes = new ArrayList<>();
    List<WorkloadEndpoint> out = SplitHorizon.apply(List.of(ep("198.18.1.1", "n1", true),
        ep("198.18.2.1", "n2", false), ep("198.18.2.2", "n2", true)), "n1", GATEWAYS, 80, true, notes);
    assertThat(out).extracting(e -> e.address() + "=" + LocalityLb.weight(e))
        .containsExactly("198.18.1.1=1", "198.19.2.100=1");
    assertThat(out.get(1).labels()).containsEntry("security.istio.io/tlsMode", "istio");
    assertThat(notes).anyMatch(n -> n.contains("without mTLS left out"));
  }

  @Test
  void sameAddressInTwoNetworksStaysTwoEndpoints() {
    List<WorkloadEndpoint> overlapping = List.of(ep("198.18.1.10", "n1", true), ep("198.18.1.10", "n4", true));
    assertThat(SplitHorizon.apply(overlapping, "n1", GATEWAYS, 80, true, new ArrayList<>()))
        .extracting(e -> e.network() + "/" + e.address()).containsExactly("n1/198.18.1.10", "n4/198.18.1.10");
  }
}
