package weft.agent.xdsproxy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import weft.agent.cert.RetryPolicy;
import weft.model.text.ClientText;

/**
 * One workload stream relayed to one upstream control plane at a time: the reconnect and replay
 * state machine of the local xDS proxy.
 *
 * <p>The workload's stream outlives upstream streams. When the upstream stream fails, or leaves a
 * request unanswered for {@code responseTimeout}, the relay dials the next address after a short
 * jittered backoff, sends the workload's current subscriptions again, and meanwhile says nothing to
 * the workload, which keeps its last good config. What the new upstream sends is compared, resource
 * by resource, with what the workload holds: only what differs is forwarded, and a type with no
 * difference is ACKed upstream by the relay itself. Control planes fed the same inputs send the same
 * bytes, so a failover costs the workload nothing.
 *
 * <p>Nonces are translated: the workload sees the relay's own sequence, each upstream stream its own,
 * and the workload's ACK or NACK goes upstream under the nonce of the upstream response it answers
 * (or of an equal one that arrived after a reconnect). A NACK's text goes upstream as it is and into
 * the log escaped.
 *
 * <p>Threads: every method runs its work on {@code sync}, a serialising scheduler; all fields below are
 * owned by it. Callbacks of an upstream stream carry its id, and those of a replaced stream are dropped.
 */
final class Relay {
  private static final System.Logger LOG = System.getLogger(Relay.class.getName());
  private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  // What a workload may make the relay keep. A request is at most the server's inbound message limit;
  // these bound how many such things are kept: Envoy uses 8 types, gRPC 4.
  static final int MAX_TYPES = 16;
  static final int MAX_TYPE_URL_LENGTH = 256;
  // The names a stream may keep subscribed, summed over its types: a mesh of 50,000 services asks for
  // well under this; more is a workload gone wrong, not a bigger mesh.
  static final long MAX_NAME_BYTES = 8L << 20;

  private final UpstreamAddresses addresses;
  private final UpstreamAddresses.Resolver resolver;
  private final UpstreamDialer dialer;
  private final Downstream downstream;
  private final ScheduledExecutorService sync;
  private final RetryPolicy backoff;
  private final Duration responseTimeout;
  private final DoubleSupplier random;
  private final Node defaults;
  private final String label;

  // Owned by `sync`.
  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private final Set<String> awaitingResponse = new HashSet<>();
  /** Node metadata naming how the control plane serves a client ({@code grpc}: proxyless). */
  static final String GENERATOR = "GENERATOR";

  private Node node;
  private UpstreamDialer.Stream upstream;
  private boolean nodeSent;
  private long stream;
  private int addressIndex;
  private int failures;
  private long downstreamNonces;
  private ScheduledFuture<?> reconnect;
  private ScheduledFuture<?> watchdog;
  private boolean closed;
  private volatile boolean answering;
  private volatile String connectedTo = "";

  Relay(Settings s, Downstream downstream, String label) {
    this.addresses = s.addresses();
    this.resolver = s.resolver();
    this.dialer = s.dialer();
    this.sync = s.sync();
    this.backoff = s.backoff();
    this.responseTimeout = s.responseTimeout();
    this.random = s.random();
    this.defaults = s.defaults();
    this.downstream = downstream;
    this.label = label;
    // Start at a random address, so that many workloads spread over the control planes.
    this.addressIndex = (int) (s.random().getAsDouble() * 1024);
  }

  /** What every relay of one proxy shares. */
  record Settings(UpstreamAddresses addresses, UpstreamAddresses.Resolver resolver, UpstreamDialer dialer,
      ScheduledExecutorService sync, RetryPolicy backoff, Duration responseTimeout, DoubleSupplier random,
      Node defaults) {}

  /** Whether an upstream stream is open and has answered since it was opened. */
  boolean answering() {
    return answering;
  }

  /** The address of the current upstream stream ({@code ip:port}), or "" between streams. */
  String connectedTo() {
    return connectedTo;
  }

  void onWorkloadRequest(DiscoveryRequest request) {
    run(() -> handleWorkloadRequest(request));
  }

  void onWorkloadGone() {
    run(this::close);
  }

