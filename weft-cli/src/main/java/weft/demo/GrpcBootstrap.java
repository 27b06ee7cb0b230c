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
    return of(xdsAddress, podName, namespace, ip, clusterId, network, labels, "");
  }

  /** @param locality {@code region/zone/subzone} of the workload, or "" when unknown */
  public static Map<String, Object> of(String xdsAddress, String podName, String namespace, String ip,
      String clusterId, String network, Map<String, String> labels, String locality) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("GENERATOR", "grpc");
    metadata.put("NAMESPACE", namespace);
    metadata.put("CLUSTER_ID", clusterId);
    if (!network.isEmpty()) metadata.put("NETWORK", network);
    metadata.put("LABELS", labels);
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("id", "sidecar~" + ip + "~" + podName + "." + namespace + "~" + namespace + ".svc.cluster.local");
    node.put("metadata", metadata);
    String[] l = (locality + "//").split("/", -1);
    Map<String, Object> nodeLocality = new LinkedHashMap<>();
    if (!l[0].isEmpty()) nodeLocality.put("region", l[0]);
    if (!l[1].isEmpty()) nodeLocality.put("zone", l[1]);
    if (!l[2].isEmpty()) nodeLocality.put("sub_zone", l[2]);
    node.put("locality", nodeLocality);
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
