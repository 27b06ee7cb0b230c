package weft.xds.authn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import weft.model.Jwks;
import weft.model.RequestAuthentication;
import weft.registry.MeshSnapshot;

/**
 * The control plane's cache of JWT issuers' key sets, as Istio's istiod keeps one (its JWKS resolver; Envoy
 * is not left to fetch keys, {@code PILOT_JWT_ENABLE_REMOTE_JWKS} being off by default): each
 * {@code jwksUri}, or the {@code jwks_uri} of an issuer's OpenID discovery document, is fetched in the
 * background, checked ({@link Jwks}), and refreshed every {@code refresh}. A failed fetch keeps the last
 * good keys and is retried sooner (from {@code retry}, doubling up to {@code refresh}); a location that no
 * push asked for during {@code evictAfter} is forgotten. When the keys of a location change, {@code onChange}
 * runs (the control plane republishes its snapshot, so every proxy gets the new keys inline).
 *
 * <p>Bounds, since a key URL is input like any other: one fetch (discovery included) takes at most
 * {@code timeout} and reads at most {@link Jwks#MAX_CHARS} bytes; redirects are followed except from https
 * to http.
 *
 * <p>Threads: fetches run on {@code scheduler}, one at a time if it has one thread; {@link #keys} is called
 * by push threads and never blocks on the network. {@code entries} is guarded by {@code this}.
 */