  private void run(Runnable r) {
    try {
      sync.execute(r);
    } catch (RejectedExecutionException shutDown) {
      // The proxy is closing: nothing is left to keep.
    }
  }

  private void handleWorkloadRequest(DiscoveryRequest r) {
    if (closed) return;
    String type = r.getTypeUrl();
    if (type.isEmpty() || type.length() > MAX_TYPE_URL_LENGTH) {
      refuse("a request needs a type_url of at most " + MAX_TYPE_URL_LENGTH + " characters");
      return;
    }
    TypeState t = types.get(type);
    if (t == null) {
      if (types.size() >= MAX_TYPES) {
        refuse("more than " + MAX_TYPES + " resource types on one stream");
        return;
      }
      t = new TypeState(type, type.equals(LDS) || type.equals(CDS));
      types.put(type, t);
    }
    if (node == null) {
      // The workload's own node wins; the agent fills in what it leaves out, but for GENERATOR: how
      // a client is served is its own to say, and a client without it is an Envoy-style one (a
      // weft-gateway behind the proxy must not be served as a proxyless gRPC client).
      Node.Builder merged = defaults.toBuilder();
      if (!r.getNode().getMetadata().containsFields(GENERATOR)) merged.getMetadataBuilder().removeFields(GENERATOR);
      node = merged.mergeFrom(r.getNode()).build();
      connect();
    }
    long nameBytes = 0;
    for (String n : r.getResourceNamesList()) nameBytes += n.length();
    long total = nameBytes;
    for (TypeState other : types.values()) if (other != t) total += other.nameBytes;
    if (total > MAX_NAME_BYTES) {
      refuse("subscriptions of more than " + MAX_NAME_BYTES + " bytes of resource names");
      return;
    }
    t.nameBytes = nameBytes;
    Set<String> names = new HashSet<>(r.getResourceNamesList());
    boolean wildcard = names.remove("*") || names.isEmpty() && t.fullState;
    boolean first = !t.subscribed;
    boolean added = !wildcard && !t.names.containsAll(names) || wildcard && !t.wildcard;
    boolean changed = first || added || !names.equals(t.names) || wildcard != t.wildcard;
    t.names = Set.copyOf(names);
    t.wildcard = wildcard;
    t.subscribed = true;
    if (!wildcard) t.held.keySet().retainAll(names); // what it dropped, it no longer holds

    String nonce = r.getResponseNonce();
    TypeState.Pending answered = !nonce.isEmpty() && nonce.equals(t.downstreamNonce) ? t.pending : null;
    if (answered != null) {
      t.pending = null;
      boolean nack = r.hasErrorDetail();
      if (nack) {
        // The proxy cannot tell which of them the workload kept: none counts as held.
        answered.resourceNames().forEach(t.held::remove);
        LOG.log(System.Logger.Level.WARNING, label + ": the workload rejected " + type + " version "
            + ClientText.forLog(answered.version()) + ": " + ClientText.forLog(r.getErrorDetail().getMessage(), 1024));
      } else {
        t.acceptedVersion = answered.version();
      }
      if (upstream != null && answered.stream() == stream) {
        DiscoveryRequest.Builder up = request(t).setResponseNonce(answered.upstreamNonce());
        if (nack) {
          up.setErrorDetail(r.getErrorDetail());
        } else {
          up.setVersionInfo(answered.version());
          t.upstreamAckedVersion = answered.version();
        }
        send(up);
        if (added || first) expectResponse(type);
        return;
      }
    }
    if (changed && upstream != null) {
      send(request(t).setResponseNonce(t.upstreamNonce));
      if (added || first) expectResponse(type);
    }
  }

