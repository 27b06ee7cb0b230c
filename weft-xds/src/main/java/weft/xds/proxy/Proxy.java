package weft.xds.proxy;

import java.util.Map;
import weft.registry.Locality;

/**
 * A connected client as its node identity describes it. Everything a generator may use about the
 * client is here; nothing about the control plane's own cluster is.
 *
 * @param kind {@code sidecar} or {@code router}, from the node id
 * @param proxyless true for {@code GENERATOR=grpc} (grpc-java's xDS client and server)
 */
public record Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId,
    String network, Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless,
    String dnsDomain) {
  public Proxy {
    labels = Map.copyOf(labels);
  }
}
