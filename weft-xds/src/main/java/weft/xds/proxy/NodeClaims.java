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
 *
 * <p>Beyond Istio, the kind of proxy is checked too. A router is sent every service's passthrough
 * chains and endpoints (an east-west gateway routes for the whole mesh), so a workload that could
 * call itself a router would read what its own namespace may not see; and a gateway calling itself a
 * sidecar would get a workload's config under the gateway's identity. A certificate or token names
 * no kind, so the kind follows from the service account: Istio's gateway service accounts
 * ({@link #ROUTER_SERVICE_ACCOUNTS}, in whatever namespace the gateway runs), and the account Istio's
 * gateway controller makes for a Gateway API Gateway of class {@code istio} ({@code NAME-istio}, in the
 * Gateway's namespace, while that Gateway exists), are routers' and may be nothing else; any other
 * service account may not be a router's.
 */
public final class NodeClaims {
  /**
   * The service accounts Istio's installers give gateways: the Helm gateway chart names the account
   * after the release ({@code istio-ingressgateway}, {@code istio-eastwestgateway}), the operator
   * profiles add {@code -service-account}.
   */
  public static final java.util.Set<String> ROUTER_SERVICE_ACCOUNTS = java.util.Set.of(
      "istio-ingressgateway", "istio-ingressgateway-service-account",
      "istio-egressgateway", "istio-egressgateway-service-account",
      "istio-eastwestgateway", "istio-eastwestgateway-service-account");
  private static final String ROUTER = "router";

  private NodeClaims() {}

  /**
   * The service account Istio's gateway controller gives the deployment of Gateway API Gateway
   * {@code gatewayName} of class {@code istio}: the deployment's name, {@code NAME-istio}.
   */
  public static String gatewayApiServiceAccount(String gatewayName) {
    return gatewayName + "-istio";
  }

  /** Whether an identity is a gateway's (router's), by its service account. */
  public static boolean isRouterIdentity(SpiffeId id) {
    return ROUTER_SERVICE_ACCOUNTS.contains(id.serviceAccount());
  }

  /**
   * What the node claims that the caller is not, one phrase per claim; empty when nothing.
   *
   * @param trustDomain this mesh's trust domain
   * @param aliases other names of this mesh's trust domain (MeshConfig {@code trustDomainAliases})
   */
  public static List<String> mismatches(Proxy proxy, VerifiedCaller caller, String trustDomain,
      Collection<String> aliases) {
    return mismatches(proxy, caller, trustDomain, aliases, id -> false);
  }

  /**
   * As {@link #mismatches(Proxy, VerifiedCaller, String, Collection)}, with the Gateway API gateways'
   * identities known to the mesh: {@code gatewayApiRouter} says whether an identity is the service
   * account of a Gateway API Gateway's deployment ({@link #gatewayApiServiceAccount}).
   */
  public static List<String> mismatches(Proxy proxy, VerifiedCaller caller, String trustDomain,
      Collection<String> aliases, java.util.function.Predicate<SpiffeId> gatewayApiRouter) {
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
    boolean routerNode = ROUTER.equals(proxy.kind());
    boolean routerIdentity = isRouterIdentity(id) || gatewayApiRouter.test(id);
    if (routerNode && !routerIdentity) {
      out.add("to be a router (a gateway), which service account '" + id.serviceAccount() + "' is not");
    } else if (!routerNode && routerIdentity) {
      out.add("to be a " + (proxy.kind().isEmpty() ? "sidecar" : proxy.kind()) + " but service account '"
          + id.serviceAccount() + "' is a gateway's: it may only connect as a router");
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
