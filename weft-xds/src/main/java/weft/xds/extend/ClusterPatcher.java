package weft.xds.extend;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import java.util.List;
import weft.model.EnvoyFilter;

/**
 * CLUSTER patches on one cluster, with Istio's match rules (cluster_patch.go): by exact name when the
 * match names one, else by the parts of {@code DIRECTION|PORT|SUBSET|HOST} (service, subset, port).
 * MERGE keeps Istio's special case for the transport socket: the patch's TLS context is merged into
 * the cluster's when both name the same socket, where plain merge would replace it.
 */
final class ClusterPatcher {
  private final List<Step> steps;
  private final PatchContext context;
  private final Findings findings;

  ClusterPatcher(List<Step> steps, PatchContext context, Findings findings) {
    this.steps = steps;
    this.context = context;
    this.findings = findings;
  }

  /** The cluster patched, or null when a patch removed it. */
  Cluster patch(Cluster cluster) {
    Cluster c = cluster;
    for (Step s : steps) {
      if (!s.patch().applyTo().equals("CLUSTER") || !s.inContext(context) || !matches(c, s.match().cluster())) {
        continue;
      }
      switch (s.op()) {
        case "MERGE" -> {
          Cluster cur = c;
          try {
            c = merge(cur, s.value(Cluster.class));
          } catch (RuntimeException e) {
            findings.patch(s.filter(), s.patch(), "could not be applied to cluster " + cur.getName() + ": "
                + e.getMessage());
          }
        }
        case "REPLACE" -> c = s.value(Cluster.class);
        case "REMOVE" -> {
          return null;
        }
        default -> { }
      }
    }
    return c;
  }

  private static Cluster merge(Cluster cluster, Cluster patch) {
    if (patch.hasTransportSocket() && cluster.hasTransportSocket()
        && patch.getTransportSocket().getName().equals(cluster.getTransportSocket().getName())
        && patch.getTransportSocket().hasTypedConfig()) {
      TransportSocket merged = cluster.getTransportSocket().toBuilder().setTypedConfig(ProtoMerge.mergeTypedConfig(
          cluster.getTransportSocket().getTypedConfig(), patch.getTransportSocket().getTypedConfig())).build();
      Cluster rest = ProtoMerge.merge(cluster, patch.toBuilder().clearTransportSocket().build());
      return rest.toBuilder().setTransportSocket(merged).build();
    }
    return ProtoMerge.merge(cluster, patch);
  }

  static boolean matches(Cluster c, EnvoyFilter.ClusterMatch m) {
    if (m == null) return true;
    if (m.name() != null) return m.name().equals(c.getName());
    String[] parts = c.getName().split("\\|", -1);
    if (parts.length != 4) return m.service() == null && m.subset() == null && m.portNumber() == 0;
    if (m.subset() != null && !m.subset().equals(parts[2])) return false;
    if (m.service() != null && !hostMatches(m.service(), parts[3])) return false;
    return m.portNumber() == 0 || parts[1].equals(Integer.toString(m.portNumber()));
  }

  /** Istio's host match: exact, or a {@code *.} wildcard covering the host. */
  private static boolean hostMatches(String pattern, String host) {
    if (pattern.equals(host) || pattern.equals("*")) return true;
    return pattern.startsWith("*.") && host.endsWith(pattern.substring(1));
  }
}
