package weft.model;

import java.util.Map;

/** A Kubernetes v1 Node; its labels carry region, zone and subzone. */
public record Node(ResourceId id, Map<String, String> labels) implements Resource {
  public Node {
    labels = Map.copyOf(labels);
  }
}
