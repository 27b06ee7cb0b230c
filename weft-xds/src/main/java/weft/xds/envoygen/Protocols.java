package weft.xds.envoygen;

import java.util.Locale;

/**
 * Istio's protocol families (pkg/config/protocol): which ports get an HTTP connection manager,
 * which speak HTTP/2 upstream, which get a plain TCP proxy.
 */
final class Protocols {
  private Protocols() {}

  /** Upper-case Istio name; Kubernetes appProtocol values such as {@code kubernetes.io/h2c} mapped as Istio maps them. */
  static String normalize(String protocol) {
    if (protocol == null) return "TCP";
    String p = protocol.toUpperCase(Locale.ROOT);
    return switch (p) {
      case "KUBERNETES.IO/H2C" -> "HTTP2";
      case "KUBERNETES.IO/WS" -> "HTTP";
      case "KUBERNETES.IO/WSS" -> "HTTPS";
      case "GRPCWEB", "GRPC_WEB" -> "GRPC-WEB";
      default -> p;
    };
  }

  /** HTTP, HTTP2, GRPC, GRPC-WEB: served by a shared {@code 0.0.0.0_PORT} listener and RDS. */
  static boolean isHttp(String protocol) {
    return switch (normalize(protocol)) {
      case "HTTP", "HTTP2", "GRPC", "GRPC-WEB" -> true;
      default -> false;
    };
  }

  /** Protocols Envoy must speak HTTP/2 to upstream (Istio's IsHTTP2). */
  static boolean isHttp2(String protocol) {
    return switch (normalize(protocol)) {
      case "HTTP2", "GRPC", "GRPC-WEB" -> true;
      default -> false;
    };
  }

  /** Envoy sidecars do not proxy UDP; Istio skips these ports everywhere. */
  static boolean isUdp(String protocol) {
    return "UDP".equals(normalize(protocol));
  }
}
