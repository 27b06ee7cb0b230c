package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seed's "Single cluster" model: one control plane, one cluster, proxyless gRPC clients and
 * servers on real sockets, config from a watched folder.
 */
class SingleClusterTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  static final int SERVICE_PORT = 9080;
  static final String[] V1A = {"reviews-v1-a", "127.0.0.1", "v1"};
  static final String[] V1B = {"reviews-v1-b", "127.0.0.2", "v1"};
  static final String[] V2 = {"reviews-v2", "127.0.0.3", "v2"};

  Mesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    for (String[] w : new String[][] {V1A, V1B, V2}) mesh.echo(w[0], w[1]);
    mesh.write("reviews.yaml", Yamls.service("reviews", "default", SERVICE_PORT, mesh.port, null)
        + Yamls.endpoints("reviews", "default", mesh.port, V1A, V1B, V2));
    mesh.write("reviews-dr.yaml", Yamls.subsets("reviews", "default"));
    mesh.controlPlane.registry().flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.controlPlane.registry().current()
        .service(HOST) != null && mesh.controlPlane.registry().current().config().destinationRules().size() == 1);
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void clientRoundRobinsOverThreeEndpoints() {
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    // Round robin spreads evenly over READY subchannels only; under load one may still be
    // connecting after the first call, so wait until every endpoint has answered.
    awaitOnly(client, Map.of(), V1A[0], V1B[0], V2[0]);
    Map<String, Integer> counts = Mesh.spread(client, 300, Map.of());
    assertThat(counts).containsOnlyKeys(V1A[0], V1B[0], V2[0]);
    counts.values().forEach(n -> assertThat(n).isBetween(99, 101));
  }

  @Test
  void virtualServiceSplitsEightyTwenty() throws Exception {
    mesh.write("reviews-vs.yaml", Yamls.split("reviews", 80, 20));
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    awaitOnly(client, Map.of(), V1A[0], V1B[0], V2[0]);
    await().atMost(Duration.ofSeconds(60)).until(() -> share(Mesh.spread(client, 200, Map.of()), V2[0]) < 0.35);
    Map<String, Integer> counts = Mesh.spread(client, 2000, Map.of());
    double v2 = share(counts, V2[0]);
    assertThat(v2).isBetween(0.15, 0.25);
    assertThat(1 - v2).isBetween(0.75, 0.85);
  }

  @Test
  void headerMatchRoutesToSubsetV2() throws Exception {
    mesh.write("reviews-vs.yaml", Yamls.virtualService("reviews", """
          - match:
            - headers:
                end-user: {exact: jason}
            route:
            - destination: {host: reviews, subset: v2}
          - route:
            - destination: {host: reviews, subset: v1}
        """));
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    awaitOnly(client, Map.of(), V1A[0], V1B[0]);
    assertThat(Mesh.spread(client, 100, Map.of("end-user", "jason"))).containsOnlyKeys(V2[0]);
    assertThat(Mesh.spread(client, 100, Map.of("end-user", "other"))).containsOnlyKeys(V1A[0], V1B[0]);
  }

  @Test
  void removingAnEndpointStopsItsTrafficWithoutFailedCalls() throws Exception {
    ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
    awaitOnly(client, Map.of(), V1A[0], V1B[0], V2[0]);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger failures = new AtomicInteger();
    List<String> answers = new CopyOnWriteArrayList<>();
    Thread caller = new Thread(() -> {
      while (running.get()) {
        try {
          answers.add(Mesh.call(client));
        } catch (StatusRuntimeException e) {
          failures.incrementAndGet();
        }
      }
    });
    caller.start();
    try {
      // The removal lands while calls are in flight.
      await().atMost(Duration.ofSeconds(60)).until(() -> answers.size() >= 30);
      mesh.write("reviews.yaml", Yamls.service("reviews", "default", SERVICE_PORT, mesh.port, null)
          + Yamls.endpoints("reviews", "default", mesh.port, V1A, V1B));
      // Round robin over three endpoints answers from v2 every third call: thirty calls in a row
      // without it mean the client has the new endpoints.
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        List<String> last = lastOf(answers, 30);
        return last.size() == 30 && !last.contains(V2[0]);
      });
      int from = answers.size();
      await().atMost(Duration.ofSeconds(60)).until(() -> answers.size() >= from + 100);
      assertThat(List.copyOf(answers).subList(from, from + 100)).containsOnly(V1A[0], V1B[0]);
    } finally {
      running.set(false);
      caller.join();
    }
    assertThat(failures.get()).isZero();
  }

  private static List<String> lastOf(List<String> answers, int n) {
    List<String> copy = List.copyOf(answers);
    return copy.subList(Math.max(0, copy.size() - n), copy.size());
  }

  @Test
  void serviceNotExportedToTheClientsNamespaceIsInvisible() throws Exception {
    mesh.echo("secret-1", "127.0.0.4");
    mesh.write("secret.yaml", Yamls.service("secret", "other", SERVICE_PORT, mesh.port, ".")
        + Yamls.endpoints("secret", "other", mesh.port, new String[] {"secret-1", "127.0.0.4", "v1"}));
    mesh.controlPlane.registry().flush();
    await().atMost(Duration.ofSeconds(60))
        .until(() -> mesh.controlPlane.registry().current().service("secret.other.svc.cluster.local") != null);
    ManagedChannel outsider = mesh.client("default", "secret.other.svc.cluster.local", SERVICE_PORT);
    assertThatThrownBy(() -> Mesh.call(outsider)).isInstanceOf(StatusRuntimeException.class);
    assertThat(mesh.debugStatus()).contains("not exported to namespace default");
    ManagedChannel insider = mesh.client("other", "secret.other.svc.cluster.local", SERVICE_PORT);
    assertThat(Mesh.call(insider)).isEqualTo("secret-1");
  }

  @Test
  void brokenFileIsReportedByNameAndClientsKeepWorking() throws Exception {
    RecordingHandler log = RecordingHandler.install();
    try {
      mesh.write("reviews-vs.yaml", Yamls.split("reviews", 100, 0));
      ManagedChannel client = mesh.client("default", HOST, SERVICE_PORT);
      awaitOnly(client, Map.of(), V1A[0], V1B[0]);
      mesh.write("broken.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n");
      // A bad edit of a file that was serving: the VirtualService keeps its last good version.
      mesh.write("reviews-vs.yaml", Yamls.split("reviews", -5, 0));
      await().atMost(Duration.ofSeconds(60)).until(() -> log.contains("broken.yaml") && log.contains("reviews-vs.yaml"));
      // The log line is written as the file is read; the status shows it once the registry has
      // published the problem, which may come a moment later.
      await().atMost(Duration.ofSeconds(60))
          .until(() -> mesh.debugStatus().contains("broken.yaml") && mesh.debugStatus().contains("reviews-vs.yaml"));
      assertThat(Mesh.spread(client, 100, Map.of())).containsOnlyKeys(V1A[0], V1B[0]);
    } finally {
      log.remove();
    }
  }

  /** Waits until 60 calls in a row land only on {@code names} (config has reached the client). */
  static void awaitOnly(ManagedChannel client, Map<String, String> headers, String... names) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> Mesh.spread(client, 60, headers).keySet().equals(java.util.Set.of(names)));
  }

  static double share(Map<String, Integer> counts, String name) {
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    return counts.getOrDefault(name, 0) / (double) total;
  }

  /** Collects log lines so a test can check what an operator would read. */
  static final class RecordingHandler extends Handler {
    private final StringBuffer lines = new StringBuffer();

    static RecordingHandler install() {
      RecordingHandler h = new RecordingHandler();
      Logger.getLogger("").addHandler(h);
      return h;
    }

    boolean contains(String text) {
      return lines.indexOf(text) >= 0;
    }

    void remove() {
      Logger.getLogger("").removeHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
      lines.append(record.getMessage()).append('\n');
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
