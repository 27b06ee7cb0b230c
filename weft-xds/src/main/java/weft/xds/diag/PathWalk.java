package weft.xds.diag;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import weft.model.AuthorizationPolicy;
import weft.model.DestinationRule;
import weft.model.ResourceId;
import weft.model.VirtualService;
import weft.registry.MeshService;
import weft.registry.NetworkGateway;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.ClusterName;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;
import weft.xds.security.Authorizations;
import weft.xds.security.MtlsMode;
import weft.xds.security.PeerAuthentications;
import weft.xds.security.UpstreamTls;
import weft.xds.view.Hosts;
import weft.xds.view.ProxyView;

/**
 * "Why can't A reach B": the path a request from one proxy to one host and port takes, step by
 * step, each with the configuration that decided it, from the same view and generators that serve
 * the proxy (their drop notes are the reasons). Ends with {@code reachable} or the first step that
 * stops every way there.
 */
public final class PathWalk {
  /** One step: what was decided, whether the request gets past it, and which resource (and file) decided. */
  public record Step(String step, boolean passes, String detail, String decidedBy) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("step", step);
      m.put("passes", passes);
      m.put("detail", detail);
      m.put("decidedBy", decidedBy);
      return m;
    }
  }

  /** The steps, and the verdict: {@code reachable}, or what stopped the request. */
  public record Result(List<Step> steps, boolean reachable, String verdict) {
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("steps", steps.stream().map(Step::toMap).toList());
      m.put("reachable", reachable);
      m.put("verdict", verdict);
      return m;
    }
  }

  private final Generators generators;
  private final ProxyView view;
  private final Map<ResourceId, List<ResourceOrigin>> origins;
  private final List<Step> steps = new ArrayList<>();

  private PathWalk(Generators generators, ProxyView view, Map<ResourceId, List<ResourceOrigin>> origins) {
    this.generators = generators;
    this.view = view;
    this.origins = origins;
  }

  /**
   * @param destination a host (short names are relative to the source's namespace; {@code name.ns}
   *     is a Kubernetes service) with an optional {@code :PORT}
   */
  public static Result walk(Generators generators, ProxyView view, String destination,
      Map<ResourceId, List<ResourceOrigin>> origins) {
    return new PathWalk(generators, view, origins).run(destination);
  }

  private Result run(String destination) {
    Proxy p = view.proxy();
    steps.add(new Step("source", true, p.id() + " (" + (p.proxyless() ? "proxyless gRPC" : "Envoy " + p.kind())
        + ") in cluster " + p.clusterId() + ", network " + (p.network().isEmpty() ? "-" : p.network()) + ", namespace "
        + p.namespace() + ", locality " + p.locality(), "node metadata"));
    int colon = destination.lastIndexOf(':');
    int port = 0;
    String host = destination;
    if (colon > 0 && destination.substring(colon + 1).matches("\\d{1,5}")) {
      port = Integer.parseInt(destination.substring(colon + 1));
      host = destination.substring(0, colon);
    }
    host = resolve(host);
    ServiceView sv = visible(host, "visibility");
    if (sv == null) return stopped();
    if (port == 0) {
      if (sv.service().ports().size() != 1) {
        return stop("port", "give DESTINATION:PORT; " + host + " has ports " + portNumbers(sv.service()), declared(sv));
      }
      port = sv.service().ports().get(0).number();
    } else if (sv.service().port(port).isEmpty()) {
      return stop("port", host + " has no port " + port + " (ports " + portNumbers(sv.service()) + ")", declared(sv));
    }
    steps.add(new Step("port", true, host + ":" + port + " (" + sv.service().port(port).get().protocol() + ")",
        declared(sv)));
    List<VirtualService.Destination> targets = route(host, port);
    List<String> blocked = new ArrayList<>();
    for (VirtualService.Destination t : targets) {
      int before = steps.size();
      if (!target(t)) {
        Step stop = steps.subList(before, steps.size()).stream().filter(s -> !s.passes()).findFirst().orElseThrow();
        blocked.add(t.host() + (t.subset() == null ? "" : " subset " + t.subset()) + " (" + stop.step() + ")");
      }
    }
    if (blocked.size() == targets.size()) return stopped();
    return new Result(List.copyOf(steps), true, blocked.isEmpty() ? "reachable"
        : "reachable through some destinations only; stopped for " + blocked);
  }

  /** Short names as Istio resolves them for a client: relative to its own namespace. */
  private String resolve(String host) {
    if (host.contains(".") && view.snapshot().service(host) != null) return host;
    String[] parts = host.split("\\.");
    if (parts.length == 2) {
      String k8s = host + ".svc.cluster.local";
      if (view.snapshot().service(k8s) != null) return k8s;
    }
    return Hosts.resolve(host, view.proxy().namespace());
  }

  private ServiceView visible(String host, String step) {
    ServiceView sv = view.service(host);
    if (sv == null) {
      String why = view.dropped().getOrDefault(host, "not visible");
      String by = why.contains("egress hosts") && view.sidecar() != null ? name(view.sidecar().id())
          : view.snapshot().service(host) == null ? "no Service or ServiceEntry declares it"
          : declared(view.snapshot().service(host));
      steps.add(new Step(step, false, host + ": " + why, by));
      return null;
    }
    steps.add(new Step(step, true, host + " is visible (exportTo " + new TreeSet<>(sv.service().exportTo()) + ")",
        declared(sv) + (view.sidecar() == null ? "" : "; " + name(view.sidecar().id()))));
    return sv;
  }

  /** The destinations the route for host:port sends to, with the step that says which and why. */
  private List<VirtualService.Destination> route(String host, int port) {
    VirtualService vs = view.virtualService(host);
    List<VirtualService.Destination> out = new ArrayList<>();
    if (vs == null) {
      out.add(new VirtualService.Destination(host, null, port));
      steps.add(new Step("route", true, "no VirtualService: the default route to "
          + ClusterName.outbound(port, "", host), "-"));
      return out;
    }
    List<String> described = new ArrayList<>();
    for (VirtualService.HttpRoute r : vs.http()) {
      boolean portMatches = r.match().isEmpty() || r.match().stream().anyMatch(m -> m.port() == 0 || m.port() == port);
      if (!portMatches) continue;
      List<String> to = new ArrayList<>();
      for (VirtualService.RouteDestination d : r.route()) {
        VirtualService.Destination dest = d.destination();
        String h = Hosts.resolve(dest.host(), vs.id().namespace());
        VirtualService.Destination resolved = new VirtualService.Destination(h, dest.subset(),
            dest.port() == 0 ? port : dest.port());
        if (!out.contains(resolved)) out.add(resolved);
        to.add(h + (dest.subset() == null ? "" : " subset " + dest.subset()) + (d.weight() == 0 ? "" : " weight "
            + d.weight()));
      }
      described.add((r.match().isEmpty() ? "any request" : r.match().size() + " match(es)") + " → " + to);
    }
    if (out.isEmpty()) {
      out.add(new VirtualService.Destination(host, null, port));
      described.add("no HTTP route applies on port " + port + ": default route");
    }
    steps.add(new Step("route", true, String.join("; ", described), name(vs.id())));
    return out;
  }

  /** One destination of the route: cluster, TLS, endpoints, server TLS, authorization. */
  private boolean target(VirtualService.Destination t) {
    ServiceView sv = view.service(t.host());
    if (sv == null) {
      visible(t.host(), "destination " + t.host());
      return false;
    }
    String subset = t.subset() == null ? "" : t.subset();
    String name = ClusterName.outbound(t.port(), subset, t.host()).toString();
    DestinationRule dr = view.destinationRule(t.host());
    String drBy = dr == null ? "no DestinationRule" : name(dr.id());
    Generation clusters = view.proxy().proxyless() ? generators.generate(TypeUrls.CLUSTER, view, List.of(name))
        : generators.generateAll(TypeUrls.CLUSTER, view);
    if (clusters.failed() || !clusters.resources().containsKey(name)) {
      steps.add(new Step("cluster " + name, false, clusters.failed() ? clusters.failure()
          : view.dropped().getOrDefault(name, "not generated for this proxy"), drBy));
      return false;
    }
    steps.add(new Step("cluster " + name, true, "sent" + (subset.isEmpty() ? "" : "; subset " + subset + " labels "
        + DrSubsets.labels(dr, subset)), drBy));
    UpstreamTls.Mtls mtls = UpstreamTls.decide(view, sv, t.port(), subset, dr, name);
    steps.add(new Step("TLS (client side)", true, mtls == null ? "plaintext" : "mTLS to SANs " + mtls.subjectAltNames()
        + (mtls.sni().isEmpty() ? "" : ", SNI " + mtls.sni()), dr != null && tlsSet(dr) ? drBy
        : "automatic mTLS (workloads labelled security.istio.io/tlsMode=istio)"));
    if (!endpoints(name, sv, dr, drBy)) return false;
    List<WorkloadEndpoint> workloads = sv.endpoints().stream().filter(e -> e.servicePort() == t.port()
        && (subset.isEmpty() || dr == null || DrSubsets.matches(dr, subset, e.labels()))).toList();
    if (!serverTls(sv, workloads, mtls != null)) return false;
    return authorization(sv, workloads, mtls != null);
  }

  private boolean endpoints(String name, ServiceView sv, DestinationRule dr, String drBy) {
    Generation eds = generators.generate(TypeUrls.ENDPOINT, view, List.of(name));
    ClusterLoadAssignment cla = null;
    if (!eds.failed() && eds.resources().containsKey(name)) {
      try {
        cla = eds.get(name).unpack(ClusterLoadAssignment.class);
      } catch (InvalidProtocolBufferException e) {
        cla = null;
      }
    }
    List<String> parts = new ArrayList<>();
    int count = 0;
    boolean priorities = false;
    if (cla != null) {
      for (LocalityLbEndpoints l : cla.getEndpointsList()) {
        priorities |= l.getPriority() > 0;
        List<String> eps = new ArrayList<>();
        for (LbEndpoint e : l.getLbEndpointsList()) {
          var a = e.getEndpoint().getAddress().getSocketAddress();
          eps.add(a.getAddress() + ":" + a.getPortValue() + " " + where(sv, a.getAddress(), a.getPortValue())
              + (e.getHealthStatusValue() == 0 || e.getHealthStatusValue() == 1 ? "" : " " + e.getHealthStatus()));
          count++;
        }
        var loc = l.getLocality();
        parts.add("priority " + l.getPriority() + " " + loc.getRegion() + "/" + loc.getZone()
            + (loc.getSubZone().isEmpty() ? "" : "/" + loc.getSubZone()) + " weight " + l.getLoadBalancingWeight()
            .getValue() + ": " + eps);
      }
    }
    String notes = view.dropped().getOrDefault(name, "");
    if (count == 0) {
      steps.add(new Step("endpoints", false, "none for this proxy" + (notes.isEmpty() ? "" : ": " + notes),
          "endpoints of " + declared(sv)));
      return false;
    }
    steps.add(new Step("endpoints", true, String.join("; ", parts) + (notes.isEmpty() ? "" : " (" + notes + ")"),
        priorities ? "locality priorities from " + drBy : "endpoints of " + declared(sv)));
    return true;
  }

  /** Which cluster and network an address belongs to, or the gateway of which network it is. */
  private String where(ServiceView sv, String address, int port) {
    for (WorkloadEndpoint e : sv.endpoints()) {
      if (e.address().equals(address) && e.port() == port) {
        return "(" + e.clusterId() + (e.network().isEmpty() ? "" : ", " + e.network()) + ")";
      }
    }
    for (List<NetworkGateway> gws : view.snapshot().gateways().values()) {
      for (NetworkGateway g : gws) {
        if (g.address().equals(address) && g.port() == port) {
          return "(east-west gateway of " + g.network() + (g.clusterId() == null ? "" : " in " + g.clusterId()) + ")";
        }
      }
    }
    return "";
  }

  private boolean serverTls(ServiceView sv, List<WorkloadEndpoint> workloads, boolean clientMtls) {
    String root = view.snapshot().meshConfig().rootNamespace();
    Set<String> modes = new TreeSet<>();
    boolean refused = false;
    for (WorkloadEndpoint e : workloads) {
      MtlsMode mode = PeerAuthentications.mode(view.securityPolicies(), root, sv.service().namespace(), e.labels(),
          e.port(), (s, r) -> { });
      modes.add(mode.name());
      refused |= mode == MtlsMode.STRICT && !clientMtls || mode == MtlsMode.DISABLE && clientMtls;
    }
    String by = peerAuthentications(sv.service().namespace());
    if (refused) {
      steps.add(new Step("TLS (server side)", false, "server takes " + modes + " but the client sends "
          + (clientMtls ? "mTLS" : "plaintext"), by));
      return false;
    }
    steps.add(new Step("TLS (server side)", true, modes.isEmpty() ? "no workloads" : "server takes " + modes, by));
    return true;
  }

  private String peerAuthentications(String namespace) {
    String root = view.snapshot().meshConfig().rootNamespace();
    List<String> names = new ArrayList<>();
    view.securityPolicies().peerAuthentications().stream()
        .filter(pa -> pa.id().namespace().equals(namespace) || pa.id().namespace().equals(root))
        .forEach(pa -> names.add(name(pa.id())));
    return names.isEmpty() ? "no PeerAuthentication (PERMISSIVE)" : String.join(", ", names);
  }

  /**
   * Istio's order: a matching DENY denies; then, if any ALLOW applies, one must match. Only the
   * source can be judged here (identity, namespace); rules on the request itself make the verdict
   * depend on it, and say so.
   */
  private boolean authorization(ServiceView sv, List<WorkloadEndpoint> workloads, boolean clientMtls) {
    Set<AuthorizationPolicy> policies = new java.util.LinkedHashSet<>();
    String root = view.snapshot().meshConfig().rootNamespace();
    for (WorkloadEndpoint e : workloads) {
      policies.addAll(Authorizations.forWorkload(view.securityPolicies(), root, sv.service().namespace(), e.labels(),
          (s, r) -> { }));
    }
    Proxy p = view.proxy();
    String principal = clientMtls ? view.snapshot().meshConfig().trustDomain() + "/ns/" + p.namespace() + "/sa/"
        + p.serviceAccount() : null;
    List<AuthorizationPolicy> allows = new ArrayList<>();
    for (AuthorizationPolicy ap : policies) {
      String action = ap.action() == null ? "ALLOW" : ap.action();
      // A dry run is never enforced: it cannot change the verdict.
      if (ap.dryRun()) continue;
      if (action.equals("DENY")) {
        for (AuthorizationPolicy.Rule r : ap.rules()) {
          if (SourceMatch.matches(r, principal, p.namespace()) == SourceMatch.YES) {
            steps.add(new Step("authorization", false, "denied: a DENY rule matches " + who(principal, p), name(ap.id())));
            return false;
          }
        }
      } else if (action.equals("ALLOW")) {
        allows.add(ap);
      }
    }
    if (allows.isEmpty()) {
      steps.add(new Step("authorization", true, "allowed: no ALLOW policy applies to the destination",
          policies.isEmpty() ? "no AuthorizationPolicy" : names(policies)));
      return true;
    }
    String depends = null;
    for (AuthorizationPolicy ap : allows) {
      for (AuthorizationPolicy.Rule r : ap.rules()) {
        SourceMatch m = SourceMatch.matches(r, principal, p.namespace());
        if (m == SourceMatch.YES) {
          steps.add(new Step("authorization", true, "allowed for " + who(principal, p), name(ap.id())));
          return true;
        }
        if (m == SourceMatch.DEPENDS && depends == null) depends = name(ap.id());
      }
    }
    if (depends != null) {
      steps.add(new Step("authorization", true, "allowed only for some requests of " + who(principal, p)
          + " (the rule also checks the request: paths, methods, ports or conditions)", depends));
      return true;
    }
    steps.add(new Step("authorization", false, "denied: ALLOW policies apply and none admits " + who(principal, p)
        + (clientMtls ? "" : " (without mTLS the peer has no identity to match)"), names(allows)));
    return false;
  }

  private static String who(String principal, Proxy p) {
    return principal == null ? "a plaintext peer from namespace " + p.namespace() : principal;
  }

  private String names(java.util.Collection<AuthorizationPolicy> policies) {
    return String.join(", ", policies.stream().map(a -> name(a.id())).toList());
  }

  private static boolean tlsSet(DestinationRule dr) {
    return dr.trafficPolicy() != null && dr.trafficPolicy().tls() != null;
  }

  private static List<Integer> portNumbers(MeshService s) {
    return s.ports().stream().map(MeshService.Port::number).toList();
  }

  /** The resource that declares a service, with its file. */
  private String declared(ServiceView sv) {
    MeshService s = sv.service();
    ResourceId id = s.origin() == MeshService.Origin.SERVICE_ENTRY && s.serviceEntry() != null ? s.serviceEntry().id()
        : new ResourceId("Service", s.namespace(), s.name());
    return name(id);
  }

  private String name(ResourceId id) {
    List<ResourceOrigin> o = origins.get(id);
    return id + (o == null || o.isEmpty() ? "" : " (" + o.get(o.size() - 1) + ")");
  }

  private Result stop(String step, String detail, String decidedBy) {
    steps.add(new Step(step, false, detail, decidedBy));
    return stopped();
  }

  private Result stopped() {
    Step first = steps.stream().filter(s -> !s.passes()).findFirst().orElse(steps.get(steps.size() - 1));
    return new Result(List.copyOf(steps), false, "stopped at " + first.step() + ": " + first.detail());
  }
}
