package weft.xds.sds;

/**
 * Whether a proven identity may be sent its namespace's Secrets over SDS. Istio asks the API server
 * (a SubjectAccessReview: may the proxy's service account list Secrets there?) before it sends a
 * gateway its {@code credentialName} certificates, so that Kubernetes RBAC, not just a namespace,
 * decides who holds a private key. Asked once per stream, when its node is read; a stream never
 * waits for the answer: until it comes the proxy is sent no key, and then it is pushed again.
 */
@FunctionalInterface
public interface SecretAccess {
  /** Every proven identity may have its own namespace's Secrets (file mode: no API server to ask). */
  SecretAccess OWN_NAMESPACE = (namespace, serviceAccount) -> null;

  /** Null when service account {@code serviceAccount} of {@code namespace} may be sent them, else why not. */
  String refusal(String namespace, String serviceAccount);

  /**
   * The same decision without blocking the caller: complete at once when it is known (cached), else
   * when the answer comes. The default asks {@link #refusal} at once.
   */
  default java.util.concurrent.CompletableFuture<String> decide(String namespace, String serviceAccount) {
    return java.util.concurrent.CompletableFuture.completedFuture(refusal(namespace, serviceAccount));
  }
}
