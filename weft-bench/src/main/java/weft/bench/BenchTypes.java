package weft.bench;

/** xDS type URLs the harness subscribes to. */
final class BenchTypes {
  static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  private BenchTypes() {}
}
