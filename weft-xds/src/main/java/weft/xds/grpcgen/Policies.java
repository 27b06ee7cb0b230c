package weft.xds.grpcgen;

import java.util.function.Function;
import weft.model.DestinationRule;
import weft.model.DestinationRule.TrafficPolicy;

/**
 * Istio's DestinationRule precedence for one port and subset: each setting comes from the most
 * specific place that has it (subset port-level, subset, rule port-level, rule).
 */
public final class Policies {
  private Policies() {}

  public static <T> T pick(DestinationRule dr, int port, String subset, Function<TrafficPolicy, T> field) {
    if (dr == null) return null;
    if (subset != null && !subset.isEmpty()) {
      for (DestinationRule.Subset s : dr.subsets()) {
        if (s.name().equals(subset)) {
          T v = fromPolicy(s.trafficPolicy(), port, field);
          if (v != null) return v;
        }
      }
    }
    return fromPolicy(dr.trafficPolicy(), port, field);
  }

  private static <T> T fromPolicy(TrafficPolicy policy, int port, Function<TrafficPolicy, T> field) {
    if (policy == null) return null;
    for (TrafficPolicy p : policy.portLevelSettings()) {
      if (p.port() == port) {
        T v = field.apply(p);
        if (v != null) return v;
      }
    }
    return field.apply(policy);
  }

  public static DestinationRule.Subset subset(DestinationRule dr, String name) {
    if (dr == null || name == null || name.isEmpty()) return null;
    return dr.subsets().stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
  }
}
