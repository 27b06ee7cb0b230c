package weft.model;

import java.util.Map;

/** A Kubernetes v1 Pod, reduced to what the mesh needs. */
public record Pod(ResourceId id, Map<String, String> labels, Map<String, String> annotations, String podIp,
    String serviceAccount, String nodeName, String phase, boolean ready) implements Resource {
  public Pod {
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
  }
}
