package weft.security.meshes;

import java.util.List;
import java.util.Objects;

/**
 * One service a mesh exports to a peer, as it travels between control planes.
 *
 * @param host its name in the exporting mesh ({@code c.default.svc.cluster.local}): the importer
 *     sends it in the SNI, so the exporting mesh's gateway routes the connection unchanged
 * @param identities the SPIFFE ids of its workloads, which the importer's clients check
 * @param gateways where the exporting mesh says it is reached (the importer's MeshFederation may
 *     name its own instead)
 */
public record ExportedService(String name, String namespace, String host, List<Port> ports, List<String> identities,
    List<MeshPeer.Gateway> gateways) {
  public ExportedService {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(host, "host");
    ports = List.copyOf(ports);
    identities = List.copyOf(identities);
    gateways = List.copyOf(gateways);
  }

  /** A service port: its name (maybe empty), number and Istio protocol. */
  public record Port(String name, int number, String protocol) {
    public Port {
      name = name == null ? "" : name;
      protocol = protocol == null ? "" : protocol;
    }
  }
}
