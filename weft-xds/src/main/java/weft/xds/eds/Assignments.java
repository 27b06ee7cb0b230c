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
import weft.xds.view.PartCache;
import weft.xds.view.ProxyView;
import weft.xds.view.PushContext;
import java.util.function.BiConsumer;
import weft.model.ResourceId;
import weft.model.text.LogBudget;
import weft.xds.Generated;

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
  /** The failover warning is logged within this budget: it recurs with every regeneration of an assignment. */
  private static final LogBudget FAILOVER_WARNINGS = new LogBudget(3, java.time.Duration.ofMinutes(10), System::nanoTime);

  private Assignments() {}

  /**
   * Exactly what an assignment depends on besides the snapshot (the service's endpoints, the
   * rule's content, the network gateways and the mesh config): the cluster name, the
   * DestinationRule in force for the proxy, how the client may cross networks, and only those of
   * the proxy's attributes the rule in force reads: its network, the cluster a cluster-local
   * host is kept to, its locality when locality load balancing applies, and the values of the
   * labels {@code failoverPriority} names, and the networks it asked to see.
   *
   * @param locality null when the setting in force does not read it
   * @param failoverLabels the proxy's values of the setting's failoverPriority labels (null for
   *     absent ones); empty when failoverPriority does not apply
   * @param networkView the proxy's REQUESTED_NETWORK_VIEW, sorted; empty: every network
   * @param mcsCluster the proxy's cluster when Multi-Cluster Services decide which clusters' endpoints
   *     it may be sent ({@link weft.registry.MeshService.Mcs#reaches}), else null
   */
  public record Key(String clusterName, ResourceId destinationRule, NetworkRule rule, boolean failoverAllowed,
      String network, boolean gatewayOfNetwork, String onlyCluster, Locality locality, List<String> failoverLabels,
      List<String> networkView, String mcsCluster) {
    public Key {
      failoverLabels = java.util.Collections.unmodifiableList(new ArrayList<>(failoverLabels));
      networkView = List.copyOf(networkView);
    }
  }

  /**
   * @param failoverWithoutOutlierDetection apply locality priorities even where no outlier
   *     detection is configured (the operator's choice; Istio never does)
   */
  public static Any generate(ProxyView view, String name, EndpointCache cache, NetworkRule rule,
      boolean failoverWithoutOutlierDetection) {
    Generated g = generated(view, name, cache.parts(), rule, failoverWithoutOutlierDetection);
    return g == null ? null : g.resource();
  }

  /** The assignment ready to send: shared by every proxy with the same {@link Key}. */
  public static Generated generated(ProxyView view, String name, PartCache parts, NetworkRule rule,
      boolean failoverWithoutOutlierDetection) {
    ClusterName cn = ClusterName.parse(name);
    if (cn == null) {
      view.drop(name, "not an outbound|PORT|SUBSET|HOST cluster name");
      return null;
    }
    ServiceView service = view.service(cn.host());
    // A watched cluster whose service is gone or hidden gets an empty assignment: the client then
    // fails fast instead of waiting for a resource that will never come.
    if (service == null) return Generated.of(Any.pack(ClusterLoadAssignment.newBuilder().setClusterName(name).build()));
    PushContext context = view.context();
    Key key = key(view, cn, name, rule, failoverWithoutOutlierDetection);
    PartCache.Part<Generated> part = parts.forHost(context.snapshot(), service, key, () -> {
      List<PartCache.Drop> drops = new ArrayList<>();
      Generated g = Generated.of(build(context, service, key, (s, r) -> drops.add(new PartCache.Drop(s, r))));
      return new PartCache.Part<>(g, drops);
    });
    part.replay(view);
    return part.value();
  }

  /** Only cheap lookups: the rule in force and the attributes it reads. */
  private static Key key(ProxyView view, ClusterName cn, String name, NetworkRule rule,
      boolean failoverWithoutOutlierDetection) {
    Proxy proxy = view.proxy();
    DestinationRule dr = view.destinationRule(cn.host());
    LocalityLbSetting setting = effectiveSetting(dr, view.snapshot().meshConfig(), cn);
    boolean failoverAllowed = failoverAllowed(dr, cn, failoverWithoutOutlierDetection);
    boolean active = !Boolean.FALSE.equals(setting.enabled());
    boolean readsLocality = active && (!setting.distribute().isEmpty()
        || (failoverAllowed && !(setting.failover().isEmpty() && !setting.failoverPriority().isEmpty())));
    List<String> labelValues = new ArrayList<>();
    if (active && setting.distribute().isEmpty() && failoverAllowed) {
      Map<String, String> labels = topologyLabels(proxy);
      for (String label : setting.failoverPriority()) labelValues.add(labels.get(label));
    }
    boolean gatewayOfNetwork = proxy.kind().equals("router") && !proxy.network().isEmpty();
    return new Key(name, dr == null ? null : dr.id(), rule, failoverAllowed, proxy.network(), gatewayOfNetwork,
        view.clusterLocal(cn.host()) ? proxy.clusterId() : null, readsLocality ? proxy.locality() : null, labelValues,
        proxy.networkView(), mcsCluster(view, cn.host()));
  }

  /** The proxy's cluster when MCS restricts the host's endpoints by cluster (only then is it part of the key). */
  private static String mcsCluster(ProxyView view, String host) {
    ServiceView service = view.context().snapshot().service(host);
    weft.registry.MeshService.Mcs mcs = service == null ? null : service.service().mcs();
    return mcs == null || mcs.clustersetHost() ? null : view.proxy().clusterId();
  }

  private static boolean failoverAllowed(DestinationRule dr, ClusterName cn, boolean failoverWithoutOutlierDetection) {
    return failoverWithoutOutlierDetection || Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::outlierDetection) != null;
  }

  /** The DestinationRule's setting for this port and subset, else the mesh's (enabled by default, as Istio). */
  private static LocalityLbSetting effectiveSetting(DestinationRule dr, weft.model.MeshConfig meshConfig, ClusterName cn) {
    DestinationRule.LoadBalancer lb = Policies.pick(dr, cn.port(), cn.subset(),
        DestinationRule.TrafficPolicy::loadBalancer);
    if (lb != null && lb.localityLbSetting() != null) return lb.localityLbSetting();
    LocalityLbSetting mesh = meshConfig.localityLbSetting();
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

  /** The assignment for a key: a pure function of it and the snapshot's service, rule, gateways and mesh config. */
  static Any build(PushContext context, ServiceView service, Key key, BiConsumer<String, String> drop) {
    String name = key.clusterName();
    ClusterName cn = ClusterName.parse(name);
    DestinationRule dr = context.destinationRule(key.destinationRule());
    DestinationRule.Subset subset = Policies.subset(dr, cn.subset());
    if (!cn.subset().isEmpty() && subset == null) {
      drop.accept(name, "no DestinationRule for " + cn.host() + " defines subset " + cn.subset());
    }
    var snapshot = context.snapshot();
    LocalityLbSetting setting = effectiveSetting(dr, snapshot.meshConfig(), cn);
    if (!key.failoverAllowed() && (!setting.failover().isEmpty() || !setting.failoverPriority().isEmpty())) {
      String warning = "locality failover is configured for " + cn.host() + " but "
          + (dr == null ? "no DestinationRule" : dr.id()) + " sets no outlierDetection, so clients could never "
          + "leave a priority: failover not applied. Add outlierDetection, or start the control plane with "
          + "--locality-failover-without-outlier-detection";
      drop.accept(name, warning);
      String suppressed = FAILOVER_WARNINGS.admit("locality failover without outlier detection");
      if (suppressed != null) LOG.log(System.Logger.Level.WARNING, warning + suppressed);
    }
    boolean proxyless = key.rule() == NetworkRule.OWN_NETWORK_ONLY;
    Map<String, List<NetworkGateway>> gateways = snapshot.gateways();
    // A proxyless client with mTLS to this cluster can cross networks through their gateways, with
    // mTLS end to end (the SNI names the cluster); without mTLS it keeps to its own network.
    // An east-west gateway (a router with a network) forwards only to its own network's endpoints,
    // as Istio's do: it must never bounce a connection on to yet another network.
    boolean crossNetwork = !key.gatewayOfNetwork() && (key.rule() == NetworkRule.SPLIT_HORIZON
        || (!gateways.isEmpty() && UpstreamTls.decide(snapshot.meshConfig(), context.securityPolicies(), drop,
            service, cn.port(), cn.subset(), dr, name) != null));
    boolean ownNetworkOnly = key.gatewayOfNetwork() || (proxyless && !crossNetwork);
    String network = key.network();
    List<WorkloadEndpoint> selected = new ArrayList<>();
    int otherNetwork = 0;
    int outOfView = 0;
    int unixSockets = 0;
    int outOfMcs = 0;
    for (WorkloadEndpoint e : service.endpoints()) {
      if (e.servicePort() != cn.port()) continue;
      if (key.onlyCluster() != null && !key.onlyCluster().equals(e.clusterId())) continue;
      if (key.mcsCluster() != null && !service.service().mcs().reaches(key.mcsCluster(), e.clusterId())) {
        outOfMcs++;
        continue;
      }
      if (!cn.subset().isEmpty() && (subset == null || !Labels.matches(subset.labels(), e.labels()))) continue;
      if (proxyless && e.unixSocketPath() != null) {
        // grpc-java's EDS takes socket addresses only: a pipe address would make it reject the
        // whole assignment, so the socket is left out and the rest of the service still serves.
        unixSockets++;
        continue;
      }
      // Partitioned discovery (Istio's REQUESTED_NETWORK_VIEW): endpoints of networks the proxy did
      // not ask for are left out, not replaced by a gateway; an endpoint of no network is always seen.
      if (!key.networkView().isEmpty() && !e.network().isEmpty() && !key.networkView().contains(e.network())) {
        outOfView++;
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
    Map<String, String> proxyLabels = new HashMap<>();
    for (int i = 0; i < key.failoverLabels().size(); i++) {
      String value = key.failoverLabels().get(i);
      if (value != null) proxyLabels.put(setting.failoverPriority().get(i), value);
    }
    Locality proxyLocality = key.locality() == null ? Locality.UNKNOWN : key.locality();
    List<LocalityGroup> groups = LocalityLb.apply(LocalityLb.group(selected), proxyLocality, proxyLabels, setting,
        key.failoverAllowed());
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
    if (outOfView > 0) {
      notes.add(outOfView + " endpoint(s) of networks outside the proxy's REQUESTED_NETWORK_VIEW "
          + key.networkView() + " left out");
    }
    if (outOfMcs > 0) {
      weft.registry.MeshService.Mcs mcs = service.service().mcs();
      notes.add(outOfMcs + " endpoint(s) of other clusters left out: " + (mcs.ownClusterOnly()
          ? "--mcs-cluster-local keeps " + cn.host() + " in the proxy's cluster (use the clusterset.local name)"
          : "only clusters with a ServiceExport " + mcs.exportedBy() + " share their endpoints (--mcs)"));
    }
    if (unixSockets > 0) {
      notes.add(unixSockets + " unix:// endpoint(s) left out: a proxyless gRPC client takes only IP addresses; "
          + "Envoy proxies get them as pipe addresses");
    }
    if (!notes.isEmpty()) drop.accept(name, String.join("; ", notes));
    return Any.pack(cla.build());
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
