package weft.registry;

/**
 * An east-west gateway: where clients of other networks reach the endpoints of {@code network}.
 * From a Service labelled {@code topology.istio.io/network} (its external addresses, port 15443 or
 * the {@code networking.istio.io/gatewayPort} label) or from MeshNetworks.
 */
public record NetworkGateway(String network, String address, int port, String clusterId, Locality locality)
    implements Comparable<NetworkGateway> {
  @Override
  public int compareTo(NetworkGateway o) {
    int c = network.compareTo(o.network);
    if (c != 0) return c;
    c = address.compareTo(o.address);
    return c != 0 ? c : Integer.compare(port, o.port);
  }
}
