package weft.xds.envoygen;

import java.util.List;

/** Names and numbers Envoy and Istio agree on; Envoy sidecars bootstrapped by Istio's agent expect them. */
final class WellKnown {
  private WellKnown() {}

  // Fixed clusters, named as Istio names them (pilot/pkg/networking/util).
  static final String BLACK_HOLE_CLUSTER = "BlackHoleCluster";
  static final String PASSTHROUGH_CLUSTER = "PassthroughCluster";
  static final String INBOUND_PASSTHROUGH_CLUSTER = "InboundPassthroughCluster";

  // Sidecar capture listeners: iptables sends outbound traffic to 15001 and inbound to 15006 (Istio's defaults).
  static final String VIRTUAL_OUTBOUND = "virtualOutbound";
  static final String VIRTUAL_INBOUND = "virtualInbound";
  static final int OUTBOUND_CAPTURE_PORT = 15001;
  static final int INBOUND_CAPTURE_PORT = 15006;
  static final String WILDCARD = "0.0.0.0";

  // Filter chain names Istio gives its catch-all chains; dashboards and istioctl look for them.
  static final String OUTBOUND_BLACKHOLE_CHAIN = "virtualOutbound-blackhole";
  static final String OUTBOUND_CATCHALL_CHAIN = "virtualOutbound-catchall-tcp";
  static final String INBOUND_BLACKHOLE_CHAIN = "virtualInbound-blackhole";
  static final String INBOUND_CATCHALL_HTTP_CHAIN = "virtualInbound-catchall-http";
  static final String PASSTHROUGH_CHAIN = "PassthroughFilterChain";

  /** Istio's catch-all virtual host for unknown HTTP destinations under outboundTrafficPolicy ALLOW_ANY. */
  static final String ALLOW_ANY = "allow_any";
  /** Istio's catch-all virtual host under outboundTrafficPolicy REGISTRY_ONLY: a 502 for unknown hosts. */
  static final String BLOCK_ALL = "block_all";

  // Filter names (Envoy's well-known extension names).
  static final String HCM = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  static final String ROUTER = "envoy.filters.http.router";
  static final String FAULT = "envoy.filters.http.fault";
  static final String CORS = "envoy.filters.http.cors";
  static final String GRPC_WEB = "envoy.filters.http.grpc_web";
  static final String ORIGINAL_DST = "envoy.filters.listener.original_dst";
  static final String TLS_INSPECTOR = "envoy.filters.listener.tls_inspector";
  static final String HTTP_INSPECTOR = "envoy.filters.listener.http_inspector";
  static final String TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
  static final String PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts";
  static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  /** Set by Envoy when no TLS was detected on a connection; Istio matches plaintext chains with it. */
  static final String RAW_BUFFER = "raw_buffer";
  /** Set by the TLS inspector when a connection starts with a TLS ClientHello. */
  static final String TLS = "tls";
  /** Name suffix of a PERMISSIVE port's mTLS chain, beside its plaintext chain (grpc-java and tooling want unique names). */
  static final String MTLS_CHAIN_SUFFIX = "-mtls";

  /** ALPN values the HTTP inspector reports for plaintext HTTP/1.1 and prior-knowledge HTTP/2 (Istio's plaintextHTTPALPNs). */
  static final List<String> PLAINTEXT_HTTP_ALPNS = List.of("http/1.1", "h2c");

  /** What a TLS-terminating gateway offers (Istio's util.ALPNHttp). */
  static final List<String> GATEWAY_ALPNS = List.of("h2", "http/1.1");

  /** Istio's mesh default connectTimeout; MeshConfig in Weft has no override yet. */
  static final java.time.Duration CONNECT_TIMEOUT = java.time.Duration.ofSeconds(10);

  /** Istio's mesh default dnsRefreshRate for STRICT_DNS and LOGICAL_DNS clusters. */
  static final java.time.Duration DNS_REFRESH_RATE = java.time.Duration.ofSeconds(60);

  /**
   * Source address of connections the sidecar makes to its own workload (Istio's InboundPassthroughBindIpv4):
   * iptables recognises it and does not capture that traffic a second time.
   */
  static final String INBOUND_BIND_IPV4 = "127.0.0.6";

  /** SDS resource names for Kubernetes secrets named by a Gateway's credentialName (Istio's convention). */
  static final String KUBERNETES_SECRET_PREFIX = weft.xds.security.TlsContexts.KUBERNETES_SECRET_PREFIX;
  static final String CA_CERT_SUFFIX = weft.xds.security.TlsContexts.CA_CERT_SUFFIX;
}
