package weft.model;

import java.util.List;

/**
 * A Gateway API {@code gateway.networking.k8s.io/v1beta1} ReferenceGrant: objects of the {@code from}
 * kinds in the named namespaces may refer to objects of the {@code to} kinds in this one.
 */
public record ReferenceGrant(ResourceId id, List<From> from, List<To> to) implements Resource {
  public ReferenceGrant {
    from = List.copyOf(from);
    to = List.copyOf(to);
  }

  public record From(String group, String kind, String namespace) {}

  /** {@code name} null means every object of the kind. */
  public record To(String group, String kind, String name) {}
}
