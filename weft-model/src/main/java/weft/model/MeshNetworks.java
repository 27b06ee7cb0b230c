package weft.model;

import java.util.List;
import java.util.Map;

/** Istio's MeshNetworks: per network, which endpoints belong to it and its gateways. */
public record MeshNetworks(Map<String, Network> networks) {
  public MeshNetworks {
    networks = Map.copyOf(networks);
  }

  public static MeshNetworks empty() {
    return new MeshNetworks(Map.of());
  }

  /** Each endpoint source has exactly one of {@code fromCidr} or {@code fromRegistry}. */
  public record Network(List<EndpointSource> endpoints, List<Gateway> gateways) {
    public Network {
      endpoints = List.copyOf(endpoints);
      gateways = List.copyOf(gateways);
    }
  }

  public record EndpointSource(String fromCidr, String fromRegistry) {}

  /** Exactly one of {@code address} or {@code registryServiceName}; {@code locality} may be null. */
  public record Gateway(String address, String registryServiceName, int port, String locality) {}
}
