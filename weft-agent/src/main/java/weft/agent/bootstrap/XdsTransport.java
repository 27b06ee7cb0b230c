package weft.agent.bootstrap;

/** How the application's xDS client reaches the control plane. */
public enum XdsTransport {
  /** Istio's 15010: no TLS ({@code channel_creds} type {@code insecure}). */
  PLAINTEXT,
  /** Istio's 15012: TLS, the control plane checked against the mesh root and its DNS name. */
  TLS,
  /** As {@link #TLS}, and the workload presents its own certificate, so the control plane knows who asks. */
  MUTUAL_TLS
}
