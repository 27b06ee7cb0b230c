package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule asking for TLS a proxyless client cannot originate (a credentialName Secret, which
 * needs SDS) makes a real grpc-java client's calls fail UNAVAILABLE instead of going out in plaintext, is shown as a config error, and
 * a rule Weft can serve brings the calls back.
 */
class FailClosedTlsTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    mesh.echo("reviews-1", "127.0.0.1");
    mesh.write("reviews.yaml", Yamls.service("reviews", "default", 9080, mesh.port, null)
        + Yamls.endpoints("reviews", "default", mesh.port, new String[] {"reviews-1", "127.0.0.1", "v1"}));
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  static String tls(String mode) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews-tls, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            tls: {mode: %s}
        """.formatted(mode);
  }

  static Status.Code outcome(ManagedChannel ch) {
    try {
      Mesh.call(ch);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void tlsFromASecretOverSdsFailsAProxylessCallUnavailableInsteadOfSendingItInPlaintext() throws Exception {
    ManagedChannel client = mesh.client("default", HOST, 9080);
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> Mesh.call(client).equals("reviews-1"));

    mesh.write("reviews-dr.yaml", tls("SIMPLE, credentialName: reviews-ca"));
    await().atMost(Duration.ofSeconds(60)).until(() -> outcome(client) == Status.Code.UNAVAILABLE);
    String status = mesh.debugStatus();
    assertThat(status).contains("spec.trafficPolicy.tls.credentialName").contains("reviews-tls")
        .contains("rather than go out without the requested TLS").contains("credentialName reviews-ca");

    mesh.write("reviews-dr.yaml", tls("DISABLE"));
    await().atMost(Duration.ofSeconds(60)).until(() -> outcome(client) == Status.Code.OK);
    assertThat(Mesh.call(client)).isEqualTo("reviews-1");
  }
}
