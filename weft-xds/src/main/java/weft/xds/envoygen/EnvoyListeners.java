package weft.xds.envoygen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.Map;
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
    Map<String, Listener> listeners = "router".equals(view.proxy().kind())
        ? GatewayListeners.all(view) : SidecarListeners.all(view);
    SortedMap<String, Any> out = new TreeMap<>();
    listeners.forEach((name, l) -> out.put(name, Any.pack(l)));
    return out;
  }
}
