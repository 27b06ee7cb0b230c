package weft.gateway.route;

/** One cluster of a filter chain's tcp_proxy and its share of new connections (1 for a lone cluster). */
public record ClusterWeight(String cluster, int weight) {
  public ClusterWeight {
    if (cluster == null || cluster.isEmpty()) throw new IllegalArgumentException("cluster name is empty");
    if (weight <= 0) throw new IllegalArgumentException("weight of " + cluster + " must be positive, was " + weight);
  }
}
