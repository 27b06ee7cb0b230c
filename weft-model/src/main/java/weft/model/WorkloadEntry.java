package weft.model;

import java.util.Map;

/**
 * A {@code networking.istio.io} WorkloadEntry. Its spec is also the shape of a ServiceEntry's
 * inline endpoint. {@code weight} is 0 when unset.
 */
public record WorkloadEntry(ResourceId id, Spec spec) implements Resource {
  public record Spec(String address, Map<String, Integer> ports, Map<String, String> labels, String network,
      String locality, int weight, String serviceAccount) {
    public Spec {
      ports = Map.copyOf(ports);
      labels = Map.copyOf(labels);
    }
  }
}
