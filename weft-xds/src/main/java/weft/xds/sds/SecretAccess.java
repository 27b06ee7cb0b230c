package weft.xds.sds;

/**
 * Whether a proven identity may be sent its namespace's Secrets over SDS. Istio asks the API server
 * (a SubjectAccessReview: may the proxy's service account list Secrets there?) before it sends a
 * gateway its {@code credentialName} certificates, so that Kubernetes RBAC, not just a namespace,
 * decides who holds a private key. Asked once per stream, when its node is read (off the I/O thread);
 * an implementation may block briefly and should cache.
 */
@FunctionalInterface
public interface SecretAccess {
  /** Every proven identity may have its own namespace's Secrets (file mode: no API server to ask). */
  SecretAccess OWN_NAMESPACE = (namespace, serviceAccount) -> null;

  /** Null when service account {@code serviceAccount} of {@code namespace} may be sent them, else why not. */
  String refusal(String namespace, String serviceAccount);
}