public final class JwksFetcher implements JwksSource, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(JwksFetcher.class.getName());
  /** Istio's defaults: PILOT_JWT_PUB_KEY_REFRESH_INTERVAL (20m), its fetch timeout (5s), eviction after 24h unused. */
  public static final Duration DEFAULT_REFRESH = Duration.ofMinutes(20);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_EVICT_AFTER = Duration.ofHours(24);
  /** First retry after a failure; doubles up to the refresh interval. */
  public static final Duration DEFAULT_RETRY = Duration.ofSeconds(1);
  /** Where an issuer's discovery document is, after the issuer URL (OpenID Connect Discovery 1.0). */
  static final String DISCOVERY_SUFFIX = "/.well-known/openid-configuration";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Duration refresh;
  private final Duration retry;
  private final Duration timeout;
  private final Duration evictAfter;
  private final Runnable onChange;
  private final HttpClient http;
  private final Map<KeyLocation, Entry> entries = new HashMap<>();
  private boolean closed;

  /** One location's state. */
  private static final class Entry {
    String jwks;
    String problem = "not fetched yet";
    Instant lastUsed;
    Duration nextRetry;
    ScheduledFuture<?> next;
    CompletableFuture<Void> running;
  }

  public JwksFetcher(ScheduledExecutorService scheduler, Clock clock, Duration refresh, Duration retry,
      Duration timeout, Duration evictAfter, Runnable onChange) {
    this.scheduler = scheduler;
    this.clock = clock;
    this.refresh = refresh;
    this.retry = retry;
    this.timeout = timeout;
    this.evictAfter = evictAfter;
    this.onChange = onChange;
    this.http = HttpClient.newBuilder()
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  /** With Istio's intervals. */
  public JwksFetcher(ScheduledExecutorService scheduler, Runnable onChange) {
    this(scheduler, Clock.systemUTC(), DEFAULT_REFRESH, DEFAULT_RETRY, DEFAULT_TIMEOUT, DEFAULT_EVICT_AFTER, onChange);
  }

  @Override
  public Keys keys(KeyLocation location) {
    synchronized (this) {
      Entry e = entry(location);
      e.lastUsed = clock.instant();
      return new Keys(e.jwks, e.problem);
    }
  }

  /**
   * A new snapshot: starts fetching every key location its RequestAuthentications name that is not known
   * yet, so keys are usually there before a proxy asks.
   */
  public void onSnapshot(MeshSnapshot snapshot) {
    synchronized (this) {
      for (RequestAuthentication r : snapshot.config().requestAuthentications()) {
        for (RequestAuthentication.JwtRule rule : r.jwtRules()) {
          if (rule.jwks() == null) entry(KeyLocation.of(rule));
        }
      }
    }
  }

  /** Fetches every known location now; completes when all fetches are done (tests, operators). */
  public CompletableFuture<Void> refreshAll() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    synchronized (this) {
      for (Map.Entry<KeyLocation, Entry> e : entries.entrySet()) all.add(fetchSoon(e.getKey(), e.getValue()));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /** The entry of {@code location}, created (and its first fetch started) when new; caller holds the lock. */
  private Entry entry(KeyLocation location) {
    Entry e = entries.get(location);
    if (e == null) {
      e = new Entry();
      e.lastUsed = clock.instant();
      e.nextRetry = retry;
      entries.put(location, e);
      fetchSoon(location, e);
    }
    return e;
  }

  /** Runs a fetch of {@code location} now unless one is running; caller holds the lock. */
  private CompletableFuture<Void> fetchSoon(KeyLocation location, Entry e) {
    if (closed) return CompletableFuture.completedFuture(null);
    if (e.running != null && !e.running.isDone()) return e.running;
    if (e.next != null) e.next.cancel(false);
    CompletableFuture<Void> done = new CompletableFuture<>();
    e.running = done;
    scheduler.execute(() -> {
      try {
        fetchAndStore(location);
      } finally {
        done.complete(null);
      }
    });
    return done;
  }

  private void fetchAndStore(KeyLocation location) {
    String jwks = null;
    String problem;
    try {
      jwks = fetch(location);
      problem = null;
    } catch (FetchException ex) {
      problem = ex.getMessage();
    }
    boolean changed;
    synchronized (this) {
      Entry e = entries.get(location);
      if (e == null || closed) return;
      if (clock.instant().isAfter(e.lastUsed.plus(evictAfter))) {
        entries.remove(location);
        return;
      }
      Duration wait;
      if (jwks != null) {
        changed = !jwks.equals(e.jwks);
        e.jwks = jwks;
        e.problem = null;
        e.nextRetry = retry;
        wait = refresh;
      } else {
        changed = false;
        LOG.log(System.Logger.Level.WARNING, "JWT keys from " + describe(location) + " not fetched: " + problem
            + (e.jwks == null ? "; tokens of this issuer are refused until they are" : "; the last good keys are kept"));
        e.problem = problem;
        wait = e.nextRetry;
        e.nextRetry = min(e.nextRetry.multipliedBy(2), refresh);
      }
      e.next = scheduler.schedule(() -> {
        synchronized (this) {
          Entry current = entries.get(location);
          if (current != null) fetchSoon(location, current);
        }
      }, wait.toMillis(), TimeUnit.MILLISECONDS);
    }
    if (changed) {
      LOG.log(System.Logger.Level.INFO, "JWT keys from " + describe(location) + " changed; pushing them");
      onChange.run();
    }
  }

  private static String describe(KeyLocation location) {
    return location.discover() ? "OpenID discovery of " + location.uri() : location.uri();
  }

  /** The checked key set at {@code location}. */
  private String fetch(KeyLocation location) throws FetchException {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI jwksUri;
    if (location.discover()) {
      URI issuer = httpUri(location.uri(), "the issuer is not an http(s) URL, so its keys cannot be discovered; "
          + "give jwksUri or jwks in the JWT rule");
      String base = issuer.toString().endsWith("/") ? issuer.toString().substring(0, issuer.toString().length() - 1)
          : issuer.toString();
      String doc = get(URI.create(base + DISCOVERY_SUFFIX), deadline);
      JsonNode node;
      try {
        node = JSON.readTree(doc);
      } catch (IOException ex) {
        throw new FetchException("the discovery document is not JSON");
      }
      JsonNode uri = node == null ? null : node.get("jwks_uri");
      if (uri == null || !uri.isTextual()) throw new FetchException("the discovery document has no jwks_uri");
      jwksUri = httpUri(uri.textValue(), "the discovery document's jwks_uri is not an http(s) URL");
    } else {
      jwksUri = httpUri(location.uri(), "jwksUri is not an http(s) URL");
    }
    String jwks = get(jwksUri, deadline);
    String bad = Jwks.problem(jwks);
    if (bad != null) throw new FetchException(jwksUri + " returned no usable key set: " + bad);
    return jwks;
  }

  private String get(URI uri, long deadline) throws FetchException {
    long left = deadline - System.nanoTime();
    if (left <= 0) throw new FetchException("timed out after " + timeout.toMillis() + " ms");
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofNanos(left))
        .header("Accept", "application/json").GET().build();
    CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, info -> info.statusCode() == 200
        ? new LimitedBody(Jwks.MAX_CHARS)
        : HttpResponse.BodySubscribers.replacing(null));
    HttpResponse<byte[]> response;
    try {
      response = f.get(left, TimeUnit.NANOSECONDS);
    } catch (TimeoutException ex) {
      f.cancel(true);
      throw new FetchException(uri + " did not answer within " + timeout.toMillis() + " ms");
    } catch (InterruptedException ex) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new FetchException("interrupted");
    } catch (ExecutionException ex) {
      Throwable cause = ex.getCause() == null ? ex : ex.getCause();
      throw new FetchException(uri + " could not be read: " + cause);
    }
    if (response.statusCode() != 200) throw new FetchException(uri + " answered HTTP " + response.statusCode());
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  private static URI httpUri(String text, String problem) throws FetchException {
    try {
      URI u = new URI(text);
      if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) return u;
    } catch (URISyntaxException ex) {
      // reported below
    }
    throw new FetchException(problem + " (" + text + ")");
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      for (Entry e : entries.values()) {
        if (e.next != null) e.next.cancel(false);
      }
      entries.clear();
    }
  }

  /** Why a fetch gave no keys; the message says what and where. */
  private static final class FetchException extends Exception {
    FetchException(String message) {
      super(message, null, false, false);
    }
  }
}
