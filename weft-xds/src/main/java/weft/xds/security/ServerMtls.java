package weft.xds.security;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** The mutual TLS a server proxy applies to its own inbound traffic, from the PeerAuthentications that select it. */
public final class ServerMtls {
  private ServerMtls() {}

  /** The mode for a workload port of the proxy; {@code port < 0} for traffic to ports no service declares. */
  public static MtlsMode mode(ProxyView view, int port) {
    Proxy p = view.proxy();
    return PeerAuthentications.mode(view.securityPolicies(), view.snapshot().meshConfig().rootNamespace(),
        p.namespace(), p.labels(), port, view::drop);
  }

  /**
   * A proxyless server's context on a port, or null for plaintext. grpc-java picks a filter chain
   * before any bytes arrive and never matches a chain on {@code transport_protocol} other than
   * {@code raw_buffer}, on {@code application_protocols} or on {@code server_names}
   * (FilterChainMatchingProtocolNegotiators), so one port cannot take both plaintext and TLS.
   * PERMISSIVE is therefore served as Istio's grpc generator serves it: mTLS when the workload is
   * labelled {@code security.istio.io/tlsMode: istio} (its clients then choose mTLS by auto mTLS),
   * plaintext otherwise; the limitation is recorded under {@code subject}.
   */
  public static DownstreamTlsContext proxyless(ProxyView view, int port, String subject) {
    MtlsMode mode = mode(view, port);
    return switch (mode) {
      case STRICT -> TlsContexts.proxylessServer(true);
      case DISABLE -> null;
      case PERMISSIVE -> {
        boolean inMesh = Identities.inMesh(view.proxy().labels());
        view.drop(subject, "PERMISSIVE mTLS: gRPC cannot accept plaintext and TLS on one port, so this port takes "
            + (inMesh ? "mTLS only (the workload is labelled " + Identities.TLS_MODE_LABEL + "=istio, so mesh clients "
                + "send mTLS)" : "plaintext only (label the workload " + Identities.TLS_MODE_LABEL
                + "=istio to take mTLS)"));
        yield inMesh ? TlsContexts.proxylessServer(true) : null;
      }
    };
  }
}
