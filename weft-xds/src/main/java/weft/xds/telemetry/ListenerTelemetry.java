package weft.xds.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.MeshTelemetry;
import weft.model.Telemetry;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.xds.ClusterName;
import weft.xds.Generated;
import weft.xds.view.ProxyView;

/**
 * Puts a proxy's telemetry on the listeners generated for it: access logs on every HTTP connection
 * manager and TCP proxy, tracing on every HTTP connection manager. The inbound listener
 * ({@code virtualInbound}) is the SERVER side, every other listener (outbound, gateway) the CLIENT
 * side, as Istio classes them. Listeners are shared between proxies with the same routing, while
 * workload-level Telemetry follows each proxy's labels, so this runs per proxy, and only when some
 * telemetry is configured at all.
 */
public final class ListenerTelemetry {
  private static final String INBOUND = "virtualInbound";
  private static final String HCM_TYPE = "type.googleapis.com/" + HttpConnectionManager.getDescriptor().getFullName();
  private static final String TCP_PROXY_TYPE = "type.googleapis.com/" + TcpProxy.getDescriptor().getFullName();

  private ListenerTelemetry() {}

  /** Whether anything in the snapshot could give a proxy telemetry (the cheap test before any work). */
  static boolean configured(MeshSnapshot snapshot) {
    MeshTelemetry mesh = snapshot.meshConfig().telemetry();
    return !snapshot.proxyPolicies().telemetries().isEmpty() || !mesh.defaultAccessLogging().isEmpty()
        || !mesh.defaultTracing().isEmpty() || !mesh.accessLogFile().isEmpty();
  }

  /** The proxy's merged Telemetry; its notes are recorded on the view. */
  public static EffectiveTelemetry effective(ProxyView view) {
    MeshSnapshot snapshot = view.snapshot();
    List<Telemetry> applicable = TelemetryMerge.applicable(snapshot.proxyPolicies().telemetries(),
        snapshot.meshConfig().rootNamespace(), view.proxy().namespace(), view.proxy().labels());
    EffectiveTelemetry effective = TelemetryMerge.merge(applicable, snapshot.meshConfig().telemetry());
    effective.notes().forEach(view::drop);
    return effective;
  }

  /** Every listener with its side's access logs and tracing; the same map when nothing applies. */
  public static SortedMap<String, Generated> apply(ProxyView view, SortedMap<String, Generated> listeners) {
    if (!configured(view.snapshot())) return listeners;
    EffectiveTelemetry effective = effective(view);
    Side client = side(view, effective, Telemetry.Mode.CLIENT);
    Side server = side(view, effective, Telemetry.Mode.SERVER);
    if (client.empty() && server.empty()) return listeners;
    SortedMap<String, Generated> out = new TreeMap<>();
    listeners.forEach((name, g) -> {
      Side side = name.equals(INBOUND) ? server : client;
      out.put(name, side.empty() ? g : Generated.of(Any.pack(decorate(unpack(g.resource(), Listener.class), side))));
    });
    return out;
  }

  /**
   * A proxyless gRPC client takes neither access logs nor tracing over xDS (grpc-java has no access
   * log or tracer in its xDS filter set): telemetry that applies to it is a note, never silently lost.
   */
  public static void noteProxyless(ProxyView view) {
    if (!configured(view.snapshot())) return;
    EffectiveTelemetry effective = effective(view);
    boolean logs = effective.clientLogs() != null && !effective.clientLogs().isEmpty()
        || effective.serverLogs() != null && !effective.serverLogs().isEmpty()
        || effective.clientLogs() == null && !view.snapshot().meshConfig().telemetry().accessLogFile().isEmpty();
    boolean tracing = effective.clientTracing() != null && effective.clientTracing().on()
        || effective.serverTracing() != null && effective.serverTracing().on();
    if (logs) {
      view.drop("telemetry access logging", "not applied: grpc-java (proxyless) takes no access log configuration "
          + "over xDS; log in the application, or run an Envoy sidecar");
    }
    if (tracing) {
      view.drop("telemetry tracing", "not applied: grpc-java (proxyless) takes no tracing configuration over xDS; "
          + "use the application's own OpenTelemetry instrumentation");
    }
  }

