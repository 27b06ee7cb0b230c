package weft.xds.diag;

import java.util.Map;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.xds.grpcgen.Policies;

/** A DestinationRule subset's labels, and whether a workload carries them. */
final class DrSubsets {
  private DrSubsets() {}

  static Map<String, String> labels(DestinationRule dr, String subset) {
    DestinationRule.Subset s = Policies.subset(dr, subset);
    return s == null ? Map.of() : s.labels();
  }

  static boolean matches(DestinationRule dr, String subset, Map<String, String> workloadLabels) {
    DestinationRule.Subset s = Policies.subset(dr, subset);
    return s != null && Labels.matches(s.labels(), workloadLabels);
  }
}
