package weft.xds.envoygen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.Gateway;
import weft.model.Labels;
import weft.registry.MeshSnapshot.WorkloadAt;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * The Gateway servers a router serves, merged per listener as Istio's MergeGateways does
 * (pilot/pkg/model/gateway.go): which gateways select the router, the port each server really
 * listens on, its route name, and which servers lose a port conflict.
 */
final class GatewayServers {
  private GatewayServers() {}

  enum Kind {
    /** Plain HTTP: one HCM per listener, routes {@code http.PORT}. */
    HTTP,
    /** HTTPS terminated here: a TLS filter chain per server with its own routes. */
    HTTPS,
    /** Opaque TCP, or TLS terminated here and forwarded as TCP: routes from VirtualService tcp blocks. */
    TCP,
    /** SNI passthrough to VirtualService tls routes. */
    PASSTHROUGH,
    /** SNI passthrough to any mesh service by its {@code outbound_.PORT_.SUBSET_.HOST} name (east-west). */
    AUTO_PASSTHROUGH
  }

  /** One server of one gateway, placed on a listener. {@code routeName} is null for non-HTTP kinds. */
  record Entry(Gateway gateway, Gateway.Server server, int index, String bind, int listenerPort, Kind kind,
      String tlsMode, String routeName) {
    String gatewayKey() {
      return gateway.id().namespace() + "/" + gateway.id().name();
    }

    String listenerName() {
      return bind + "_" + listenerPort;
    }

    String subject() {
      return "Gateway " + gatewayKey() + " servers[" + index + "] (port " + server.port().number() + ")";
    }
  }

  /** Servers by listener name, each list in gateway-id then declaration order. */
  static Map<String, List<Entry>> byListener(ProxyView view) {
    Map<String, List<Entry>> out = new LinkedHashMap<>();
    for (Entry e : all(view)) out.computeIfAbsent(e.listenerName(), k -> new ArrayList<>()).add(e);
    return out;
  }

  static List<Entry> all(ProxyView view) {
    Proxy proxy = view.proxy();
    List<WorkloadAt> own = proxy.ip() == null || proxy.ip().isEmpty() ? new ArrayList<>()
        : new ArrayList<>(view.snapshot().endpointsAt(proxy.clusterId(), proxy.ip()));
    own.sort(Comparator.comparing((WorkloadAt w) -> w.service().service().hostname())
        .thenComparingInt(w -> w.endpoint().servicePort()));
    List<Entry> out = new ArrayList<>();
    Map<String, Entry> firstOnListener = new LinkedHashMap<>();
    // Selector match in any namespace: Istio's default (PILOT_SCOPE_GATEWAY_TO_NAMESPACE off).
    for (Gateway gw : view.snapshot().config().gateways()) {
      if (!Labels.matches(gw.selector(), proxy.labels())) continue;
      // A Kubernetes Gateway's deployment lives in the Gateway's namespace: only its proxies serve it (as Istio).
      if (weft.model.gatewayapi.GatewayApiTranslation.isDerived(gw) && !gw.id().namespace().equals(proxy.namespace())) {
        continue;
      }
      for (int i = 0; i < gw.servers().size(); i++) {
        Gateway.Server s = gw.servers().get(i);
        String subject = "Gateway " + gw.id().namespace() + "/" + gw.id().name() + " servers[" + i + "]";
        String protocol = Protocols.normalize(s.port().protocol());
        // An unset mode is Istio's enum default, PASSTHROUGH.
        String mode = s.tls() == null ? null : s.tls().mode() == null ? "PASSTHROUGH" : s.tls().mode();
        Kind kind = kind(protocol, mode);
        if (kind == null) {
          view.drop(subject, reason(protocol, mode));
          continue;
        }
        if (s.bind() != null && s.bind().startsWith("unix://")) {
          view.drop(subject, "bind to a Unix domain socket is not supported yet");
          continue;
        }
        String bind = s.bind() == null || s.bind().isEmpty() ? WellKnown.WILDCARD : s.bind();
        int listenerPort = listenerPort(s.port().number(), own);
        String bindSuffix = s.bind() == null || s.bind().isEmpty() ? "" : "." + s.bind();
        String routeName = switch (kind) {
          case HTTP -> "http." + listenerPort + bindSuffix;
          case HTTPS -> "https." + s.port().number() + "." + (s.port().name() == null ? "" : s.port().name()) + "."
              + gw.id().name() + "."
              + gw.id().namespace() + bindSuffix;
          default -> null;
        };
        Entry e = new Entry(gw, s, i, bind, listenerPort, kind, kind == Kind.HTTP ? null : mode, routeName);
        Entry first = firstOnListener.putIfAbsent(e.listenerName(), e);
        if (first != null && !compatible(first, e)) {
          view.drop(subject, "listener " + e.listenerName() + " already serves " + first.kind() + " for "
              + first.subject() + "; a port carries either plain HTTP, one TCP server, or TLS servers told apart by SNI");
          continue;
        }
        out.add(e);
      }
    }
    return out;
  }