  /** What one side's listeners get: access logs, and tracing for HTTP (null: none). */
  private record Side(List<AccessLog> logs, HttpConnectionManager.Tracing tracing) {
    boolean empty() {
      return logs.isEmpty() && tracing == null;
    }
  }

  private static Side side(ProxyView view, EffectiveTelemetry effective, Telemetry.Mode mode) {
    List<EffectiveTelemetry.AccessLog> chosen = effective.logs(mode);
    List<AccessLog> logs;
    if (chosen == null) {
      AccessLog legacy = AccessLogs.legacy(view.snapshot().meshConfig().telemetry());
      logs = legacy == null ? List.of() : List.of(legacy);
    } else {
      logs = AccessLogs.of(chosen);
    }
    EffectiveTelemetry.Tracing t = effective.tracing(mode);
    HttpConnectionManager.Tracing tracing = null;
    if (t != null && t.on()) {
      String cluster = collectorCluster(view, t.provider());
      if (cluster != null) tracing = TracingConfigs.of(t, cluster, serviceName(view));
    }
    return new Side(logs, tracing);
  }

  /**
   * The outbound cluster of the tracing collector, which the proxy must see (Envoy refuses a tracer
   * whose cluster it does not know); null with a note when it cannot.
   */
  private static String collectorCluster(ProxyView view, MeshTelemetry.Provider p) {
    MeshTelemetry.Tracer t = p.tracer();
    ServiceView service = view.service(t.service());
    if (service == null || service.service().ports().stream().noneMatch(port -> port.number() == t.port())) {
      view.drop("telemetry provider " + p.name(), "tracing is off: its collector " + t.service() + ":" + t.port()
          + (service == null ? " is not a service this proxy can see" : " is not a port of that service")
          + " (Envoy needs the collector's cluster); add a ServiceEntry or fix the provider's service and port");
      return null;
    }
    return ClusterName.outbound(t.port(), "", t.service()).toString();
  }

  /** The service name spans carry: Istio's canonical service of the workload and its namespace. */
  private static String serviceName(ProxyView view) {
    Map<String, String> labels = view.proxy().labels();
    String name = labels.getOrDefault("service.istio.io/canonical-name", labels.get("app"));
    if (name == null || name.isEmpty()) name = view.proxy().podName().isEmpty() ? "istio-proxy" : view.proxy().podName();
    return name + "." + view.proxy().namespace();
  }

  private static Listener decorate(Listener listener, Side side) {
    Listener.Builder b = listener.toBuilder();
    for (FilterChain.Builder chain : b.getFilterChainsBuilderList()) decorate(chain, side);
    if (b.hasDefaultFilterChain()) decorate(b.getDefaultFilterChainBuilder(), side);
    return b.build();
  }

  private static void decorate(FilterChain.Builder chain, Side side) {
    for (Filter.Builder filter : chain.getFiltersBuilderList()) {
      String type = filter.getTypedConfig().getTypeUrl();
      if (type.equals(HCM_TYPE)) {
        HttpConnectionManager.Builder hcm = unpack(filter.getTypedConfig(), HttpConnectionManager.class).toBuilder();
        hcm.addAllAccessLog(side.logs());
        if (side.tracing() != null) hcm.setTracing(side.tracing());
        filter.setTypedConfig(Any.pack(hcm.build()));
      } else if (type.equals(TCP_PROXY_TYPE)) {
        TcpProxy.Builder tcp = unpack(filter.getTypedConfig(), TcpProxy.class).toBuilder();
        tcp.addAllAccessLog(side.logs());
        filter.setTypedConfig(Any.pack(tcp.build()));
      }
    }
  }

  private static <T extends com.google.protobuf.Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      // Weft generated these bytes itself a moment ago.
      throw new IllegalStateException("generated " + any.getTypeUrl() + " does not parse", e);
    }
  }
}
