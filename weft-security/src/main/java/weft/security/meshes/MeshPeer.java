package weft.security.meshes;

import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * Another mesh whose exported services this mesh imports, as a {@code MeshFederation} resource
 * declares it.
 *
 * @param meshId the peer's mesh id (its MeshConfig {@code defaultConfig.meshId}); imports are named
 *     {@code NAME.NS.svc.MESH_ID.SUFFIX}
 * @param trustDomain the peer's trust domain; its roots come from the {@code TrustDomainFederation}
 *     of that domain, and every identity the peer exports must be in it
 * @param federationUrl the peer control plane's federation endpoint (its {@code --bundle-port}):
 *     where it serves what it exports to us
 * @param endpointSpiffeId the SPIFFE id that endpoint must present
 * @param gateways the east-west gateways through which the peer's exported services are reached;
 *     when empty, the gateways the peer serves with each service are used
 * @param source where it was declared (file and resource), for messages
 */
public record MeshPeer(String meshId, String trustDomain, URI federationUrl, String endpointSpiffeId,
    List<Gateway> gateways, String source) {
  public MeshPeer {
    Objects.requireNonNull(meshId, "meshId");
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(federationUrl, "federationUrl");
    Objects.requireNonNull(endpointSpiffeId, "endpointSpiffeId");
    gateways = List.copyOf(gateways);
    Objects.requireNonNull(source, "source");
  }

  /** An east-west gateway: an IP address and its mTLS passthrough port (Istio's 15443). */
  public record Gateway(String address, int port) implements Comparable<Gateway> {
    @Override
    public int compareTo(Gateway o) {
      int c = address.compareTo(o.address);
      return c != 0 ? c : Integer.compare(port, o.port);
    }

    @Override
    public String toString() {
      return address.contains(":") ? "[" + address + "]:" + port : address + ":" + port;
    }
  }
}
