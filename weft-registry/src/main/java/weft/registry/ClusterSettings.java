package weft.registry;

/**
 * How a cluster is attached to the mesh.
 *
 * @param defaultNetwork network of endpoints that nothing else places (the {@code --network} flag); may be ""
 * @param systemNamespace namespace whose {@code topology.istio.io/network} label names the cluster's network
 */
public record ClusterSettings(String clusterId, String defaultNetwork, String systemNamespace) {}
