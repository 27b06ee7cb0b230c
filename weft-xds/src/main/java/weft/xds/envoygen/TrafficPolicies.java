package weft.xds.envoygen;

import java.util.function.Function;
import weft.model.DestinationRule;
import weft.model.DestinationRule.TrafficPolicy;

/**
 * DestinationRule precedence as Istio merges it (util.MergeSubsetTrafficPolicy and
 * GetPortLevelTrafficPolicy): each component (load balancer, connection pool, outlier detection)
 * comes whole from the most specific place that sets it — subset port-level, subset, rule
 * port-level, rule.
 */
final class TrafficPolicies {
  private TrafficPolicies() {}

  static <T> T pick(DestinationRule dr, int port, String subset, Function<TrafficPolicy, T> component) {
    if (dr == null) return null;
    DestinationRule.Subset s = subset(dr, subset);
    if (s != null) {
      T v = fromPolicy(s.trafficPolicy(), port, component);
      if (v != null) return v;
    }
    return fromPolicy(dr.trafficPolicy(), port, component);
  }

  private static <T> T fromPolicy(TrafficPolicy policy, int port, Function<TrafficPolicy, T> component) {
    if (policy == null) return null;
    if (port > 0) {
      for (TrafficPolicy p : policy.portLevelSettings()) {
        if (p.port() == port) {
          T v = component.apply(p);
          if (v != null) return v;
        }
      }
    }
    return component.apply(policy);
  }

  static DestinationRule.Subset subset(DestinationRule dr, String name) {
    if (dr == null || name == null || name.isEmpty()) return null;
    for (DestinationRule.Subset s : dr.subsets()) {
      if (s.name().equals(name)) return s;
    }
    return null;
  }
}
