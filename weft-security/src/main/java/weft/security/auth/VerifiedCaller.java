package weft.security.auth;

import java.util.Objects;
import weft.security.SpiffeId;

/**
 * Who an xDS client on the secure port proved to be, and how. {@code clusterId} is the cluster whose
 * API server vouched for a token, empty when the proof holds everywhere (a certificate, a file-mode
 * token).
 */
public record VerifiedCaller(SpiffeId id, Method method, String clusterId) {
  /** How the caller proved its identity. */
  public enum Method {
    CERTIFICATE,
    TOKEN
  }

  public VerifiedCaller {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(clusterId, "clusterId");
  }

  @Override
  public String toString() {
    return id + " (" + (method == Method.CERTIFICATE ? "client certificate"
        : clusterId.isEmpty() ? "token" : "token reviewed in cluster " + clusterId) + ")";
  }
}
