package weft.model;

import java.util.List;

/** A {@code discovery.k8s.io/v1} EndpointSlice; {@code serviceName} comes from label kubernetes.io/service-name. */
public record EndpointSlice(ResourceId id, String serviceName, String addressType, List<Port> ports, List<Endpoint> endpoints)
    implements Resource {
  public EndpointSlice {
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
  }

  public record Port(String name, int port, String protocol) {}

  /**
   * Conditions follow Kubernetes: a null {@code ready} means ready; {@code serving} defaults to
   * {@code ready}; {@code terminating} defaults to false. {@code podName} comes from targetRef (kind Pod).
   * {@code hostname} is the endpoint's own DNS label (a StatefulSet pod's), null when unset.
   */
  public record Endpoint(List<String> addresses, Boolean ready, Boolean serving, Boolean terminating,
      String nodeName, String zone, String podName, String hostname) {
    public Endpoint {
      addresses = List.copyOf(addresses);
    }

    /** An endpoint without a hostname. */
    public Endpoint(List<String> addresses, Boolean ready, Boolean serving, Boolean terminating, String nodeName,
        String zone, String podName) {
      this(addresses, ready, serving, terminating, nodeName, zone, podName, null);
    }
  }
}
