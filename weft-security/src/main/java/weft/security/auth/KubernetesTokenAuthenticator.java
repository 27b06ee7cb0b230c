package weft.security.auth;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import weft.security.SpiffeId;

/**
 * Kubernetes mode: the caller's ServiceAccount token is checked by a TokenReview on the API server
 * of the caller's own cluster, as istiod does. The cluster is the one the caller names in its
 * {@code ClusterID} header; none means ours. A remote cluster is reached through the client its
 * remote secret gives (the lookup is the caller's); a cluster without one is refused.
 */
public final class KubernetesTokenAuthenticator implements Authenticator {
  // Kubernetes names a service account's user "system:serviceaccount:NAMESPACE:NAME".
  private static final String SA_PREFIX = "system:serviceaccount:";

  private final String localClusterId;
  private final Function<String, KubernetesClient> clients;
  private final List<String> audiences;

  /**
   * @param localClusterId the cluster a caller without a {@code ClusterID} header belongs to
   * @param clients cluster id to a client of that cluster's API server, or null when unknown
   * @param audiences audiences the token must be for (Istio's agent uses {@code istio-ca} for bound
   *     tokens); empty lets the API server apply its default audience
   */
  public KubernetesTokenAuthenticator(String localClusterId, Function<String, KubernetesClient> clients,
      List<String> audiences) {
    this.localClusterId = Objects.requireNonNull(localClusterId);
    this.clients = Objects.requireNonNull(clients);
    this.audiences = List.copyOf(audiences);
  }

  @Override
  public Identity authenticate(String bearerToken, String callerClusterId) throws AuthenticationException {
    if (bearerToken == null || bearerToken.isEmpty()) {
      throw new AuthenticationException("no bearer token");
    }
    String cluster = callerClusterId == null || callerClusterId.isEmpty() ? localClusterId : callerClusterId;
    KubernetesClient client = clients.apply(cluster);
    if (client == null) {
      throw new AuthenticationException("cluster '" + cluster + "' is not known to this control plane (no remote "
          + "secret for it), so its tokens cannot be reviewed");
    }
    TokenReview request = new TokenReviewBuilder().withNewSpec().withToken(bearerToken)
        .withAudiences(audiences.isEmpty() ? null : audiences).endSpec().build();
    TokenReview review;
    try {
      review = client.authentication().v1().tokenReviews().create(request);
    } catch (KubernetesClientException e) {
      boolean ours = e.getCode() == 0 || e.getCode() >= 500 || e.getCode() == 401 || e.getCode() == 403;
      throw new AuthenticationException("TokenReview in cluster '" + cluster + "' failed"
          + (e.getCode() > 0 ? " (HTTP " + e.getCode() + ")" : "") + ": " + e.getMessage(), ours, e);
    }
    TokenReviewStatus status = review == null ? null : review.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String why = status == null || status.getError() == null || status.getError().isEmpty()
          ? "token not authenticated" : status.getError();
      throw new AuthenticationException("TokenReview in cluster '" + cluster + "' refused the token: " + why);
    }
    String user = status.getUser() == null ? null : status.getUser().getUsername();
    if (user == null || !user.startsWith(SA_PREFIX)) {
      throw new AuthenticationException("TokenReview in cluster '" + cluster + "': user '" + user
          + "' is not a service account; only service accounts get workload certificates");
    }
    String[] parts = user.substring(SA_PREFIX.length()).split(":", -1);
    if (parts.length != 2 || !SpiffeId.isValidName(parts[0]) || !SpiffeId.isValidName(parts[1])) {
      throw new AuthenticationException("TokenReview in cluster '" + cluster + "': cannot read namespace and "
          + "service account from user '" + user + "'");
    }
    return new Identity(parts[0], parts[1], "TokenReview in cluster " + cluster, cluster);
  }
}
