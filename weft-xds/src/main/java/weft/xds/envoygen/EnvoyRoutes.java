package weft.xds.envoygen;

import com.google.protobuf.Any;
import weft.xds.Generated;
import weft.xds.view.ProxyView;

/**
 * Route configurations for Envoy proxies, by the names their listeners ask for: {@code PORT} on a
 * sidecar; {@code http.PORT} and {@code https.PORT.PORTNAME.GATEWAY.NAMESPACE} on a router.
 */
public final class EnvoyRoutes {
  private EnvoyRoutes() {}

  /** The RouteConfiguration with this name, or null (reason recorded with view.drop). */
  public static Any generate(ProxyView view, String name) {
    Generated g = generated(view, name);
    return g == null ? null : g.resource();
  }

  /**
   * The same, ready to send. A sidecar's route table depends on its routing key alone and is
   * shared; a router's follows its own address and is its own.
   */
  public static Generated generated(ProxyView view, String name) {
    if ("router".equals(view.proxy().kind())) return Generated.of(Any.pack(GatewayRoutes.build(view, name)));
    int port = port(name);
    if (port <= 0) {
      view.drop("route " + name, "a sidecar's route names are port numbers; " + name + " is not one");
      return null;
    }
    return view.routingPart("envoy-routes", name, v -> Generated.of(Any.pack(SidecarRoutes.build(v, name, port))));
  }

  private static int port(String name) {
    if (name.isEmpty() || name.length() > 5) return -1;
    for (int i = 0; i < name.length(); i++) {
      if (!Character.isDigit(name.charAt(i))) return -1;
    }
    int p = Integer.parseInt(name);
    return p <= 65535 ? p : -1;
  }
}
