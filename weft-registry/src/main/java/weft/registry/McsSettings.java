package weft.registry;

/**
 * Kubernetes Multi-Cluster Services (KEP-1645), as Istio's experimental flags name its layers.
 *
 * @param discovery {@code --mcs} (Istio's {@code ENABLE_MCS_SERVICE_DISCOVERY}): a cluster's
 *     endpoints of {@code NAME.NS.svc.cluster.local} are seen from other clusters only when a
 *     ServiceExport of that Service exists in the cluster; within their own cluster always
 * @param host {@code --mcs-host} ({@code ENABLE_MCS_HOST}): {@code NAME.NS.svc.clusterset.local}
 *     exists for every exported Service, with the endpoints of every exporting cluster and no other
 * @param clusterLocal {@code --mcs-cluster-local} ({@code ENABLE_MCS_CLUSTER_LOCAL}): {@code
 *     NAME.NS.svc.cluster.local} keeps to the caller's own cluster; only the clusterset host crosses
 * @param controller {@code --mcs-controller}: the leader writes ServiceImports and ServiceExport
 *     status conditions into every cluster (otherwise another MCS controller's ServiceImports are read)
 */
public record McsSettings(boolean discovery, boolean host, boolean clusterLocal, boolean controller) {
  public static final McsSettings OFF = new McsSettings(false, false, false, false);

  /** The clusterset domain of KEP-1645. */
  public static final String CLUSTERSET_SUFFIX = "svc.clusterset.local";

  /** True when sources must read ServiceExport and ServiceImport at all. */
  public boolean reads() {
    return discovery || host || clusterLocal || controller;
  }

  /** {@code NAME.NS.svc.clusterset.local}. */
  public static String clustersetHost(String name, String namespace) {
    return name + "." + namespace + "." + CLUSTERSET_SUFFIX;
  }

  public static boolean isClustersetHost(String host) {
    return host.endsWith("." + CLUSTERSET_SUFFIX);
  }
}
