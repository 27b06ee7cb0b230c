/**
 * Envoy xDS for sidecars and gateways ({@code proxyless == false}), built with Istio's conventions
 * (pilot/pkg/networking/core): listener, route and cluster names, the capture listeners on 15001
 * and 15006, per-port RDS, DestinationRule policies on clusters, and Gateway servers on routers.
 * The public entry points are {@link weft.xds.envoygen.EnvoyListeners},
 * {@link weft.xds.envoygen.EnvoyRoutes}, {@link weft.xds.envoygen.EnvoyClusters} and
 * {@link weft.xds.envoygen.EnvoyEndpoints}; everything else is package-private. Output is a pure
 * function of the snapshot and the proxy; anything left out is recorded in the proxy's view.
 */
package weft.xds.envoygen;
