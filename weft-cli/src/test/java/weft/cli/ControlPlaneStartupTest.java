package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * Start-up against API servers that cannot be reached: the control plane says what it waits for,
 * answers on its monitoring port meanwhile, waits one {@code --initial-sync-wait} in all, and the
 * log holds Weft's own lines, not fabric8's.
 */
class ControlPlaneStartupTest {
  /** Long enough that a poll every 100 ms sees the not-ready phase on a busy machine. */
  static final Duration WAIT = Duration.ofSeconds(4);

  @TempDir
  Path dir;

  final List<LogRecord> records = new CopyOnWriteArrayList<>();
  final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      if (isLoggable(r)) records.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  CompletableFuture<ControlPlane> started;

  @BeforeEach
  void logLikeTheWeftCommand() {
    Logging.configure();
    capture.setLevel(Level.ALL);
    Logger.getLogger("").addHandler(capture);
  }

  @AfterEach
  void stop() {
    Logger.getLogger("").removeHandler(capture);
    if (started != null) started.thenAccept(ControlPlane::close).join();
  }

  @Test
  void anUnreachableApiServerDelaysReadinessByOneInitialSyncWaitAndFabric8StaysQuiet() throws Exception {
    int apiPort = FreePort.unbound();
    int remotePort = FreePort.unbound();
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), kubeconfig("https://127.0.0.1:" + apiPort));
    Path secrets = Files.createDirectories(dir.resolve("secrets"));
    Files.writeString(secrets.resolve("cluster2.yaml"), """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-cluster2
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          cluster2: |
        %s""".formatted(kubeconfig("https://127.0.0.1:" + remotePort).indent(4)));
    // The levels Logging sets must hold after a collection: JUL keeps loggers only weakly.
    System.gc();
    int monitoring = FreePort.unbound();
    ControlPlaneOptions options = ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, monitoring)
        .withRemoteSecrets(secrets, null, WAIT);

    started = CompletableFuture.supplyAsync(() -> {
      try {
        return ControlPlane.start(options);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });

    URI ready = URI.create("http://localhost:" + monitoring + "/ready");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> status(ready) == 503);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> status(ready) == 200);

    LogRecord waiting = only("waiting up to ");
    assertThat(waiting.getMessage()).isEqualTo("waiting up to 4 s (--initial-sync-wait) for cluster1 (API server "
        + "https://127.0.0.1:" + apiPort + "/), cluster2 (remote secret), the remote secrets in istio-system of "
        + "cluster1");
    assertThat(only("has not synced within").getMessage()).isEqualTo("cluster cluster1 (" + kubeconfig
        + ") has not synced within 4 s (--initial-sync-wait); serving what is known");
    // The last cluster given up on: the wait ends here, one --initial-sync-wait after it began.
    LogRecord gaveUp = only("remote cluster cluster2 has not synced");
    assertThat(gaveUp.getLevel()).isEqualTo(Level.WARNING);
    Duration waited = Duration.between(waiting.getInstant(), gaveUp.getInstant());
    assertThat(waited).isGreaterThanOrEqualTo(WAIT.minusMillis(50)).isLessThan(WAIT.multipliedBy(2));
    only("weft control plane serving xDS");
    // Progress while waiting, and where the wait ended, with counts.
    assertThat(messages()).anyMatch(m -> m.contains("initial sync: 0 of 2 clusters synced (waiting for cluster1, "
        + "cluster2); ") && m.endsWith(" s of --initial-sync-wait left"));
    assertThat(only("initial sync: 0 of 2 clusters synced (waiting for cluster1, cluster2) after ").getLevel())
        .isEqualTo(Level.INFO);

    assertThat(records).noneMatch(r -> r.getLoggerName() != null && r.getLoggerName().startsWith("io.fabric8"));
    assertThat(records).noneMatch(r -> r.getLevel() == Level.SEVERE);
    // One line per problem: the same reason is not repeated on every retry.
    List<String> warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING).map(LogRecord::getMessage)
        .toList();
    assertThat(warnings).doesNotHaveDuplicates();
  }

  private LogRecord only(String start) {
    List<LogRecord> matching = records.stream()
        .filter(r -> r.getMessage() != null && r.getMessage().contains(start)).toList();
    assertThat(matching).as("log records containing '%s' in %s", start, messages()).hasSize(1);
    return matching.get(0);
  }

  private List<String> messages() {
    return records.stream().map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage()).toList();
  }

  private static int status(URI uri) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String kubeconfig(String server) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "%s", insecure-skip-tls-verify: true}
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        users:
        - name: u
          user: {token: "t"}
        """.formatted(server);
  }
}
