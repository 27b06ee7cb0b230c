package weft.xds.envoygen;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Pipe;

/**
 * Where a Sidecar ingress listener's {@code defaultEndpoint} sends connections, as Istio's
 * buildInboundClustersFromSidecar reads it: {@code 127.0.0.1} and {@code ::1} are the loopback,
 * {@code 0.0.0.0} and {@code ::} the workload's own address, {@code unix://PATH} a socket; an empty
 * host (":PORT") or no endpoint keeps Istio's default, the address the connection was sent to.
 */
final class InboundEndpoints {
  private static final String UNIX = "unix://";

  private InboundEndpoints() {}

  /** The endpoint's address, or null for Istio's default (an original-destination cluster). */
  static Address address(String defaultEndpoint, String proxyIp) {
    if (defaultEndpoint == null || defaultEndpoint.isEmpty()) return null;
    if (defaultEndpoint.startsWith(UNIX)) {
      return Address.newBuilder().setPipe(Pipe.newBuilder().setPath(defaultEndpoint.substring(UNIX.length()))).build();
    }
    int colon = defaultEndpoint.lastIndexOf(':');
    String host = defaultEndpoint.substring(0, colon);
    if (host.startsWith("[")) host = host.substring(1, host.length() - 1);
    int port = Integer.parseInt(defaultEndpoint.substring(colon + 1));
    boolean ownIp = proxyIp != null && !proxyIp.isEmpty();
    String ip = switch (host) {
      case "127.0.0.1", "::1" -> host;
      // The workload's address; a proxy that did not say its IP gets the loopback, as Istio does.
      case "0.0.0.0" -> ownIp && !proxyIp.contains(":") ? proxyIp : "127.0.0.1";
      case "::" -> ownIp && proxyIp.contains(":") ? proxyIp : "::1";
      default -> null;
    };
    return ip == null ? null : Protos.address(ip, port);
  }

  /** Connections to the pod's own address need the 127.0.0.6 source that iptables lets through. */
  static boolean needsPassthroughSource(Address a) {
    if (!a.hasSocketAddress()) return false;
    String ip = a.getSocketAddress().getAddress();
    return !ip.equals("127.0.0.1") && !ip.equals("::1");
  }
}
