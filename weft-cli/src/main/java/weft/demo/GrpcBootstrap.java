package weft.demo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * gRPC xDS bootstrap documents in Istio's conventions, for a proxyless client or server that talks
 * to a Weft control plane over plaintext.
 */
public final class GrpcBootstrap {
  /** Istio's server listener name template; grpc-java fills in IP:PORT. */
  public static final String SERVER_LISTENER_TEMPLATE = "xds.istio.io/grpc/lds/inbound/%s";

  private GrpcBootstrap() {}

  /**
   * @param xdsAddress host:port of the control plane
   * @param podName workload name, used in the Istio node id
   * @param ip the workload's address, used in the Istio node id
   */
  public static Map<String, Object> of(String xdsAddress, String podName, String namespace, String ip,
      String clusterId, String network, Map<String, String> labels) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("GENERATOR", "grpc");
    metadata.put("NAMESPACE", namespace);
    metadata.put("CLUSTER_ID", clusterId);
    if (!network.isEmpty()) metadata.put("NETWORK", network);
    metadata.put("LABELS", labels);
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("id", "sidecar~" + ip + "~" + podName + "." + namespace + "~" + namespace + ".svc.cluster.local");
    node.put("metadata", metadata);
    node.put("locality", Map.of());
    Map<String, Object> server = new LinkedHashMap<>();
    server.put("server_uri", xdsAddress);
    server.put("channel_creds", List.of(Map.of("type", "insecure")));
    server.put("server_features", List.of("xds_v3"));
    Map<String, Object> bootstrap = new LinkedHashMap<>();
    bootstrap.put("xds_servers", List.of(server));
    bootstrap.put("node", node);
    bootstrap.put("server_listener_resource_name_template", SERVER_LISTENER_TEMPLATE);
    return bootstrap;
  }
}
