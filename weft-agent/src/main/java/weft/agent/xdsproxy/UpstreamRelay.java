package weft.agent.xdsproxy;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import weft.agent.cert.RetryPolicy;
import weft.model.text.ClientText;

/**
 * What a relayed workload stream does whatever its ADS variant: it holds one upstream stream at a
 * time, and moves to the next control plane when that stream fails or leaves a request unanswered
 * for {@code responseTimeout}, after a short jittered backoff. The variants ({@link Relay} for State
 * of the World, {@link DeltaRelay} for Delta) say what to replay on a new stream and what to forward.
 *
 * <p>A control plane that answers but never answers one type (a type it does not serve, say) must
 * not make the relay switch back and forth for ever: a type left unanswered by
 * {@value #UNANSWERED_LIMIT} upstream streams in a row, each of which answered something else, stops
 * counting as a sign of a dead control plane, until it is answered again. So such a type costs at most
 * one switch, the workload keeps the rest of its config flowing, and grpc-java's own does-not-exist
 * timer tells the workload about the missing resource. A control plane that answers nothing at all is
 * left as before, however often that happens.
 *
 * <p>Threads: every method runs on {@code sync}, which owns all fields; callbacks of an upstream
 * stream carry its id, and those of a replaced stream are dropped.
 */
abstract class UpstreamRelay<Q, R> {
  private static final System.Logger LOG = System.getLogger(UpstreamRelay.class.getName());
  /** Upstream streams in a row that may leave one type unanswered before the type stops counting. */
  static final int UNANSWERED_LIMIT = 2;

  private final UpstreamAddresses addresses;
  private final UpstreamAddresses.Resolver resolver;
  private final UpstreamDialer dialer;
  private final ScheduledExecutorService sync;
  private final RetryPolicy backoff;
  private final Duration responseTimeout;
  private final DoubleSupplier random;
  private final Node defaults;
  /** Node metadata naming how the control plane serves a client ({@code grpc}: proxyless). */
  static final String GENERATOR = "GENERATOR";
  final String label;

  // Owned by `sync`.
  private final Set<String> awaitingResponse = new HashSet<>();
  /** Type → upstream streams in a row that left it unanswered while answering something else. */
  private final Map<String, Integer> unanswered = new HashMap<>();
  /** Types no control plane answers: not waited for until one is answered. */
  private final Set<String> notAwaited = new HashSet<>();
  private Node node;
  private UpstreamDialer.Stream<Q> upstream;
  private boolean nodeSent;
  /** The current upstream stream's id; responses and closes of older ones are dropped. */
  long stream;
  private int addressIndex;
  private int failures;
  private ScheduledFuture<?> reconnect;
  private ScheduledFuture<?> watchdog;
  boolean closed;
  private volatile boolean answering;
  private volatile String connectedTo = "";
  private volatile int streamsOpened;
  private volatile Set<String> givenUp = Set.of();

  UpstreamRelay(Relay.Settings s, String label) {
    this.addresses = s.addresses();
    this.resolver = s.resolver();
    this.dialer = s.dialer();
    this.sync = s.sync();
    this.backoff = s.backoff();
    this.responseTimeout = s.responseTimeout();
    this.random = s.random();
    this.defaults = s.defaults();
    this.label = label;
    // Start at a random address, so that many workloads spread over the control planes.
    this.addressIndex = (int) (s.random().getAsDouble() * 1024);
  }

  /** Opens this variant's stream on the dialer. */
  abstract UpstreamDialer.Stream<Q> open(UpstreamDialer dialer, InetSocketAddress target, UpstreamDialer.Events<R> events);

  /** A new upstream stream is open: reset its half of every type, send what the workload subscribes to. */
  abstract void replay();

  /** A response of the current upstream stream. */
  abstract void onUpstreamResponse(R response);

  /** Ends the workload's stream (bad input). */
  abstract void failWorkload(Status status);

  /** The relay is done: drop what it keeps. */
  abstract void forget();

  /** Whether an upstream stream is open and has answered since it was opened. */
  final boolean answering() {
    return answering;
  }

  /** The address of the current upstream stream ({@code ip:port}), or "" between streams. */
  final String connectedTo() {
    return connectedTo;
  }

  /** Upstream streams opened so far: one, plus one per switch. */
  final int streamsOpened() {
    return streamsOpened;
  }

  /** Types the relay no longer waits for: no control plane answered them. */
  final Set<String> typesNotAwaited() {
    return givenUp;
  }

  final boolean upstreamOpen() {
    return upstream != null;
  }

  final void onWorkloadGone() {
    run(this::close);
  }

  final void run(Runnable r) {
    try {
      sync.execute(r);
    } catch (RejectedExecutionException shutDown) {
      // The proxy is closing: nothing is left to keep.
    }
  }

  /** The workload's first request names it: the workload's own node wins, the agent fills in the rest. */
  final void begin(Node workloadNode) {
    if (node != null) return;
    // The workload's own node wins; the agent fills in what it leaves out, but for GENERATOR: how
    // a client is served is its own to say, and a client without it is an Envoy-style one (a
    // weft-gateway behind the proxy must not be served as a proxyless gRPC client).
    Node.Builder merged = defaults.toBuilder();
    if (!workloadNode.getMetadata().containsFields(GENERATOR)) merged.getMetadataBuilder().removeFields(GENERATOR);
    node = merged.mergeFrom(workloadNode).build();
    connect();
  }

