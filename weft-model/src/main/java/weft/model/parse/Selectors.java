package weft.model.parse;

import java.util.Map;

/** The two shapes of Istio's workload selector, read and checked the same way. */
final class Selectors {
  private Selectors() {}

  /** {@code workloadSelector: {labels: ...}} (ServiceEntry, Sidecar); null when absent. */
  static Map<String, String> labels(Fields parent) {
    return read(parent, "labels", "WorkloadSelector");
  }

  /** {@code workloadSelector: {matchLabels: ...}} (DestinationRule); null when absent. */
  static Map<String, String> matchLabels(Fields parent) {
    return read(parent, "matchLabels", "WorkloadSelector");
  }

  private static Map<String, String> read(Fields parent, String field, String type) {
    if (!parent.has("workloadSelector")) {
      parent.take("workloadSelector");
      return null;
    }
    Fields selector = parent.object("workloadSelector");
    Map<String, String> labels = selector.stringMap(field);
    selector.rejectUnknown(type);
    Checks.workloadSelector(parent.report(), selector.at(field), labels);
    return labels;
  }
}
