package weft.model;

import java.util.Map;

/** A Kubernetes v1 Namespace. */
public record Namespace(ResourceId id, Map<String, String> labels) implements Resource {
  public Namespace {
    labels = Map.copyOf(labels);
  }
}
