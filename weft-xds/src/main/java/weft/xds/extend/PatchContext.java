package weft.xds.extend;

/** Istio's PatchContext: which side of a proxy a resource serves. */
enum PatchContext {
  SIDECAR_INBOUND, SIDECAR_OUTBOUND, GATEWAY
}