  private static Kind kind(String protocol, String mode) {
    if (Protocols.isHttp(protocol)) return Kind.HTTP;
    if (mode == null) return protocol.equals("HTTPS") || protocol.equals("TLS") ? null : Kind.TCP;
    return switch (mode) {
      case "PASSTHROUGH" -> Kind.PASSTHROUGH;
      case "AUTO_PASSTHROUGH" -> Kind.AUTO_PASSTHROUGH;
      case "SIMPLE", "MUTUAL", "ISTIO_MUTUAL" -> protocol.equals("HTTPS") ? Kind.HTTPS : Kind.TCP;
      default -> null;
    };
  }

  private static String reason(String protocol, String mode) {
    if (mode == null) return protocol + " server without tls settings; add tls with a mode";
    return "tls mode " + mode + " on a gateway server is not supported yet";
  }

  /** Istio merges HTTP servers on a port, and TLS servers (told apart by SNI); anything else conflicts. */
  private static boolean compatible(Entry first, Entry next) {
    if (first.kind() == Kind.HTTP || next.kind() == Kind.HTTP) return first.kind() == next.kind();
    boolean firstTls = first.tlsMode() != null;
    boolean nextTls = next.tlsMode() != null;
    return firstTls && nextTls;
  }

  /**
   * Istio's resolvePorts for selector-based gateways: a server port that is a port of a Service in
   * front of this router listens on that Service's target port; otherwise on the port as written.
   */
  private static int listenerPort(int serverPort, List<WorkloadAt> own) {
    for (WorkloadAt w : own) {
      if (w.endpoint().servicePort() == serverPort && w.endpoint().port() > 0) return w.endpoint().port();
    }
    return serverPort;
  }

  /** The server's hosts without their namespace part, lower-case, in order, without repeats. */
  static List<String> bareHosts(Gateway.Server server) {
    java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
    for (String h : server.hosts()) {
      out.add((h.contains("/") ? h.substring(h.indexOf('/') + 1) : h).toLowerCase(java.util.Locale.ROOT));
    }
    return List.copyOf(out);
  }

  /** SNI names of a TLS server: hosts without their namespace part; none (match all) when any is {@code *}. */
  static List<String> sniHosts(Gateway.Server server) {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    for (String h : server.hosts()) {
      String host = h.contains("/") ? h.substring(h.indexOf('/') + 1) : h;
      if (host.equals("*")) return List.of();
      out.add(host);
    }
    return List.copyOf(out);
  }

  /**
   * The server's hosts a VirtualService in {@code namespace} may bind to: {@code ns/host} entries count
   * when ns is {@code *}, that namespace, or {@code .} for the gateway's own namespace.
   */
  static List<String> hostsFor(Entry e, String namespace) {
    List<String> out = new ArrayList<>();
    for (String h : e.server().hosts()) {
      int slash = h.indexOf('/');
      if (slash < 0) {
        out.add(h);
        continue;
      }
      String ns = h.substring(0, slash);
      if (ns.equals(".")) ns = e.gateway().id().namespace();
      if (ns.equals("*") || ns.equals(namespace)) out.add(h.substring(slash + 1));
    }
    return out;
  }
}
