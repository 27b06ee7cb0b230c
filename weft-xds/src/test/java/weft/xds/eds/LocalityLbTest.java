package weft.xds.eds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.LocalityLbSetting;
import weft.registry.Locality;
import weft.registry.WorkloadEndpoint;

/** Istio's locality priorities and weights, as tables. */
class LocalityLbTest {
  static final Locality PROXY = Locality.parse("r1/z1/s1");
  static final LocalityLbSetting ON = new LocalityLbSetting(List.of(), List.of(), List.of(), null);

  static WorkloadEndpoint ep(String address, String locality, Map<String, String> labels) {
    return new WorkloadEndpoint(address, 80, 80, labels, labels.getOrDefault("topology.istio.io/cluster", "c1"),
        labels.getOrDefault("topology.istio.io/network", ""), Locality.parse(locality), "", WorkloadEndpoint.Health.HEALTHY,
        0, "");
  }

  static List<WorkloadEndpoint> fourLocalities() {
    return List.of(ep("10.0.0.1", "r1/z1/s1", Map.of()), ep("10.0.0.2", "r1/z1/s2", Map.of()),
        ep("10.0.0.3", "r1/z2/s1", Map.of()), ep("10.0.0.4", "r2/z1/s1", Map.of()));
  }

  /** locality → priority, in output order. */
  static Map<String, Integer> priorities(List<LocalityGroup> groups) {
    Map<String, Integer> out = new LinkedHashMap<>();
    groups.forEach(g -> out.put(g.locality().toString(), g.priority()));
    return out;
  }

  @Test
  void withOutlierDetectionPrioritiesFollowProximity() {
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(fourLocalities()), PROXY, Map.of(), ON, true);
    assertThat(priorities(groups)).containsExactly(Map.entry("r1/z1/s1", 0), Map.entry("r1/z1/s2", 1),
        Map.entry("r1/z2/s1", 2), Map.entry("r2/z1/s1", 3));
  }

  @Test
  void withoutOutlierDetectionEverythingSharesOnePriority() {
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(fourLocalities()), PROXY, Map.of(), ON, false);
    assertThat(groups).allMatch(g -> g.priority() == 0 && g.weight() >= 1).hasSize(4);
  }

  @Test
  void disabledSettingLeavesOnePriorityEvenWithOutlierDetection() {
    LocalityLbSetting off = new LocalityLbSetting(List.of(), List.of(), List.of(), false);
    assertThat(LocalityLb.apply(LocalityLb.group(fourLocalities()), PROXY, Map.of(), off, true))
        .allMatch(g -> g.priority() == 0);
  }

  @Test
  void prioritiesAreContiguousWhenSomeLevelsAreMissing() {
    List<WorkloadEndpoint> eps = List.of(ep("10.0.0.1", "r1/z1/s1", Map.of()), ep("10.0.0.4", "r2/z1/s1", Map.of()));
    assertThat(priorities(LocalityLb.apply(LocalityLb.group(eps), PROXY, Map.of(), ON, true)))
        .containsExactly(Map.entry("r1/z1/s1", 0), Map.entry("r2/z1/s1", 1));
  }

  @Test
  void failoverRuleSendsOtherRegionsBelowItsTarget() {
    List<WorkloadEndpoint> eps = new ArrayList<>(fourLocalities());
    eps.add(ep("10.0.0.5", "r3/z1/s1", Map.of()));
    LocalityLbSetting failover = new LocalityLbSetting(List.of(), List.of(new LocalityLbSetting.Failover("r1", "r3")),
        List.of(), null);
    assertThat(priorities(LocalityLb.apply(LocalityLb.group(eps), PROXY, Map.of(), failover, true)))
        .containsExactly(Map.entry("r1/z1/s1", 0), Map.entry("r1/z1/s2", 1), Map.entry("r1/z2/s1", 2),
            Map.entry("r3/z1/s1", 3), Map.entry("r2/z1/s1", 4));
  }

  @Test
  void distributeSetsLocalityWeightsAndDropsUnlistedLocalities() {
    LocalityLbSetting distribute = new LocalityLbSetting(List.of(new LocalityLbSetting.Distribute("r1/z1/*",
        Map.of("r1/z1/*", 70, "r2/z1/*", 30))), List.of(), List.of(), null);
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(fourLocalities()), PROXY, Map.of(), distribute, false);
    Map<String, Integer> weights = new LinkedHashMap<>();
    groups.forEach(g -> weights.put(g.locality().toString(), g.weight()));
    // r1/z1/* covers two localities of weight 1 each: 70 shared as 35 + 35.
    assertThat(weights).containsExactly(Map.entry("r1/z1/s1", 35), Map.entry("r1/z1/s2", 35),
        Map.entry("r2/z1/s1", 30));
    assertThat(groups).allMatch(g -> g.priority() == 0);
  }

  @Test
  void failoverPriorityOnNetworkThenClusterKeepsTheProxysNetworkFirst() {
    List<WorkloadEndpoint> eps = List.of(
        ep("10.0.0.1", "r1/z1/s1", Map.of("topology.istio.io/network", "n1", "topology.istio.io/cluster", "c1")),
        ep("10.0.0.2", "r1/z1/s1", Map.of("topology.istio.io/network", "n1", "topology.istio.io/cluster", "c2")),
        ep("10.0.0.3", "r1/z1/s1", Map.of("topology.istio.io/network", "n2", "topology.istio.io/cluster", "c3")));
    LocalityLbSetting setting = new LocalityLbSetting(List.of(), List.of(),
        List.of("topology.istio.io/network", "topology.istio.io/cluster"), null);
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(eps), PROXY,
        Map.of("topology.istio.io/network", "n1", "topology.istio.io/cluster", "c1"), setting, true);
    Map<String, Integer> byAddress = new LinkedHashMap<>();
    groups.forEach(g -> g.endpoints().forEach(e -> byAddress.put(e.address(), g.priority())));
    assertThat(byAddress).containsEntry("10.0.0.1", 0).containsEntry("10.0.0.2", 1).containsEntry("10.0.0.3", 2);
  }
}
