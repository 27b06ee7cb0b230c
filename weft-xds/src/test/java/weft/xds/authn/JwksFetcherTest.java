package weft.xds.authn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.Jwks;

/** The control plane's key cache against an issuer's HTTP server the test runs: fetch, rotation, failures, bounds. */
class JwksFetcherTest {
  static final String KEYS_1 = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"one\",\"e\":\"AQAB\",\"n\":\"AQAB1111\"}]}";
  static final String KEYS_2 = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"two\",\"e\":\"AQAB\",\"n\":\"AQAB2222\"}]}";
  static final Duration WAIT = Duration.ofSeconds(30);

  /** What each path answers: status and body. */
  record Answer(int status, byte[] body) {
    static Answer ok(String body) {
      return new Answer(200, body.getBytes(StandardCharsets.UTF_8));
    }
  }

  HttpServer server;
  final Map<String, Answer> answers = new ConcurrentHashMap<>();
  final CountDownLatch released = new CountDownLatch(1);
  ScheduledExecutorService scheduler;
  JwksFetcher fetcher;
  final AtomicInteger changes = new AtomicInteger();
  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      if (path.equals("/hang")) {
        try {
          released.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      Answer a = answers.getOrDefault(path, new Answer(404, new byte[0]));
      ex.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
      if (a.body().length > 0) ex.getResponseBody().write(a.body());
      ex.close();
    });
    server.start();
    scheduler = Executors.newSingleThreadScheduledExecutor();
    Clock clock = new Clock() {
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
    // Refreshes and retries are driven by the test (refreshAll), never by waiting an interval out.
    fetcher = new JwksFetcher(scheduler, clock, Duration.ofHours(1), Duration.ofHours(1), Duration.ofSeconds(3),
        Duration.ofHours(24), changes::incrementAndGet);
  }

  @AfterEach
  void stop() {
    released.countDown();
    fetcher.close();
    scheduler.shutdownNow();
    server.stop(0);
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  JwksSource.Keys keys(String path) {
    return fetcher.keys(new JwksSource.KeyLocation(url(path), false));
  }

  @Test
  void keysAreFetchedInTheBackgroundAndARotationIsFollowedOnTheNextRefresh() throws Exception {
    answers.put("/jwks.json", Answer.ok(KEYS_1));
    JwksSource.Keys first = keys("/jwks.json");
    assertThat(first.jwks() == null || first.jwks().equals(KEYS_1)).as("a lookup never waits for the network").isTrue();
    await().atMost(WAIT).until(() -> KEYS_1.equals(keys("/jwks.json").jwks()));
    assertThat(changes.get()).isEqualTo(1);
    assertThat(keys("/jwks.json").problem()).isNull();

    answers.put("/jwks.json", Answer.ok(KEYS_2));
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(keys("/jwks.json").jwks()).isEqualTo(KEYS_2);
    assertThat(changes.get()).isEqualTo(2);

    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(changes.get()).as("the same keys again push nothing").isEqualTo(2);
  }

  @Test
  void aFailingServerKeepsTheLastGoodKeysAndSaysWhy() throws Exception {
    answers.put("/jwks.json", Answer.ok(KEYS_1));
    keys("/jwks.json");
    await().atMost(WAIT).until(() -> KEYS_1.equals(keys("/jwks.json").jwks()));
    answers.put("/jwks.json", new Answer(500, new byte[0]));
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(keys("/jwks.json").jwks()).isEqualTo(KEYS_1);
    assertThat(keys("/jwks.json").problem()).contains("HTTP 500");
    answers.put("/jwks.json", Answer.ok("{\"keys\": [{\"kty\": \"RSA\"}]}"));
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(keys("/jwks.json").jwks()).isEqualTo(KEYS_1);
    assertThat(keys("/jwks.json").problem()).contains("no usable key set");
    assertThat(changes.get()).isEqualTo(1);
  }

  @Test
  void aFetchThatFailsBeforeAnySuccessLeavesNoKeys() throws Exception {
    keys("/missing.json");
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    JwksSource.Keys k = keys("/missing.json");
    assertThat(k.jwks()).isNull();
    assertThat(k.problem()).contains("HTTP 404").contains(url("/missing.json"));
    assertThat(changes.get()).isZero();
  }

  @Test
  void anIssuerWithoutJwksUriIsFoundByOpenIdDiscovery() throws Exception {
    answers.put("/realm/.well-known/openid-configuration", Answer.ok("{\"issuer\": \"" + url("/realm")
        + "\", \"jwks_uri\": \"" + url("/realm/certs") + "\"}"));
    answers.put("/realm/certs", Answer.ok(KEYS_2));
    JwksSource.KeyLocation issuer = new JwksSource.KeyLocation(url("/realm"), true);
    fetcher.keys(issuer);
    await().atMost(WAIT).until(() -> KEYS_2.equals(fetcher.keys(issuer).jwks()));
  }

  @Test
  void aKeySetLargerThanTheBoundIsRefused() throws Exception {
    answers.put("/big.json", Answer.ok("{\"keys\": [], \"pad\": \"" + "x".repeat(Jwks.MAX_CHARS) + "\"}"));
    keys("/big.json");
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(keys("/big.json").jwks()).isNull();
    assertThat(keys("/big.json").problem()).contains("larger than " + Jwks.MAX_CHARS);
  }

  @Test
  void aServerThatNeverAnswersCostsOneTimeoutNotAPushThread() throws Exception {
    long start = System.nanoTime();
    assertThat(keys("/hang").jwks()).isNull();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("lookups never block").isLessThan(Duration.ofSeconds(5));
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    assertThat(keys("/hang").problem()).contains("did not answer within 3000 ms");
  }

  @Test
  void aLocationNoPushAskedForIsForgotten() throws Exception {
    answers.put("/jwks.json", Answer.ok(KEYS_1));
    keys("/jwks.json");
    await().atMost(WAIT).until(() -> KEYS_1.equals(keys("/jwks.json").jwks()));
    now.set(now.get().plus(Duration.ofHours(25)));
    fetcher.refreshAll().get(30, TimeUnit.SECONDS);
    // Forgotten: the next lookup starts over.
    answers.put("/jwks.json", Answer.ok(KEYS_2));
    assertThat(keys("/jwks.json").jwks()).isNull();
    await().atMost(WAIT).until(() -> KEYS_2.equals(keys("/jwks.json").jwks()));
  }
}
