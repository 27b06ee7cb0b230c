package weft.model.parse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.LocalityLbSetting;

/** Istio's LocalityLoadBalancerSetting, shared by DestinationRule and MeshConfig. */
final class LocalityLbParser {
  private static final Set<String> TOPOLOGY_LABELS = Set.of("topology.kubernetes.io/region",
      "topology.kubernetes.io/zone", "topology.istio.io/subzone");

  private LocalityLbParser() {}

  /**
   * Reads the setting; null when absent. {@code outlierDetection} tells whether failover can work
   * (Envoy only fails over away from endpoints that outlier detection has ejected).
   */
  static LocalityLbSetting read(Fields f, boolean outlierDetection) {
    if (!f.present()) return null;
    Report report = f.report();
    List<LocalityLbSetting.Distribute> distribute = new ArrayList<>();
    List<String> sources = new ArrayList<>();
    for (Fields d : f.objects("distribute")) {
      String from = d.string("from", "");
      Map<String, Long> raw = d.integerMap("to", 1, 100, "each locality weight must be from 1 to 100");
      d.rejectUnknown("LocalityLoadBalancerSetting.Distribute");
      long total = raw.values().stream().mapToLong(Long::longValue).sum();
      if (!raw.isEmpty() && total != 100) {
        report.error(d.at("to"), "the weights of " + d.at("to") + " add up to " + total + "; within one distribute "
            + "entry they must add up to 100");
      }
      Map<String, Integer> to = new LinkedHashMap<>();
      raw.forEach((k, v) -> to.put(k, v.intValue()));
      localities(report, d.at("to"), new ArrayList<>(to.keySet()));
      sources.add(from);
      distribute.add(new LocalityLbSetting.Distribute(from, to));
    }
    localities(report, f.at("distribute"), sources);
    List<LocalityLbSetting.Failover> failover = new ArrayList<>();
    for (Fields fo : f.objects("failover")) {
      String from = fo.string("from", "");
      String to = fo.string("to", "");
      fo.rejectUnknown("LocalityLoadBalancerSetting.Failover");
      if (from.equals(to)) {
        report.error(fo.path(), "failover from and to are both \"" + from + "\"; name two different regions");
      }
      if (from.contains("/") || to.contains("/")) {
        report.error(fo.path(), "failover names regions only (no zone or subzone after '/'); got from \"" + from
            + "\" to \"" + to + "\"");
      }
      if (from.contains("*") || to.contains("*")) {
        report.error(fo.path(), "failover regions cannot contain '*'; name the regions");
      }
      failover.add(new LocalityLbSetting.Failover(from, to));
    }
    List<String> failoverPriority = f.strings("failoverPriority");
    Boolean enabled = f.bool("enabled");
    f.rejectUnknown("LocalityLoadBalancerSetting");
    if (!distribute.isEmpty() && !failover.isEmpty()) {
      report.error(f.path(), "distribute and failover cannot both be set; keep one of them");
    }
    if (!failover.isEmpty()) {
      for (String label : failoverPriority) {
        if (TOPOLOGY_LABELS.contains(label)) {
          report.error(f.at("failoverPriority"), "failover cannot be combined with topology label " + label
              + " in failoverPriority; drop one of them");
          break;
        }
      }
    }
    if ((!failover.isEmpty() || !failoverPriority.isEmpty()) && !outlierDetection) {
      report.warn(f.path(), "locality failover only happens when outlier detection is configured; add "
          + "trafficPolicy.outlierDetection");
    }
    return new LocalityLbSetting(distribute, failover, failoverPriority, enabled);
  }

  /**
   * Localities are region/zone/subzone; a '*' may only end one. Two entries overlap when one covers the
   * other (e.g. "us-east" and "us-east/zone1"), which Istio refuses.
   */
  private static void localities(Report report, String where, List<String> localities) {
    List<List<String>> seen = new ArrayList<>();
    for (String locality : localities) {
      long stars = locality.chars().filter(c -> c == '*').count();
      if (stars > 1 || (stars == 1 && !locality.endsWith("*"))) {
        report.error(where, "locality \"" + locality + "\" may contain at most one '*', at its end");
        return;
      }
      List<String> parts = new ArrayList<>(Arrays.asList(locality.split("/", 3)));
      if (parts.stream().anyMatch(String::isEmpty)) {
        report.error(where, "locality \"" + locality + "\" has an empty region, zone or subzone; write it as "
            + "region/zone/subzone");
        return;
      }
      if (parts.get(parts.size() - 1).equals("*")) parts.remove(parts.size() - 1);
      for (List<String> other : seen) {
        int n = Math.min(other.size(), parts.size());
        if (other.subList(0, n).equals(parts.subList(0, n))) {
          report.error(where, "locality \"" + locality + "\" overlaps an earlier entry; list each locality once");
          return;
        }
      }
      seen.add(parts);
    }
  }
}
