package weft.xds.eds;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.model.LocalityLbSetting;
import weft.registry.Locality;
import weft.registry.WorkloadEndpoint;

/**
 * Istio's locality load balancing as a pure function of the endpoints, the proxy's locality and
 * labels, and the setting in force. One of {@code distribute} (weights) or failover (priorities)
 * applies. Failover needs outlier detection, or the client never learns to leave a priority; the
 * caller says whether it may apply. The result's priorities are contiguous from 0 and every
 * weight is at least 1, because grpc-java drops anything else.
 */
public final class LocalityLb {
  private LocalityLb() {}

  /** Groups endpoints by locality, each locality weighted by the sum of its endpoints' weights. */
  public static List<LocalityGroup> group(List<WorkloadEndpoint> endpoints) {
    Map<Locality, List<WorkloadEndpoint>> byLocality = new TreeMap<>();
    for (WorkloadEndpoint e : endpoints) byLocality.computeIfAbsent(e.locality(), l -> new ArrayList<>()).add(e);
    List<LocalityGroup> out = new ArrayList<>();
    byLocality.forEach((l, eps) -> out.add(new LocalityGroup(l, 0, eps.stream().mapToInt(LocalityLb::weight).sum(), eps)));
    return out;
  }

  static int weight(WorkloadEndpoint e) {
    return e.weight() > 0 ? e.weight() : 1;
  }

  /**
   * @param proxyLabels the proxy's labels with its topology added (network, cluster, region, zone)
   * @param setting null or disabled: plain groups, one priority
   * @param failoverAllowed whether priorities may be applied (outlier detection is configured, or
   *     the operator chose to apply them without)
   */
  public static List<LocalityGroup> apply(List<LocalityGroup> groups, Locality proxy, Map<String, String> proxyLabels,
      LocalityLbSetting setting, boolean failoverAllowed) {
    if (setting == null || Boolean.FALSE.equals(setting.enabled())) return groups;
    if (!setting.distribute().isEmpty()) return distribute(groups, proxy, setting.distribute());
    if (!failoverAllowed) return groups;
    List<LocalityGroup> out = groups;
    if (!setting.failoverPriority().isEmpty()) {
      out = failoverPriority(out, proxyLabels, setting.failoverPriority());
      if (setting.failover().isEmpty()) return contiguous(out);
    }
    return contiguous(failover(out, proxy, setting.failover()));
  }

  /** Locality weights from the first {@code distribute} rule whose {@code from} covers the proxy. */
  private static List<LocalityGroup> distribute(List<LocalityGroup> groups, Locality proxy,
      List<LocalityLbSetting.Distribute> rules) {
    for (LocalityLbSetting.Distribute rule : rules) {
      if (!matches(rule.from(), proxy)) continue;
      Map<Integer, Integer> weights = new LinkedHashMap<>();
      List<Integer> unmatched = new ArrayList<>();
      for (int i = 0; i < groups.size(); i++) unmatched.add(i);
      // Deterministic order of the target patterns, whatever map the config came in.
      for (Map.Entry<String, Integer> to : new TreeMap<>(rule.to()).entrySet()) {
        List<Integer> matched = new ArrayList<>();
        int total = 0;
        for (Integer i : List.copyOf(unmatched)) {
          if (matches(to.getKey(), groups.get(i).locality())) {
            matched.add(i);
            unmatched.remove(i);
            total += groups.get(i).weight();
          }
        }
        // A pattern covering several localities shares its percentage by their own weights.
        for (Integer i : matched) {
          double w = (double) groups.get(i).weight() * to.getValue() / total;
          if (w > 0) weights.put(i, (int) Math.ceil(w));
        }
      }
      List<LocalityGroup> out = new ArrayList<>();
      for (int i = 0; i < groups.size(); i++) {
        Integer w = weights.get(i);
        if (w != null) out.add(groups.get(i).withWeight(w));
      }
      return out;
    }
    return groups;
  }

  /**
   * Per endpoint: the number of leading labels it shares with the proxy decides its priority (all
   * matched = 0). Groups split where their endpoints land in different priorities.
   */
  private static List<LocalityGroup> failoverPriority(List<LocalityGroup> groups, Map<String, String> proxyLabels,
      List<String> labels) {
    List<LocalityGroup> out = new ArrayList<>();
    for (LocalityGroup g : groups) {
      Map<Integer, List<WorkloadEndpoint>> byPriority = new TreeMap<>();
      for (WorkloadEndpoint e : g.endpoints()) {
        int matched = 0;
        for (String label : labels) {
          String want = proxyLabels.get(label);
          if (want == null || !want.equals(e.labels().get(label))) break;
          matched++;
        }
        byPriority.computeIfAbsent(labels.size() - matched, p -> new ArrayList<>()).add(e);
      }
      byPriority.forEach((p, eps) -> out.add(new LocalityGroup(g.locality(), p, eps.stream()
          .mapToInt(LocalityLb::weight).sum(), eps)));
    }
    return out;
  }

  /**
   * Same region/zone/subzone first, then same zone, same region, the rest; a {@code failover}
   * rule for the proxy's region sends regions other than its target below all of those. Existing
   * priorities (from failoverPriority) stay the major key.
   */
  private static List<LocalityGroup> failover(List<LocalityGroup> groups, Locality proxy,
      List<LocalityLbSetting.Failover> rules) {
    List<LocalityGroup> out = new ArrayList<>();
    for (LocalityGroup g : groups) {
      int p = proximity(proxy, g.locality());
      if (p == 3) {
        for (LocalityLbSetting.Failover rule : rules) {
          if (rule.from().equals(proxy.region())) {
            if (!rule.to().equals(g.locality().region())) p = 4;
            break;
          }
        }
      }
      out.add(g.withPriority(g.priority() * 5 + p));
    }
    return out;
  }

  /** 0: same region, zone and subzone; 1: same zone; 2: same region; 3: elsewhere. */
  static int proximity(Locality proxy, Locality endpoint) {
    if (!proxy.region().equals(endpoint.region())) return 3;
    if (!proxy.zone().equals(endpoint.zone())) return 2;
    if (!proxy.subzone().equals(endpoint.subzone())) return 1;
    return 0;
  }

  /** Renumbers priorities 0..n-1 in order, as both clients require. */
  private static List<LocalityGroup> contiguous(List<LocalityGroup> groups) {
    TreeSet<Integer> used = new TreeSet<>();
    groups.forEach(g -> used.add(g.priority()));
    List<Integer> order = new ArrayList<>(used);
    List<LocalityGroup> out = new ArrayList<>();
    for (LocalityGroup g : groups) out.add(g.withPriority(order.indexOf(g.priority())));
    out.sort(Comparator.comparingInt(LocalityGroup::priority).thenComparing(LocalityGroup::locality));
    return out;
  }

  /** Istio's locality patterns: {@code region/zone/subzone} with {@code *} for any trailing part. */
  static boolean matches(String pattern, Locality locality) {
    if (pattern.equals("*")) return true;
    String[] want = pattern.split("/", -1);
    String[] have = {locality.region(), locality.zone(), locality.subzone()};
    for (int i = 0; i < want.length && i < 3; i++) {
      if (want[i].equals("*")) return true;
      if (!want[i].equals(have[i])) return false;
    }
    return true;
  }
}