  final boolean begun() {
    return node != null;
  }

  /** The node goes on the first request of each upstream stream, as gRPC and Envoy send it. */
  final Node nodeIfFirst() {
    if (nodeSent) return null;
    nodeSent = true;
    return node;
  }

  final void sendUpstream(Q request) {
    if (upstream == null) return;
    try {
      upstream.send(request);
    } catch (RuntimeException e) {
      // The stream's own close callback reconnects.
      LOG.log(System.Logger.Level.DEBUG, label + ": send upstream failed: " + e);
    }
  }

  /** Marks the start of a response of {@code type}: the control plane is alive and answering. */
  final void answered(String type) {
    if (!answering) {
      LOG.log(System.Logger.Level.INFO, label + ": control plane " + connectedTo + " answering");
    }
    answering = true;
    failures = 0;
    awaitingResponse.remove(type);
    unanswered.remove(type);
    if (notAwaited.remove(type)) givenUp = Set.copyOf(notAwaited);
    armWatchdog();
  }

  /** A request that needs an answer went upstream. */
  final void expectResponse(String type) {
    if (notAwaited.contains(type)) return;
    awaitingResponse.add(type);
    if (watchdog == null) armWatchdog();
  }

  private void connect() {
    reconnect = null;
    if (closed) return;
    List<InetSocketAddress> candidates;
    try {
      candidates = addresses.resolve(resolver);
    } catch (UnknownHostException e) {
      failed("cannot resolve " + addresses.entries() + ": " + e.getMessage());
      return;
    }
    InetSocketAddress target = candidates.get(Math.floorMod(addressIndex, candidates.size()));
    long id = ++stream;
    connectedTo = target.getAddress().getHostAddress() + ":" + target.getPort();
    answering = false;
    awaitingResponse.clear();
    nodeSent = false;
    try {
      upstream = open(dialer, target, new UpstreamDialer.Events<>() {
        @Override
        public void onResponse(R response) {
          run(() -> {
            if (!closed && id == stream) onUpstreamResponse(response);
          });
        }

        @Override
        public void onClosed(String why) {
          run(() -> {
            if (id == stream && upstream != null) failed(why);
          });
        }
      });
    } catch (RuntimeException e) {
      failed("cannot open a stream: " + e);
      return;
    }
    streamsOpened++;
    replay();
    armWatchdog();
  }

  /** The upstream stream is done for: keep the workload's config, try the next address soon. */
  private void failed(String why) {
    if (closed) return;
    if (upstream != null) {
      upstream.cancel("switching control planes: " + why);
      upstream = null;
    }
    stream++; // whatever the old stream still says is stale
    answering = false;
    String lost = connectedTo.isEmpty() ? String.valueOf(addresses.entries()) : connectedTo;
    connectedTo = "";
    cancelWatchdog();
    awaitingResponse.clear();
    failures++;
    addressIndex++;
    Duration delay = backoff.delayAfter(failures, random);
    LOG.log(System.Logger.Level.WARNING, label + ": control plane " + lost + " lost ("
        + ClientText.forLog(why, 512) + "); the workload keeps its config; next attempt in " + delay.toMillis() + " ms");
    reconnect = sync.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Rearmed at every sign of progress; fires only when a request has gone unanswered that long. */
  private void armWatchdog() {
    cancelWatchdog();
    if (awaitingResponse.isEmpty() || upstream == null) return;
    long id = stream;
    watchdog = sync.schedule(() -> {
      watchdog = null;
      if (id == stream && upstream != null && !awaitingResponse.isEmpty()) silent();
    }, responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Requests went unanswered for the response timeout. */
  private void silent() {
    if (answering) {
      // This control plane answers other requests: count the silence against the types.
      Set<String> hopeless = new TreeSet<>();
      for (String type : awaitingResponse) {
        if (unanswered.merge(type, 1, Integer::sum) >= UNANSWERED_LIMIT) hopeless.add(type);
      }
      if (hopeless.containsAll(awaitingResponse)) {
        notAwaited.addAll(hopeless);
        givenUp = Set.copyOf(notAwaited);
        awaitingResponse.clear();
        LOG.log(System.Logger.Level.WARNING, label + ": " + UNANSWERED_LIMIT + " control planes in a row left "
            + ClientText.forLog(String.join(", ", hopeless), 512) + " unanswered while answering the rest; staying on "
            + connectedTo + " and no longer switching for it (the workload keeps the rest of its config)");
        return;
      }
    }
    failed("no response to " + awaitingResponse.size() + " request(s) within " + responseTimeout.toMillis() + " ms");
  }

  private void cancelWatchdog() {
    if (watchdog != null) {
      watchdog.cancel(false);
      watchdog = null;
    }
  }

  final void refuse(String why) {
    LOG.log(System.Logger.Level.WARNING, label + ": closing the workload's stream: " + why);
    failWorkload(Status.INVALID_ARGUMENT.withDescription(why));
    close();
  }

  final void close() {
    if (closed) return;
    closed = true;
    answering = false;
    connectedTo = "";
    cancelWatchdog();
    if (reconnect != null) reconnect.cancel(false);
    if (upstream != null) {
      upstream.cancel("the workload's stream ended");
      upstream = null;
    }
    forget();
  }
}
