package weft.xds.eds;

import java.util.List;
import weft.registry.Locality;
import weft.registry.WorkloadEndpoint;

/**
 * Endpoints of one locality at one priority, with the locality's weight: the unit Envoy and
 * grpc-java balance over. {@code weight} is never 0 when sent (grpc-java drops such localities).
 */
public record LocalityGroup(Locality locality, int priority, int weight, List<WorkloadEndpoint> endpoints) {
  public LocalityGroup {
    endpoints = List.copyOf(endpoints);
  }

  LocalityGroup withPriority(int p) {
    return new LocalityGroup(locality, p, weight, endpoints);
  }

  LocalityGroup withWeight(int w) {
    return new LocalityGroup(locality, priority, w, endpoints);
  }
}
