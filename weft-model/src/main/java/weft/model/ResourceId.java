package weft.model;

/** Identifies one configuration resource: its kind (e.g. {@code VirtualService}), namespace and name. */
public record ResourceId(String kind, String namespace, String name) implements Comparable<ResourceId> {
  public ResourceId {
    namespace = namespace == null ? "" : namespace;
  }

  @Override
  public int compareTo(ResourceId o) {
    int c = kind.compareTo(o.kind);
    if (c != 0) return c;
    c = namespace.compareTo(o.namespace);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return kind + " " + (namespace.isEmpty() ? "" : namespace + "/") + name;
  }
}
