package weft.security.auth;

import java.util.Objects;
import weft.security.SpiffeId;

/**
 * Who a caller proved to be: a Kubernetes service account. {@code source} says how it was proved
 * (for the log), e.g. "token file" or "TokenReview in cluster cluster2".
 */
public record Identity(String namespace, String serviceAccount, String source) {
  public Identity {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(source, "source");
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
