package weft.registry;

import java.util.List;

/** A service and all of its endpoints across clusters, sorted so that output is deterministic. */
public record ServiceView(MeshService service, List<WorkloadEndpoint> endpoints) {
  public ServiceView {
    endpoints = endpoints.stream().sorted().toList();
  }
}
