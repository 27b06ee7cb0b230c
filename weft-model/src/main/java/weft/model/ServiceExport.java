package weft.model;

/**
 * A {@code multicluster.x-k8s.io/v1alpha1} ServiceExport (KEP-1645): the Service of the same name and
 * namespace in the same cluster is exported to the clusterset. It has no spec; its status is written
 * by the MCS controller.
 *
 * @param creationTimestamp {@code metadata.creationTimestamp} as written (RFC 3339), "" when unset:
 *     the oldest export decides a conflicting port definition, as the KEP says
 */
public record ServiceExport(ResourceId id, String creationTimestamp) implements Resource {
  public ServiceExport {
    creationTimestamp = creationTimestamp == null ? "" : creationTimestamp;
  }
}
