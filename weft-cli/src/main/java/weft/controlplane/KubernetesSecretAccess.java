package weft.controlplane;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import weft.xds.sds.SecretAccess;

/**
 * Asks the config cluster's API server, as istiod does before it sends a gateway its
 * {@code credentialName} certificates, whether a proxy's service account may list Secrets in its
 * namespace (a SubjectAccessReview for {@code system:serviceaccount:NS:SA}). Decisions are cached
 * per service account for a minute (a refusal or an unanswered review for 5 seconds), so a fleet
 * of reconnecting proxies asks once per account, and an RBAC change is followed within the minute.
 * An API server that cannot answer means no: a private key is never sent on a guess. Reviews run on
 * a thread of their own; a proxy whose answer is not cached yet is sent no key until it comes.
 *
 * <p>The request is built from the proven identity only (never from node metadata) and sent as a
 * generic object, so no client model beyond the core is needed.
 */
final class KubernetesSecretAccess implements SecretAccess, AutoCloseable {
  static final Duration REVIEW_TIMEOUT = Duration.ofSeconds(5);
  static final Duration ALLOWED_FOR = Duration.ofMinutes(1);
  static final Duration REFUSED_FOR = Duration.ofSeconds(5);
  private static final ResourceDefinitionContext REVIEWS = new ResourceDefinitionContext.Builder()
      .withGroup("authorization.k8s.io").withVersion("v1").withKind("SubjectAccessReview")
      .withPlural("subjectaccessreviews").withNamespaced(false).build();

  private record Decision(String refusal, Instant until) {}

  private final KubernetesClient client;
  private final Clock clock;
  private final Map<String, Decision> cache = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<String>> inFlight = new ConcurrentHashMap<>();
  private final ExecutorService reviews = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-secret-access-review");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param cluster the config cluster's client; reviews use a copy of its connection that neither
   *     retries nor waits long, since a proxy's stream waits for the answer
   */
  KubernetesSecretAccess(KubernetesClient cluster, Clock clock) {
    io.fabric8.kubernetes.client.Config quick = new io.fabric8.kubernetes.client.ConfigBuilder(cluster.getConfiguration())
        .withRequestRetryBackoffLimit(0).withRequestTimeout((int) REVIEW_TIMEOUT.toMillis())
        .withConnectionTimeout((int) REVIEW_TIMEOUT.toMillis()).build();
    this.client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(quick).build();
    this.clock = clock;
  }

  @Override
  public void close() {
    reviews.shutdownNow();
    client.close();
  }

  @Override
  public String refusal(String namespace, String serviceAccount) {
    return decide(namespace, serviceAccount).join();
  }

  /**
   * Complete at once from the cache; otherwise one review per account at a time, on this object's
   * own thread (a stream waiting for its node must never wait for the API server).
   */
  @Override
  public CompletableFuture<String> decide(String namespace, String serviceAccount) {
    String user = "system:serviceaccount:" + namespace + ":" + serviceAccount;
    Decision cached = cache.get(user);
    if (cached != null && clock.instant().isBefore(cached.until())) {
      return CompletableFuture.completedFuture(cached.refusal());
    }
    return inFlight.computeIfAbsent(user, u -> CompletableFuture.supplyAsync(() -> {
      String refusal = review(u, namespace);
      cache.put(u, new Decision(refusal, clock.instant().plus(refusal == null ? ALLOWED_FOR : REFUSED_FOR)));
      inFlight.remove(u);
      return refusal;
    }, reviews));
  }

  private String review(String user, String namespace) {
    GenericKubernetesResource review = new GenericKubernetesResource();
    review.setApiVersion("authorization.k8s.io/v1");
    review.setKind("SubjectAccessReview");
    review.setMetadata(new ObjectMeta());
    review.setAdditionalProperty("spec", Map.of(
        "user", user,
        "groups", List.of("system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"),
        "resourceAttributes", Map.of("namespace", namespace, "verb", "list", "group", "", "resource", "secrets")));
    try {
      GenericKubernetesResource answer = client.genericKubernetesResources(REVIEWS).resource(review).create();
      Object status = answer == null ? null : answer.getAdditionalProperties().get("status");
      if (status instanceof Map<?, ?> s && Boolean.TRUE.equals(s.get("allowed"))) return null;
      Object reason = status instanceof Map<?, ?> s ? s.get("reason") : null;
      return "service account " + user + " may not list Secrets in namespace " + namespace + " (SubjectAccessReview"
          + (reason == null || reason.toString().isEmpty() ? "" : ": " + reason) + "); grant it a Role with get, "
          + "list and watch on secrets there, as Istio's gateway charts do";
    } catch (KubernetesClientException e) {
      return "the API server could not say whether " + user + " may list Secrets in namespace " + namespace + " ("
          + e.getCode() + " " + e.getMessage() + "); asked again in " + REFUSED_FOR.toSeconds() + " s. The control "
          + "plane's role needs create on authorization.k8s.io subjectaccessreviews";
    }
  }
}
