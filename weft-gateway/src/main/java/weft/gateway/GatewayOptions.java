package weft.gateway;

import java.util.Map;

/**
 * What {@code weft gateway} is started with.
 *
 * @param xdsAddress control plane's plaintext xDS address, {@code host:port} (Istio's 15010)
 * @param pod this gateway's pod name (node id)
 * @param namespace its namespace (node id, metadata NAMESPACE)
 * @param ip its IP (node id)
 * @param clusterId metadata CLUSTER_ID; empty lets the control plane use its own cluster
 * @param network metadata NETWORK; empty for none
 * @param labels metadata LABELS; a Gateway's selector matches these (istio: eastwestgateway)
 * @param bindHost address to listen on (0.0.0.0 for all)
 * @param listenPort where the gateway accepts TLS; 0 picks a free port
 * @param xdsListenerPort which xDS listener to follow: the one whose address has this port (Istio's 15443)
 * @param healthPort /healthz and /stats; 0 picks a free port
 */
public record GatewayOptions(String xdsAddress, String pod, String namespace, String ip, String clusterId,
    String network, Map<String, String> labels, String bindHost, int listenPort, int xdsListenerPort,
    int healthPort) {
  /** Istio's east-west gateway port (mTLS passthrough). */
  public static final int DEFAULT_PORT = 15443;
  /** Istio's gateway status port (/healthz/ready). */
  public static final int DEFAULT_HEALTH_PORT = 15021;

  public GatewayOptions {
    labels = Map.copyOf(labels);
    if (xdsAddress == null || xdsAddress.lastIndexOf(':') < 1) {
      throw new IllegalArgumentException("xDS address '" + xdsAddress + "' must be HOST:PORT, e.g. istiod.istio-system:15010");
    }
  }

  /** Defaults: Istio's east-west gateway (namespace istio-system, label istio=eastwestgateway, port 15443). */
  public static GatewayOptions defaults(String xdsAddress, String pod, String ip) {
    return new GatewayOptions(xdsAddress, pod, "istio-system", ip, "", "", Map.of("istio", "eastwestgateway"),
        "0.0.0.0", DEFAULT_PORT, DEFAULT_PORT, DEFAULT_HEALTH_PORT);
  }

  public GatewayOptions withNamespace(String v) {
    return new GatewayOptions(xdsAddress, pod, v, ip, clusterId, network, labels, bindHost, listenPort, xdsListenerPort, healthPort);
  }

  public GatewayOptions withCluster(String clusterId, String network) {
    return new GatewayOptions(xdsAddress, pod, namespace, ip, clusterId, network, labels, bindHost, listenPort, xdsListenerPort, healthPort);
  }

  public GatewayOptions withLabels(Map<String, String> v) {
    return new GatewayOptions(xdsAddress, pod, namespace, ip, clusterId, network, v, bindHost, listenPort, xdsListenerPort, healthPort);
  }

  public GatewayOptions withListen(String host, int port) {
    return new GatewayOptions(xdsAddress, pod, namespace, ip, clusterId, network, labels, host, port, xdsListenerPort, healthPort);
  }

  public GatewayOptions withXdsListenerPort(int v) {
    return new GatewayOptions(xdsAddress, pod, namespace, ip, clusterId, network, labels, bindHost, listenPort, v, healthPort);
  }

  public GatewayOptions withHealthPort(int v) {
    return new GatewayOptions(xdsAddress, pod, namespace, ip, clusterId, network, labels, bindHost, listenPort, xdsListenerPort, v);
  }
}
