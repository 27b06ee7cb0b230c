/**
 * Mesh security as xDS, shared by the Envoy and proxyless generators: which PeerAuthentication and
 * AuthorizationPolicy resources apply to a workload (Istio's selection rules), the mutual-TLS mode a
 * server accepts and whether a client originates mTLS (DestinationRule or auto mTLS), the TLS
 * contexts each kind of client understands (certificate-provider instances for grpc-java, SDS
 * secrets for Envoy), and AuthorizationPolicy rules translated into Envoy's RBAC.
 *
 * <p>Everything here is a pure function of its inputs; anything skipped is reported through the
 * proxy's view with the reason.
 */
package weft.xds.security;
