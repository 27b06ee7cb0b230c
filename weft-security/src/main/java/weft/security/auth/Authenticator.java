package weft.security.auth;

/** Turns a caller's credentials into the one identity it may have a certificate for. */
@FunctionalInterface
public interface Authenticator {
  /**
   * @param bearerToken the token from the caller's {@code authorization: Bearer} header
   * @param callerClusterId the cluster the caller says it runs in (Istio's {@code ClusterID}
   *     header); null or empty when it sent none
   * @throws AuthenticationException when the token does not prove an identity
   */
  Identity authenticate(String bearerToken, String callerClusterId) throws AuthenticationException;
}
