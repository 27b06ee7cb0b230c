package weft.controlplane;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import weft.model.MeshConfig;
import weft.registry.MeshService;
import weft.registry.MeshSnapshot;
import weft.registry.NetworkGateway;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.security.meshes.ExportDocument;
import weft.security.meshes.ExportedService;
import weft.security.meshes.MeshNames;
import weft.security.meshes.MeshPeer;
import weft.xds.security.Identities;

/**
 * What this mesh exports to one peer, a pure function of the snapshot: the Services and
 * ServiceEntries labelled {@code weft.io/export-to} with the peer's mesh id, a comma list holding
 * it, or {@code *}. Nothing is exported by default, and nothing imported from another mesh is passed
 * on.
 */
final class MeshExports {
  static final String EXPORT_LABEL = "weft.io/export-to";

  /** A service the label names for the peer, exported or left out with the reason. */
  record Decision(String host, String declaredBy, String label, ExportedService exported, String leftOut) {}

  private MeshExports() {}

  /** The label's value names this peer. */
  static boolean names(String label, String peerMeshId) {
    if (label == null) return false;
    for (String part : label.split(",", 64)) {
      String p = part.strip();
      if (p.equals("*") || p.equals(peerMeshId)) return true;
    }
    return false;
  }

  static List<Decision> decide(MeshSnapshot snapshot, String peerMeshId) {
    MeshConfig mesh = snapshot.meshConfig();
    List<Decision> out = new ArrayList<>();
    for (ServiceView sv : snapshot.services().values()) {
      MeshService s = sv.service();
      String label = s.labels().get(EXPORT_LABEL);
      if (!names(label, peerMeshId)) continue;
      String by = (s.origin() == MeshService.Origin.KUBERNETES ? "Service " : "ServiceEntry ") + s.namespace() + "/"
          + s.name();
      if (s.clusters().equals(Set.of(ControlPlaneMeshes.IMPORT_CLUSTER))) continue; // never re-export an import
      String why = null;
      List<String> identities = new ArrayList<>();
      for (String id : Identities.of(mesh, s.namespace(), sv.endpoints())) {
        if (MeshNames.isSpiffeIdIn(id, mesh.trustDomain())) identities.add(id);
      }
      if (s.meshExternal()) {
        why = "MESH_EXTERNAL: it is not this mesh's workload, so no identity of ours vouches for it";
      } else if (!MeshNames.isDnsName(s.hostname()) || !MeshNames.isLabel(s.name())) {
        why = "its host or name is not a DNS name a peer can import";
      } else if (identities.isEmpty()) {
        why = "no endpoint with a service account yet, so there is no identity a peer could check";
      }
      List<ExportedService.Port> ports = s.ports().stream()
          .map(p -> new ExportedService.Port(MeshNames.isLabel(p.name()) ? p.name() : "", p.number(),
              p.protocol() == null ? "" : p.protocol().toUpperCase(java.util.Locale.ROOT)))
          .toList();
      ExportedService e = why != null ? null : new ExportedService(s.name(), s.namespace(), s.hostname(), ports,
          identities, gateways(snapshot, sv));
      out.add(new Decision(s.hostname(), by, label, e, why));
    }
    return out;
  }

  static ExportDocument document(MeshSnapshot snapshot, String peerMeshId) {
    MeshConfig mesh = snapshot.meshConfig();
    List<ExportedService> list = decide(snapshot, peerMeshId).stream().filter(d -> d.exported() != null)
        .map(Decision::exported).toList();
    return new ExportDocument(mesh.effectiveMeshId(), mesh.trustDomain(), list);
  }

  /** The east-west gateways of the networks the service's endpoints are in (all of them for endpoints without one). */
  private static List<MeshPeer.Gateway> gateways(MeshSnapshot snapshot, ServiceView sv) {
    Set<String> networks = new TreeSet<>();
    boolean anyNetwork = false;
    for (WorkloadEndpoint e : sv.endpoints()) {
      if (e.network() == null || e.network().isEmpty()) anyNetwork = true; else networks.add(e.network());
    }
    boolean any = anyNetwork;
    TreeSet<MeshPeer.Gateway> out = new TreeSet<>();
    snapshot.gateways().forEach((network, list) -> {
      if (!any && !networks.contains(network)) return;
      for (NetworkGateway g : list) {
        if (MeshNames.isIpLiteral(g.address()) && MeshNames.isPort(g.port())) {
          out.add(new MeshPeer.Gateway(g.address(), g.port()));
        }
      }
    });
    return List.copyOf(out);
  }
}
