package weft.xds.eds;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.model.LocalityLbSetting;
import weft.registry.Locality;
import weft.registry.NetworkGateway;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.ClusterName;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.grpcgen.Policies;
import weft.xds.proxy.Proxy;
import weft.xds.security.UpstreamTls;
import weft.xds.view.ProxyView;

/**
 * Endpoint assignments ({@code ClusterLoadAssignment}) for one proxy, shared by the Envoy and
 * proxyless generators: subset and cluster-local filtering, health, the network rule, and
 * locality priorities and weights.
 */
public final class Assignments {
  /** Which endpoints of other networks a client may be given. */
  public enum NetworkRule {
    /** Proxyless clients have no gateway to cross networks through (Istio filters these too). */
    OWN_NETWORK_ONLY,
    /**
     * Envoy (Istio's split horizon): endpoints of the proxy's network as they are; those of a
     * network with gateways replaced by its gateways; a network without gateways taken as directly
     * reachable.
     */
    SPLIT_HORIZON
  }

  private static final System.Logger LOG = System.getLogger(Assignments.class.getName());
  private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private Assignments() {}

  /**
   * @param failoverWithoutOutlierDetection apply locality priorities even where no outlier
   *     detection is configured (the operator's choice; Istio never does)
   */
  public static Any generate(ProxyView view, String name, EndpointCache cache, NetworkRule rule,
      boolean failoverWithoutOutlierDetection) {
    ClusterName cn = ClusterName.parse(name);
    if (cn == null) {
      view.drop(name, "not an outbound|PORT|SUBSET|HOST cluster name");
      return null;
    }
    ServiceView service = view.service(cn.host());
    // A watched cluster whose service is gone or hidden gets an empty assignment: the client then
    // fails fast instead of waiting for a resource that will never come.
    if (service == null) return Any.pack(ClusterLoadAssignment.newBuilder().setClusterName(name).build());
    DestinationRule dr = view.destinationRule(cn.host());
    DestinationRule.Subset subset = Policies.subset(dr, cn.subset());
    if (!cn.subset().isEmpty() && subset == null) {
      view.drop(name, "no DestinationRule for " + cn.host() + " defines subset " + cn.subset());
    }
    Proxy proxy = view.proxy();
    LocalityLbSetting setting = effectiveSetting(dr, view, cn);
    boolean outlierDetection = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::outlierDetection) != null;
    boolean failoverAllowed = outlierDetection || failoverWithoutOutlierDetection;
    if (!failoverAllowed && setting != null && (!setting.failover().isEmpty() || !setting.failoverPriority().isEmpty())) {
      String warning = "locality failover is configured for " + cn.host() + " but "
          + (dr == null ? "no DestinationRule" : dr.id()) + " sets no outlierDetection, so clients could never "
          + "leave a priority: failover not applied. Add outlierDetection, or start the control plane with "
          + "--locality-failover-without-outlier-detection";
      view.drop(name, warning);
      // Once per host and rule, not once per proxy and push.
      if (WARNED.add(cn.host() + "|" + (dr == null ? "" : dr.id()))) LOG.log(System.Logger.Level.WARNING, warning);
    }
    Map<String, String> proxyLabels = topologyLabels(proxy);
    // A proxyless client with mTLS to this cluster can cross networks through their gateways, with
    // mTLS end to end (the SNI names the cluster); without mTLS it keeps to its own network.
    // An east-west gateway (a router with a network) forwards only to its own network's endpoints,
    // as Istio's do: it must never bounce a connection on to yet another network.
    boolean gatewayOfNetwork = proxy.kind().equals("router") && !proxy.network().isEmpty();
    boolean crossNetwork = !gatewayOfNetwork && (rule == NetworkRule.SPLIT_HORIZON
        || (!view.snapshot().gateways().isEmpty()
            && UpstreamTls.decide(view, service, cn.port(), cn.subset(), dr, name) != null));
    boolean ownNetworkOnly = gatewayOfNetwork || (rule == NetworkRule.OWN_NETWORK_ONLY && !crossNetwork);
    String onlyCluster = view.clusterLocal(cn.host()) ? proxy.clusterId() : null;
    String network = proxy.network();
    Map<String, List<NetworkGateway>> gateways = view.snapshot().gateways();
    // Everything the assignment depends on besides the service and the rule: the cache key.
    StringBuilder variant = new StringBuilder(name).append('|').append(network).append('|').append(onlyCluster)
        .append('|').append(rule).append('|').append(failoverAllowed).append('|').append(gateways.hashCode())
        .append('|').append(crossNetwork).append('|').append(ownNetworkOnly);
    if (setting != null) {
      variant.append('|').append(proxy.locality());
      for (String label : setting.failoverPriority()) variant.append('|').append(proxyLabels.get(label));
    }
    LocalityLbSetting s = setting;
    EndpointCache.Generated g = cache.get(cn.host(), service, dr, variant.toString(),
        () -> build(name, cn, service, subset, network, onlyCluster, s, proxy.locality(), proxyLabels, failoverAllowed,
            rule, crossNetwork, ownNetworkOnly, gateways));
    if (g.dropped() != null) view.drop(name, g.dropped());
    return g.resource();
  }

  /** The DestinationRule's setting for this port and subset, else the mesh's (enabled by default, as Istio). */
  private static LocalityLbSetting effectiveSetting(DestinationRule dr, ProxyView view, ClusterName cn) {
    DestinationRule.LoadBalancer lb = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::loadBalancer);
    if (lb != null && lb.localityLbSetting() != null) return lb.localityLbSetting();
    LocalityLbSetting mesh = view.snapshot().meshConfig().localityLbSetting();
    return mesh != null ? mesh : new LocalityLbSetting(List.of(), List.of(), List.of(), null);
  }

  /** The proxy's labels plus its topology, which failoverPriority may name. */
  static Map<String, String> topologyLabels(Proxy proxy) {
    Map<String, String> labels = new HashMap<>(proxy.labels());
    labels.put("topology.istio.io/cluster", proxy.clusterId());
    if (!proxy.network().isEmpty()) labels.put("topology.istio.io/network", proxy.network());
    Locality l = proxy.locality();
    if (!l.region().isEmpty()) labels.put("topology.kubernetes.io/region", l.region());
    if (!l.zone().isEmpty()) labels.put("topology.kubernetes.io/zone", l.zone());
    if (!l.subzone().isEmpty()) labels.put("topology.istio.io/subzone", l.subzone());
    return labels;
  }

  private static EndpointCache.Generated build(String name, ClusterName cn, ServiceView service,
      DestinationRule.Subset subset, String network, String onlyCluster, LocalityLbSetting setting,
      Locality proxyLocality, Map<String, String> proxyLabels, boolean failoverAllowed, NetworkRule rule,
      boolean crossNetwork, boolean ownNetworkOnly, Map<String, List<NetworkGateway>> gateways) {
    boolean proxyless = rule == NetworkRule.OWN_NETWORK_ONLY;
    List<WorkloadEndpoint> selected = new ArrayList<>();
    int otherNetwork = 0;
    int unixSockets = 0;
    for (WorkloadEndpoint e : service.endpoints()) {
      if (e.servicePort() != cn.port()) continue;
      if (onlyCluster != null && !onlyCluster.equals(e.clusterId())) continue;
      if (!cn.subset().isEmpty() && (subset == null || !Labels.matches(subset.labels(), e.labels()))) continue;
      if (proxyless && e.unixSocketPath() != null) {
        // grpc-java's EDS takes socket addresses only: a pipe address would make it reject the
        // whole assignment, so the socket is left out and the rest of the service still serves.
        unixSockets++;
        continue;
      }
      if (ownNetworkOnly && !network.isEmpty() && !e.network().isEmpty() && !network.equals(e.network())) {
        otherNetwork++;
        continue;
      }
      selected.add(e);
    }
    List<String> notes = new ArrayList<>();
    if (crossNetwork) {
      // Envoy takes a network without a gateway as directly reachable (Istio's rule); a proxyless
      // client is only ever given its own network or a gateway.
      selected = SplitHorizon.apply(selected, network, gateways, cn.port(), !proxyless, notes);
    }
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(selected), proxyLocality, proxyLabels, setting,
        failoverAllowed);
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    Map<Locality, Integer> seen = new HashMap<>();
    groups.forEach(g -> seen.merge(g.locality(), 1, Integer::sum));
    for (LocalityGroup g : groups) {
      // grpc-java keys an assignment's endpoints by locality alone, so a locality split across
      // priorities (failoverPriority on labels) would lose all but its last part: name each part.
      String subzone = proxyless && seen.get(g.locality()) > 1
          ? g.locality().subzone() + "~priority-" + g.priority() : g.locality().subzone();
      LocalityLbEndpoints.Builder l = LocalityLbEndpoints.newBuilder()
          .setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
              .setRegion(g.locality().region()).setZone(g.locality().zone()).setSubZone(subzone))
          .setLoadBalancingWeight(UInt32Value.of(Math.max(1, g.weight())))
          .setPriority(g.priority());
      for (WorkloadEndpoint e : g.endpoints()) l.addLbEndpoints(lbEndpoint(e));
      cla.addEndpoints(l);
    }
    if (otherNetwork > 0) {
      notes.add(otherNetwork + " endpoint(s) in other networks left out: "
          + (proxyless ? "without mTLS a proxyless client reaches only its own network"
              : "an east-west gateway forwards only to its own network"));
    }
    if (unixSockets > 0) {
      notes.add(unixSockets + " unix:// endpoint(s) left out: a proxyless gRPC client takes only IP addresses; "
          + "Envoy proxies get them as pipe addresses");
    }
    String dropped = notes.isEmpty() ? null : String.join("; ", notes);
    return new EndpointCache.Generated(Any.pack(cla.build()), dropped);
  }

  private static LbEndpoint lbEndpoint(WorkloadEndpoint e) {
    LbEndpoint.Builder b = LbEndpoint.newBuilder();
    if ("istio".equals(e.labels().get(SplitHorizon.TLS_MODE_LABEL))) {
      // Envoy picks the mTLS transport socket by this metadata, as Istio sends it.
      b.setMetadata(io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder().putFilterMetadata(
          "envoy.transport_socket_match", com.google.protobuf.Struct.newBuilder().putFields("tlsMode",
              com.google.protobuf.Value.newBuilder().setStringValue("istio").build()).build()));
    }
    String pipe = e.unixSocketPath();
    Address address = pipe != null
        ? Address.newBuilder().setPipe(Pipe.newBuilder().setPath(pipe)).build()
        : Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(e.address())
            .setPortValue(e.port())).build();
    return b
        .setEndpoint(Endpoint.newBuilder().setAddress(address))
        .setHealthStatus(switch (e.health()) {
          case HEALTHY -> HealthStatus.HEALTHY;
          case UNHEALTHY -> HealthStatus.UNHEALTHY;
          case DRAINING -> HealthStatus.DRAINING;
        })
        .setLoadBalancingWeight(UInt32Value.of(LocalityLb.weight(e)))
        .build();
  }
}