  private void handleResponse(long id, DiscoveryResponse r) {
    if (closed || id != stream) return;
    if (!answering) {
      LOG.log(System.Logger.Level.INFO, label + ": control plane " + connectedTo + " answering");
    }
    answering = true;
    failures = 0;
    String type = r.getTypeUrl();
    TypeState t = types.get(type);
    awaitingResponse.remove(type);
    armWatchdog();
    if (t == null) return; // not asked for: nothing to keep, nothing to forward
    t.upstreamNonce = r.getNonce();

    Map<String, ByteString> incoming = ResourceDigests.of(r.getResourcesList());
    List<Any> forward = new ArrayList<>();
    List<String> forwardNames = new ArrayList<>();
    boolean differs;
    if (t.fullState) {
      differs = !incoming.equals(t.held);
      if (differs || !t.answered) {
        forward.addAll(r.getResourcesList());
        forwardNames.addAll(incoming.keySet());
      }
    } else {
      int i = 0;
      for (Map.Entry<String, ByteString> e : incoming.entrySet()) {
        if (!e.getValue().equals(t.held.get(e.getKey()))) {
          forward.add(r.getResources(i));
          forwardNames.add(e.getKey());
        }
        i++;
      }
      differs = !forward.isEmpty();
    }
    if (!differs && t.answered) {
      if (t.pending != null) {
        // The workload has yet to answer an equal response: its answer will be this one's.
        t.pending = new TypeState.Pending(stream, r.getNonce(), r.getVersionInfo(), t.pending.resourceNames());
      } else {
        t.upstreamAckedVersion = r.getVersionInfo();
        send(request(t).setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()));
      }
      return;
    }
    if (t.fullState) {
      t.held.clear();
    }
    for (int i = 0; i < forward.size(); i++) {
      t.held.put(forwardNames.get(i), incoming.get(forwardNames.get(i)));
    }
    t.answered = true;
    t.downstreamNonce = Long.toString(++downstreamNonces);
    t.pending = new TypeState.Pending(stream, r.getNonce(), r.getVersionInfo(), List.copyOf(forwardNames));
    downstream.send(DiscoveryResponse.newBuilder().setTypeUrl(type).setVersionInfo(r.getVersionInfo())
        .setNonce(t.downstreamNonce).addAllResources(forward).build());
  }

  /** A request for {@code t}'s current subscription on the current upstream stream. */
  private DiscoveryRequest.Builder request(TypeState t) {
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(t.typeUrl)
        .setVersionInfo(t.upstreamAckedVersion);
    if (!t.wildcard) b.addAllResourceNames(t.names);
    return b;
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
      upstream = dialer.open(target, new UpstreamDialer.Events() {
        @Override
        public void onResponse(DiscoveryResponse response) {
          run(() -> handleResponse(id, response));
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
    for (TypeState t : types.values()) {
      t.resetUpstream();
      if (!t.subscribed || !t.wildcard && t.names.isEmpty()) continue; // asks for nothing: nothing to replay
      send(request(t));
      awaitingResponse.add(t.typeUrl);
    }
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

  private void expectResponse(String type) {
    awaitingResponse.add(type);
    if (watchdog == null) armWatchdog();
  }

  /** Rearmed at every sign of progress; fires only when a request has gone unanswered that long. */
  private void armWatchdog() {
    cancelWatchdog();
    if (awaitingResponse.isEmpty() || upstream == null) return;
    long id = stream;
    watchdog = sync.schedule(() -> {
      watchdog = null;
      if (id == stream && upstream != null && !awaitingResponse.isEmpty()) {
        failed("no response to " + awaitingResponse.size() + " request(s) within " + responseTimeout.toMillis() + " ms");
      }
    }, responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void cancelWatchdog() {
    if (watchdog != null) {
      watchdog.cancel(false);
      watchdog = null;
    }
  }

  private void send(DiscoveryRequest.Builder b) {
    if (upstream == null) return;
    if (!nodeSent) {
      b.setNode(node); // once a stream, as gRPC and Envoy do
      nodeSent = true;
    }
    try {
      upstream.send(b.build());
    } catch (RuntimeException e) {
      // The stream's own close callback reconnects.
      LOG.log(System.Logger.Level.DEBUG, label + ": send upstream failed: " + e);
    }
  }

  private void refuse(String why) {
    LOG.log(System.Logger.Level.WARNING, label + ": closing the workload's stream: " + why);
    downstream.fail(Status.INVALID_ARGUMENT.withDescription(why));
    close();
  }

  private void close() {
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
    types.clear();
  }
}
