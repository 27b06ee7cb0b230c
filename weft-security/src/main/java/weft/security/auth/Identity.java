package weft.security.auth;

import java.util.Objects;
import weft.security.SpiffeId;

/**
 * Who a caller proved to be: a Kubernetes service account. {@code source} says how it was proved
 * (for the log), e.g. "token file" or "TokenReview in cluster cluster2". {@code clusterId} is the
 * cluster whose API server vouched for the token, or empty when the proof holds in every cluster
 * (file mode).
 */
public record Identity(String namespace, String serviceAccount, String source, String clusterId) {
  public Identity {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(clusterId, "clusterId");
  }

  /** An identity not tied to one cluster. */
  public Identity(String namespace, String serviceAccount, String source) {
    this(namespace, serviceAccount, source, "");
  }

  /** The identity as a certificate names it in {@code trustDomain}. */
  public SpiffeId spiffeId(String trustDomain) {
    return new SpiffeId(trustDomain, namespace, serviceAccount);
  }

  @Override
  public String toString() {
    return namespace + "/" + serviceAccount + " (" + source + ")";
  }
}
