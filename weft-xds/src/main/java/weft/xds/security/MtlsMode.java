package weft.xds.security;

/** What a server accepts on a port once PeerAuthentication inheritance is resolved (never Istio's UNSET). */
public enum MtlsMode {
  /** Plaintext only. */
  DISABLE,
  /** Both; Istio's default when no policy says otherwise. */
  PERMISSIVE,
  /** Mutual TLS only. */
  STRICT
}
