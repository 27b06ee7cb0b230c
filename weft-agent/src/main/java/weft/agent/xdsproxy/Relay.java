package weft.agent.xdsproxy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.DoubleSupplier;
import weft.agent.cert.RetryPolicy;
import weft.model.text.ClientText;

/**
 * One State-of-the-World workload stream relayed to one upstream control plane at a time (the
 * reconnect machine is {@link UpstreamRelay}'s; {@link DeltaRelay} is the Delta variant).
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
final class Relay extends UpstreamRelay<DiscoveryRequest, DiscoveryResponse> {
  private static final System.Logger LOG = System.getLogger(Relay.class.getName());
  private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  // Istio's name table: one nameless resource, the whole table each time (SotW); held as full state,
  // so that a table changing back to an earlier one, or emptied, still reaches the agent's DNS.
  private static final String NDS = "type.googleapis.com/istio.networking.nds.v1.NameTable";
  // What a workload may make the relay keep. A request is at most the server's inbound message limit;
  // these bound how many such things are kept: Envoy uses 8 types, gRPC 4.
  static final int MAX_TYPES = 16;
  static final int MAX_TYPE_URL_LENGTH = 256;
  // The names a stream may keep subscribed, summed over its types: a mesh of 50,000 services asks for
  // well under this; more is a workload gone wrong, not a bigger mesh.
  static final long MAX_NAME_BYTES = 8L << 20;

  private final Downstream<DiscoveryResponse> downstream;

  // Owned by `sync`.
  private final Map<String, TypeState> types = new LinkedHashMap<>();
  private long downstreamNonces;

  Relay(Settings s, Downstream<DiscoveryResponse> downstream, String label) {
    super(s, label);
    this.downstream = downstream;
  }

  /** What every relay of one proxy shares. */
  record Settings(UpstreamAddresses addresses, UpstreamAddresses.Resolver resolver, UpstreamDialer dialer,
      ScheduledExecutorService sync, RetryPolicy backoff, Duration responseTimeout, DoubleSupplier random,
      Node defaults) {}

  @Override
  UpstreamDialer.Stream<DiscoveryRequest> open(UpstreamDialer dialer, InetSocketAddress target,
      UpstreamDialer.Events<DiscoveryResponse> events) {
    return dialer.open(target, events);
  }

  @Override
  void failWorkload(Status status) {
    downstream.fail(status);
  }

  @Override
  void forget() {
    types.clear();
  }

  void onWorkloadRequest(DiscoveryRequest request) {
    run(() -> handleWorkloadRequest(request));
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
      t = new TypeState(type, type.equals(LDS) || type.equals(CDS) || type.equals(NDS));
      types.put(type, t);
    }
    begin(r.getNode());
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
      if (upstreamOpen() && answered.stream() == stream) {
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
    if (changed && upstreamOpen()) {
      send(request(t).setResponseNonce(t.upstreamNonce));
      if (added || first) expectResponse(type);
    }
  }

  @Override
  void onUpstreamResponse(DiscoveryResponse r) {
    String type = r.getTypeUrl();
    TypeState t = types.get(type);
    answered(type);
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

  @Override
  void replay() {
    for (TypeState t : types.values()) {
      t.resetUpstream();
      if (!t.subscribed || !t.wildcard && t.names.isEmpty()) continue; // asks for nothing: nothing to replay
      send(request(t));
      expectResponse(t.typeUrl);
    }
  }

  private void send(DiscoveryRequest.Builder b) {
    if (!upstreamOpen()) return;
    Node first = nodeIfFirst();
    if (first != null) b.setNode(first);
    sendUpstream(b.build());
  }
}
