package weft.xds.proxy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import weft.security.SpiffeId;
import weft.security.auth.VerifiedCaller;

/**
 * Whether a node's metadata claims to be someone other than the client proved to be. What a proxy
 * is sent follows from its namespace, service account and cluster, which come from its node; on the
 * secure port they must be the caller's own, or any workload could read another namespace's config.
 * Istio checks the namespace and, when given, the service account; Weft also checks the namespace
 * inside the node id, the cluster a token was reviewed in, and that the identity is in this mesh's
 * trust domain. Sidecars and routers (gateways) follow the same rule: a gateway's identity must be
 * a service account of the namespace it says it runs in. Labels are taken as given within that
 * namespace and service account, as in Istio.
 */
public final class NodeClaims {
  private NodeClaims() {}

  /**
   * What the node claims that the caller is not, one phrase per claim; empty when nothing.
   *
   * @param trustDomain this mesh's trust domain
   * @param aliases other names of this mesh's trust domain (MeshConfig {@code trustDomainAliases})
   */
  public static List<String> mismatches(Proxy proxy, VerifiedCaller caller, String trustDomain,
      Collection<String> aliases) {
    SpiffeId id = caller.id();
    List<String> out = new ArrayList<>();
    if (!id.trustDomain().equals(trustDomain) && !aliases.contains(id.trustDomain())) {
      out.add("the identity's trust domain '" + id.trustDomain() + "' is not this mesh's ('" + trustDomain + "'"
          + (aliases.isEmpty() ? "" : " or an alias " + aliases) + ")");
    }
    if (!proxy.namespace().equals(id.namespace())) {
      out.add("namespace '" + proxy.namespace() + "'");
    }
    idNamespace(proxy).filter(ns -> !ns.equals(id.namespace()) && !ns.equals(proxy.namespace()))
        .ifPresent(ns -> out.add("namespace '" + ns + "' in its node id"));
    String sa = proxy.serviceAccount();
    if (!sa.isEmpty() && !sa.equals(id.serviceAccount())) {
      // Some agents send the full SPIFFE id instead of the account's name.
      Optional<SpiffeId> asUri = SpiffeId.parse(sa);
      if (asUri.isEmpty() || !asUri.get().namespace().equals(id.namespace())
          || !asUri.get().serviceAccount().equals(id.serviceAccount())) {
        out.add("service account '" + sa + "'");
      }
    }
    if (!caller.clusterId().isEmpty() && !caller.clusterId().equals(proxy.clusterId())) {
      out.add("cluster '" + proxy.clusterId() + "' (its token was reviewed in cluster '" + caller.clusterId() + "')");
    }
    return out;
  }

  /**
   * The namespace the node id names in {@code POD.NAMESPACE}, when it names one. (The domain part,
   * {@code NAMESPACE.svc.cluster.local}, is a DNS search domain and not checked.)
   */
  private static Optional<String> idNamespace(Proxy proxy) {
    String[] parts = proxy.id().split("~", -1);
    if (parts.length != 4) return Optional.empty();
    int dot = parts[2].indexOf('.');
    return dot < 0 ? Optional.empty() : Optional.of(parts[2].substring(dot + 1));
  }
}
