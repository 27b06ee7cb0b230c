/**
 * End-user authentication: RequestAuthentication as Envoy's {@code jwt_authn} filter, and the key sets of
 * the issuers, which the control plane fetches and sends inline (Istio's default).
 */
package weft.xds.authn;
