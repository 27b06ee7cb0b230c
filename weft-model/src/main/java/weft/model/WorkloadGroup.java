package weft.model;

import java.util.Map;

/**
 * A {@code networking.istio.io} WorkloadGroup: the template of the WorkloadEntries that workloads
 * joining the group (VMs, agents naming it in their node metadata) are registered with.
 *
 * @param labels {@code metadata.labels} every registered entry carries (besides the template's)
 * @param annotations {@code metadata.annotations} every registered entry carries
 * @param template the entry template; its {@code address} is always null (the workload's own IP fills it)
 * @param probe true when a readiness {@code probe} is set (accepted; Weft does not run health checks)
 */
public record WorkloadGroup(ResourceId id, Map<String, String> labels, Map<String, String> annotations,
    WorkloadEntry.Spec template, boolean probe) implements Resource {
  public WorkloadGroup {
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
  }
}
