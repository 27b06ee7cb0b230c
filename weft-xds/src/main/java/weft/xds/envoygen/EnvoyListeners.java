package weft.xds.envoygen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import weft.xds.Generated;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.xds.view.ProxyView;

/**
 * Listeners for Envoy proxies with Istio's conventions: a sidecar gets its capture listeners and one
 * outbound listener per HTTP port and per TCP service port; a router gets one listener per port of
 * the Gateway servers that select it.
 */
public final class EnvoyListeners {
  private EnvoyListeners() {}

  /** Every listener for this proxy (sidecar or router), sorted by name. */
  public static SortedMap<String, Any> all(ProxyView view) {
    SortedMap<String, Any> out = new TreeMap<>();
    generated(view).forEach((name, g) -> out.put(name, g.resource()));
    return out;
  }

  private static final Generated VIRTUAL_OUTBOUND = Generated.of(Any.pack(SidecarListeners.virtualOutbound(false)));
  private static final Generated VIRTUAL_OUTBOUND_REGISTRY_ONLY =
      Generated.of(Any.pack(SidecarListeners.virtualOutbound(true)));

  /**
   * Every listener, ready to send. A sidecar's outbound listeners depend on its routing key alone
   * and are shared; its {@code virtualInbound} (its own workload's ports and policies) is its own.
   * A router's listeners follow its own address and are generated for it alone.
   */
  public static SortedMap<String, Generated> generated(ProxyView view) {
    SortedMap<String, Generated> out = new TreeMap<>();
    if ("router".equals(view.proxy().kind())) {
      GatewayListeners.all(view).forEach((name, l) -> out.put(name, Generated.of(Any.pack(l))));
      return weft.xds.telemetry.ListenerTelemetry.apply(view, out);
    }
    out.putAll(view.routingPart("envoy-outbound-listeners", "", v -> {
      SortedMap<String, Generated> packed = new TreeMap<>();
      SidecarListeners.outbound(v).forEach((name, l) -> packed.put(name, Generated.of(Any.pack(l))));
      return java.util.Collections.unmodifiableSortedMap(packed);
    }));
    String fallthrough = SidecarListeners.fallthroughCluster(view);
    out.put(WellKnown.VIRTUAL_OUTBOUND, switch (fallthrough) {
      case WellKnown.BLACK_HOLE_CLUSTER -> VIRTUAL_OUTBOUND_REGISTRY_ONLY;
      case WellKnown.PASSTHROUGH_CLUSTER -> VIRTUAL_OUTBOUND;
      // A Sidecar's egressProxy: few proxies, so generated for each.
      default -> Generated.of(Any.pack(SidecarListeners.virtualOutbound(fallthrough)));
    });
    out.put(WellKnown.VIRTUAL_INBOUND, Generated.of(Any.pack(Inbound.virtualInbound(view))));
    Inbound.boundListeners(view).forEach((name, l) -> out.put(name, Generated.of(Any.pack(l))));
    return weft.xds.telemetry.ListenerTelemetry.apply(view, out);
  }
}
