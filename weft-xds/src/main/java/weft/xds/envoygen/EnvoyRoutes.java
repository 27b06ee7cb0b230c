package weft.xds.envoygen;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import weft.xds.view.ProxyView;

/**
 * Route configurations for Envoy proxies, by the names their listeners ask for: {@code PORT} on a
 * sidecar; {@code http.PORT} and {@code https.PORT.PORTNAME.GATEWAY.NAMESPACE} on a router.
 */
public final class EnvoyRoutes {
  private EnvoyRoutes() {}

  /** The RouteConfiguration with this name, or null (reason recorded with view.drop). */
  public static Any generate(ProxyView view, String name) {
    RouteConfiguration rc;
    if ("router".equals(view.proxy().kind())) {
      rc = GatewayRoutes.build(view, name);
    } else {
      int port = port(name);
      if (port <= 0) {
        view.drop("route " + name, "a sidecar's route names are port numbers; " + name + " is not one");
        return null;
      }
      rc = SidecarRoutes.build(view, name, port);
    }
    return Any.pack(rc);
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
