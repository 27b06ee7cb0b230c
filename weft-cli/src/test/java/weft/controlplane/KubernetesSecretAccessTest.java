package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Before Secrets go to a proxy, the API server is asked whether its service account may list them,
 * as istiod asks: a SubjectAccessReview naming only the proven identity, cached per account, and
 * no answer means no. The mock API server answers the review the way RBAC would for one Role.
 */
class KubernetesSecretAccessTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ALLOWED = "system:serviceaccount:istio-ingress:istio-ingressgateway";

  KubernetesMockServer server;
  NamespacedKubernetesClient client;
  final List<JsonNode> reviews = new CopyOnWriteArrayList<>();
  volatile boolean apiDown;

  @BeforeEach
  void start() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init();
    client = server.createClient();
    // The mock server has no authorizer: answer the one endpoint as RBAC with one Role would.
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/subjectaccessreviews")
        .andReply(new ResponseProvider<Object>() {
          private io.fabric8.mockwebserver.http.Headers headers = io.fabric8.mockwebserver.http.Headers.builder().build();

          @Override
          public int getStatusCode(RecordedRequest request) {
            return apiDown ? 503 : 201;
          }

          @Override
          public Object getBody(RecordedRequest request) {
            try {
              JsonNode body = JSON.readTree(request.getUtf8Body());
              reviews.add(body);
              if (apiDown) return "unavailable";
              JsonNode spec = body.get("spec");
              JsonNode attributes = spec.get("resourceAttributes");
              boolean allowed = ALLOWED.equals(spec.get("user").asText())
                  && "secrets".equals(attributes.get("resource").asText())
                  && "list".equals(attributes.get("verb").asText())
                  && "istio-ingress".equals(attributes.get("namespace").asText());
              ((com.fasterxml.jackson.databind.node.ObjectNode) body).putObject("status").put("allowed", allowed)
                  .put("reason", allowed ? "RBAC: allowed by RoleBinding gateway-secrets" : "");
              return JSON.writeValueAsString(body);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }

          @Override
          public io.fabric8.mockwebserver.http.Headers getHeaders() {
            return headers;
          }

          @Override
          public void setHeaders(io.fabric8.mockwebserver.http.Headers h) {
            headers = h;
          }
        }).always();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  @Test
  void anAccountRbacLetsListSecretsIsAllowedAndTheAnswerIsCachedForAMinute() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T10:00:00Z"));
    KubernetesSecretAccess access = new KubernetesSecretAccess(client, clock(now));
    assertThat(access.refusal("istio-ingress", "istio-ingressgateway")).isNull();
    assertThat(reviews).singleElement().satisfies(r -> {
      assertThat(r.get("kind").asText()).isEqualTo("SubjectAccessReview");
      assertThat(r.get("spec").get("groups").toString()).contains("system:serviceaccounts:istio-ingress");
    });
    assertThat(access.refusal("istio-ingress", "istio-ingressgateway")).isNull();
    assertThat(reviews).hasSize(1);
    now.set(now.get().plus(KubernetesSecretAccess.ALLOWED_FOR).plusSeconds(1));
    assertThat(access.refusal("istio-ingress", "istio-ingressgateway")).isNull();
    assertThat(reviews).hasSize(2);
  }

  @Test
  void anotherAccountIsRefusedWithWhatToGrantAndAskedAgainSoon() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-02T10:00:00Z"));
    KubernetesSecretAccess access = new KubernetesSecretAccess(client, clock(now));
    assertThat(access.refusal("istio-ingress", "frontend")).contains("system:serviceaccount:istio-ingress:frontend")
        .contains("may not list Secrets").contains("Role");
    now.set(now.get().plus(KubernetesSecretAccess.REFUSED_FOR).plusSeconds(1));
    access.refusal("istio-ingress", "frontend");
    assertThat(reviews).hasSize(2);
  }

  @Test
  void anApiServerThatCannotAnswerMeansNo() {
    apiDown = true;
    KubernetesSecretAccess access = new KubernetesSecretAccess(client, Clock.systemUTC());
    assertThat(access.refusal("istio-ingress", "istio-ingressgateway")).contains("could not say").contains("503");
    assertThat(reviews).hasSize(1);
  }

  private static Clock clock(AtomicReference<Instant> now) {
    return new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now.get();
      }
    };
  }
}
