package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client sends that ends up in the log (NACK details, node ids, type URLs) is escaped, cut
 * and rate-limited per stream, while metrics still count every event.
 */
class ClientTextInLogsTest {
  static final String REVIEWS = AdsServerTest.REVIEWS;
  // A few lines per kind per stream per minute (LogBudget's default); a test may span a minute or two.
  static final int LINES_PER_MINUTE = 3;

  TestMesh mesh;
  Server bigMessages;
  final List<LogRecord> records = new CopyOnWriteArrayList<>();
  final Logger jul = Logger.getLogger("weft.xds.server.ProxyConnection");
  final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void start() throws Exception {
    mesh = new TestMesh(TestMesh.service("reviews", "default", 9080, "10.1.0.1"));
    // As the control plane's plaintext port: messages up to 16 MB, so an 8 MB NACK is delivered.
    bigMessages = NettyServerBuilder.forAddress(new InetSocketAddress("localhost", 0))
        .maxInboundMessageSize(16 * 1024 * 1024).addService(mesh.ads.definition()).build().start();
    jul.addHandler(capture);
    jul.setLevel(Level.ALL);
  }

  @AfterEach
  void stop() {
    jul.removeHandler(capture);
    bigMessages.shutdownNow();
    mesh.close();
  }

  /** The first stream's last CDS NACK in a proxy-status listing, or null while there is none. */
  private static Map<?, ?> lastNack(List<Map<String, Object>> status) {
    if (status.isEmpty()) return null;
    Map<?, ?> cds = (Map<?, ?>) ((Map<?, ?>) status.get(0).get("xds")).get("CDS");
    return cds == null ? null : (Map<?, ?>) cds.get("lastNack");
  }

  private List<LogRecord> linesAbout(String podName) {
    return records.stream().filter(r -> r.getMessage().contains(podName)).toList();
  }

  @Test
  void aNackWithANewlineAndEightMegabytesIsOneEscapedShortLogLine() throws Exception {
    String detail = "bad cluster\n2026-01-01 INFO weft.xds: proxy accepted everything " + "x".repeat(8 * 1024 * 1024);
    try (AdsTestClient client = new AdsTestClient(bigMessages.getPort(), AdsTestClient.proxyless("forger", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      DiscoveryResponse r = client.next();
      client.nack(r, "", List.of(REVIEWS), detail);

      await().atMost(Duration.ofSeconds(60)).until(() -> !linesAbout("forger").isEmpty());
      List<LogRecord> lines = linesAbout("forger");
      assertThat(lines).hasSize(1);
      String line = lines.get(0).getMessage();
      assertThat(line).doesNotContain("\n").contains("bad cluster\\n2026-01-01 INFO weft.xds: proxy accepted")
          .contains("\u2026(" + detail.length() + " bytes)");
      assertThat(line.length()).isLessThan(1024);
      assertThat(mesh.meters.counter("weft_xds_nacks_total", "type", "CDS").count()).isEqualTo(1.0);

      // The line is logged as the NACK is handled; the stream's status summary is published right
      // after, so it is read once it shows the NACK.
      await().atMost(Duration.ofSeconds(60)).until(() -> lastNack(mesh.ads.proxyStatus()) != null);
      String shown = (String) lastNack(mesh.ads.proxyStatus()).get("reason");
      assertThat(shown).startsWith("bad cluster\\n2026-01-01").endsWith("(" + detail.length() + " bytes)")
          .doesNotContain("\n");
      assertThat(shown.length()).isLessThan(300);
    }
  }

  @Test
  void tenThousandNacksOnOneStreamAreAllCountedButLoggedAFewTimes() throws Exception {
    long started = System.nanoTime();
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("nacker", "default"))) {
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      DiscoveryResponse r = client.next();
      for (int i = 0; i < 10_000; i++) client.nack(r, "", List.of(REVIEWS), "rejected #" + i);
      // Requests of a stream are handled in order: once this is answered, every NACK before it was handled.
      client.request(TypeUrls.ENDPOINT, List.of(REVIEWS));
      assertThat(client.next().getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);

      assertThat(mesh.meters.counter("weft_xds_nacks_total", "type", "CDS").count()).isEqualTo(10_000.0);
      long minutes = Duration.ofNanos(System.nanoTime() - started).toMinutes();
      assertThat(linesAbout("nacker")).hasSizeBetween(LINES_PER_MINUTE, LINES_PER_MINUTE * (int) (minutes + 1));
      assertThat(linesAbout("nacker").get(0).getMessage()).contains("rejected #0");
    }
    // Closing the stream is its last chance to say how many lines were left out.
    await().atMost(Duration.ofSeconds(60)).until(() -> linesAbout("nacker").stream()
        .anyMatch(l -> l.getMessage().contains("closed its stream")));
    // Every NACK is either a line, or counted in a later line's suffix, or in the closing line.
    long accounted = 0;
    for (LogRecord l : linesAbout("nacker")) {
      java.util.regex.Matcher later = java.util.regex.Pattern.compile("\\((\\d+) more like this not logged")
          .matcher(l.getMessage());
      java.util.regex.Matcher last = java.util.regex.Pattern.compile("since its last line: (\\d+) NACKs")
          .matcher(l.getMessage());
      if (last.find()) {
        accounted += Long.parseLong(last.group(1));
      } else {
        accounted += 1 + (later.find() ? Long.parseLong(later.group(1)) : 0);
      }
    }
    assertThat(accounted).isEqualTo(10_000);
  }

  @Test
  void tenThousandRequestsForUnknownTypesAreAllCountedButLoggedAFewTimesEscaped() throws Exception {
    long started = System.nanoTime();
    try (AdsTestClient client = new AdsTestClient(mesh.port(), AdsTestClient.proxyless("prober", "default"))) {
      for (int i = 0; i < 10_000; i++) {
        client.request("type.googleapis.com/evil\nSEVERE: forged line " + i, List.of());
      }
      client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
      assertThat(client.next().getTypeUrl()).isEqualTo(TypeUrls.CLUSTER);

      assertThat(mesh.meters.counter("weft_xds_unsupported_type_requests_total").count()).isEqualTo(10_000.0);
      long minutes = Duration.ofNanos(System.nanoTime() - started).toMinutes();
      List<LogRecord> lines = linesAbout("prober");
      assertThat(lines).hasSizeBetween(LINES_PER_MINUTE, LINES_PER_MINUTE * (int) (minutes + 1));
      assertThat(lines).allSatisfy(l -> assertThat(l.getMessage()).doesNotContain("\n")
          .contains("type.googleapis.com/evil\\nSEVERE: forged line"));
    }
  }

  @Test
  void aNodeIdWithControlCharactersIsRefusedAndLoggedEscaped() throws Exception {
    Logger serverLog = Logger.getLogger("weft.xds.server.AdsServer");
    serverLog.addHandler(capture);
    try {
      var node = AdsTestClient.proxyless("x", "default").toBuilder().setId("evil\n\u001b[31mINFO all good").build();
      try (AdsTestClient client = new AdsTestClient(mesh.port(), node)) {
        client.request(TypeUrls.CLUSTER, List.of(REVIEWS));
        Throwable error = client.errors.poll(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(io.grpc.Status.fromThrowable(error).getDescription()).contains("evil\\n\\u001b[31mINFO all good");
        await().atMost(Duration.ofSeconds(60)).until(() -> !linesAbout("INFO all good").isEmpty());
        assertThat(linesAbout("INFO all good")).singleElement()
            .satisfies(l -> assertThat(l.getMessage()).doesNotContain("\n", "\u001b"));
      }
    } finally {
      serverLog.removeHandler(capture);
    }
  }
}
