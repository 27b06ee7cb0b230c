package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A Kubernetes v1 Service. {@code clusterIp} is null for headless or unset. {@code externalAddresses}
 * are {@code spec.externalIPs} then {@code status.loadBalancer.ingress} (IP or hostname).
 */
public record K8sService(
    ResourceId id,
    Map<String, String> labels,
    Map<String, String> annotations,
    Map<String, String> selector,
    String clusterIp,
    String type,
    List<Port> ports,
    List<String> externalAddresses)
    implements Resource {
  public K8sService {
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
    selector = Map.copyOf(selector);
    ports = List.copyOf(ports);
    externalAddresses = List.copyOf(externalAddresses);
  }

  /** {@code targetPort} is a number or a container port name; null means "same as port". */
  public record Port(String name, int port, String protocol, String appProtocol, String targetPort) {}
}
