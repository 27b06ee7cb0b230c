package weft.xds.security;

import java.util.Map;
import java.util.function.BiConsumer;
import weft.model.Labels;
import weft.model.PeerAuthentication;

/**
 * The mutual-TLS mode a workload accepts on a port, composed as Istio's ComposePeerAuthentication
 * does: the mesh-wide policy (root namespace, no selector), then the namespace-wide one, then the
 * workload's own (a matching selector in its namespace), then that policy's {@code portLevelMtls}
 * entry for the workload port; each level that says UNSET inherits the one before, and with no
 * policy at all the mode is PERMISSIVE.
 */
public final class PeerAuthentications {
  private PeerAuthentications() {}

  /**
   * @param port the workload (container) port, as {@code portLevelMtls} keys it
   * @param drop told about policies that lose to another at the same level
   */
  public static MtlsMode mode(SecurityPolicies policies, String rootNamespace, String namespace,
      Map<String, String> labels, int port, BiConsumer<String, String> drop) {
    PeerAuthentication mesh = null;
    PeerAuthentication namespaceWide = null;
    PeerAuthentication workload = null;
    for (PeerAuthentication pa : policies.peerAuthentications()) {
      String ns = pa.id().namespace();
      if (pa.selector() == null) {
        if (ns.equals(rootNamespace)) {
          mesh = first(mesh, pa, drop);
        } else if (ns.equals(namespace)) {
          namespaceWide = first(namespaceWide, pa, drop);
        }
      } else if (ns.equals(namespace) && !ns.equals(rootNamespace) && Labels.matches(pa.selector(), labels)) {
        // Istio ignores selector policies in the root namespace for mTLS (they are neither mesh nor workload level).
        workload = first(workload, pa, drop);
      }
    }
    MtlsMode mode = MtlsMode.PERMISSIVE;
    mode = inherit(mode, mesh == null ? null : mesh.mode());
    mode = inherit(mode, namespaceWide == null ? null : namespaceWide.mode());
    if (workload != null) {
      mode = inherit(mode, workload.mode());
      mode = inherit(mode, workload.portLevelMtls().get(port));
    }
    return mode;
  }

  private static MtlsMode inherit(MtlsMode parent, String mode) {
    if (mode == null) return parent;
    return switch (mode) {
      case "DISABLE" -> MtlsMode.DISABLE;
      case "PERMISSIVE" -> MtlsMode.PERMISSIVE;
      case "STRICT" -> MtlsMode.STRICT;
      default -> parent; // UNSET
    };
  }

  /** Istio keeps the oldest policy of a level; Weft has no creation times and keeps the first by name. */
  private static PeerAuthentication first(PeerAuthentication kept, PeerAuthentication next,
      BiConsumer<String, String> drop) {
    if (kept == null) return next;
    drop.accept(next.id().toString(), "ignored: " + kept.id() + " applies at the same level (Istio keeps the "
        + "oldest; Weft, without creation times, keeps the first by name); merge them into one policy");
    return kept;
  }
}
