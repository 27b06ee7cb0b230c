package weft.agent.xdsproxy;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.text.ClientText;

/**
 * One Delta ADS workload stream ({@code DeltaAggregatedResources}, what Envoy speaks) relayed to one
 * upstream control plane at a time, with the failover rules of {@link UpstreamRelay}.
 *
 * <p>On a new upstream stream the relay subscribes again to what the workload subscribes to, and
 * names in {@code initial_resource_versions} the version of every resource the workload holds, so the
 * control plane sends only what changed and reports as removed only what went away. What it sends is
 * compared with what the workload holds, by name and version: a resource the workload has at that
 * version is not forwarded, and a removal is forwarded only for a resource the workload holds. A
 * response with nothing left is ACKed upstream by the relay itself; the workload hears nothing.
 *
 * <p>Nonces are translated as in {@link Relay}: the workload's ACK or NACK goes upstream under the
 * nonce of the response it answers, when that response came on the current upstream stream.
 */
final class DeltaRelay extends UpstreamRelay<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  private static final System.Logger LOG = System.getLogger(DeltaRelay.class.getName());
  private static final String WILDCARD = "*";
  // Responses the workload may leave unanswered at once; Envoy answers each in turn, so a handful.
  private static final int MAX_PENDING = 64;

  private final Downstream<DeltaDiscoveryResponse> downstream;

  // Owned by `sync`.
  private final Map<String, Type> types = new LinkedHashMap<>();
  private long downstreamNonces;

  DeltaRelay(Relay.Settings s, Downstream<DeltaDiscoveryResponse> downstream, String label) {
    super(s, label);
    this.downstream = downstream;
  }

  /** One resource type of the stream: the workload's subscription and what it holds. */
  private static final class Type {
    final String typeUrl;
    /** Names the workload subscribed to, {@code *} included when it asked for it by name. */
    final Set<String> names = new LinkedHashSet<>();
    /** The first request subscribed to nothing: Envoy's legacy wildcard, until {@code *} is unsubscribed. */
    boolean legacyWildcard;
    boolean subscribed;
    /** Name → version of what the workload holds; "" for a resource it may hold at a version unknown. */
    final Map<String, String> held = new HashMap<>();
    /** Whether the workload has had a response for this type (its first always goes, even empty). */
    boolean answered;
    /** The upstream stream this type's subscription was last sent on. */
    long sentOn = -1;
    /** Downstream nonce → the upstream response the workload has yet to answer. */
    final Map<String, Pending> pending = new LinkedHashMap<>();
    long nameBytes;

    Type(String typeUrl) {
      this.typeUrl = typeUrl;
    }

    /** What to subscribe to on a new stream: the names, and the wildcard however it was asked for. */
    List<String> subscription() {
      List<String> out = new ArrayList<>(names);
      if (legacyWildcard && !out.isEmpty() && !names.contains(WILDCARD)) out.add(WILDCARD);
      return out;
    }

    /** Whether it asks for anything: an empty first request upstream would mean the wildcard. */
    boolean asksForSomething() {
      return legacyWildcard || !names.isEmpty();
    }

    /** The versions to declare to a new upstream: every resource held at a known version. */
    Map<String, String> knownVersions() {
      Map<String, String> out = new HashMap<>();
      held.forEach((name, version) -> {
        if (!version.isEmpty()) out.put(name, version);
      });
      return out;
    }
  }

  private record Pending(long stream, String upstreamNonce, List<String> names) {}

  @Override
  UpstreamDialer.Stream<DeltaDiscoveryRequest> open(UpstreamDialer dialer, InetSocketAddress target,
      UpstreamDialer.Events<DeltaDiscoveryResponse> events) {
    return dialer.openDelta(target, events);
  }

  @Override
  void failWorkload(Status status) {
    downstream.fail(status);
  }

  @Override
  void forget() {
    types.clear();
  }

  void onWorkloadRequest(DeltaDiscoveryRequest request) {
    run(() -> handleWorkloadRequest(request));
  }

  private void handleWorkloadRequest(DeltaDiscoveryRequest r) {
    if (closed) return;
    String typeUrl = r.getTypeUrl();
    if (typeUrl.isEmpty() || typeUrl.length() > Relay.MAX_TYPE_URL_LENGTH) {
      refuse("a request needs a type_url of at most " + Relay.MAX_TYPE_URL_LENGTH + " characters");
      return;
    }
    Type t = types.get(typeUrl);
    if (t == null) {
      if (types.size() >= Relay.MAX_TYPES) {
        refuse("more than " + Relay.MAX_TYPES + " resource types on one stream");
        return;
      }
      t = new Type(typeUrl);
      types.put(typeUrl, t);
    }
    boolean first = !t.subscribed;
    long nameBytes = t.nameBytes;
    for (String n : r.getResourceNamesSubscribeList()) nameBytes += n.length();
    if (first) {
      for (String n : r.getInitialResourceVersionsMap().keySet()) nameBytes += n.length();
    }
    long total = nameBytes;
    for (Type other : types.values()) if (other != t) total += other.nameBytes;
    if (total > Relay.MAX_NAME_BYTES) {
      refuse("subscriptions of more than " + Relay.MAX_NAME_BYTES + " bytes of resource names");
      return;
    }
    begin(r.getNode());

    boolean added = first;
    for (String n : r.getResourceNamesUnsubscribeList()) {
      if (n.equals(WILDCARD)) t.legacyWildcard = false;
      if (t.names.remove(n)) t.nameBytes -= n.length();
      t.held.remove(n); // the workload drops what it unsubscribes from
    }
    for (String n : r.getResourceNamesSubscribeList()) {
      if (t.names.add(n)) {
        t.nameBytes += n.length();
        added = true;
      }
    }
    if (first) {
      t.subscribed = true;
      t.legacyWildcard = r.getResourceNamesSubscribeCount() == 0 && r.getResourceNamesUnsubscribeCount() == 0;
      t.held.putAll(r.getInitialResourceVersionsMap()); // a workload that reconnected to the proxy says what it has
    }
    boolean changes = r.getResourceNamesSubscribeCount() > 0 || r.getResourceNamesUnsubscribeCount() > 0;

    Pending answered = r.getResponseNonce().isEmpty() ? null : takePending(t, r.getResponseNonce());
    if (answered != null && r.hasErrorDetail()) {
      // It keeps what it had before, at a version the relay does not know: resend on any update.
      for (String n : answered.names()) t.held.computeIfPresent(n, (k, v) -> "");
      LOG.log(System.Logger.Level.WARNING, label + ": the workload rejected " + ClientText.forLog(typeUrl) + ": "
          + ClientText.forLog(r.getErrorDetail().getMessage(), 1024));
    }
    if (!upstreamOpen()) return; // the replay on the next stream carries the subscription
    DeltaDiscoveryRequest.Builder up = DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl);
    if (t.sentOn != stream) {
      if (!t.asksForSomething()) return; // nothing asked of this stream yet, and nothing to ask now
      // The type's first request on this stream: the whole subscription, and what the workload holds.
      up.addAllResourceNamesSubscribe(t.subscription()).putAllInitialResourceVersions(t.knownVersions());
      t.sentOn = stream;
    } else {
      up.addAllResourceNamesSubscribe(r.getResourceNamesSubscribeList())
          .addAllResourceNamesUnsubscribe(r.getResourceNamesUnsubscribeList());
    }
    boolean ack = answered != null && answered.stream() == stream;
    if (ack) {
      up.setResponseNonce(answered.upstreamNonce());
      if (r.hasErrorDetail()) up.setErrorDetail(r.getErrorDetail());
    }
    if (ack || changes || first) send(up);
    if (added) expectResponse(typeUrl);
  }

  private static Pending takePending(Type t, String nonce) {
    Pending p = t.pending.remove(nonce);
    if (p == null) return null;
    // The workload answers in order: what it left unanswered before this one is answered by it too.
    for (Iterator<String> it = t.pending.keySet().iterator(); it.hasNext(); ) {
      String older = it.next();
      if (Long.parseLong(older) < Long.parseLong(nonce)) it.remove();
    }
    return p;
  }

  @Override
  void onUpstreamResponse(DeltaDiscoveryResponse r) {
    String typeUrl = r.getTypeUrl();
    answered(typeUrl);
    Type t = types.get(typeUrl);
    if (t == null) return; // not asked for: nothing to keep, nothing to forward

    List<Resource> forward = new ArrayList<>();
    for (Resource res : r.getResourcesList()) {
      String version = t.held.get(res.getName());
      if (res.getVersion().isEmpty() || !res.getVersion().equals(version)) forward.add(res);
    }
    List<String> removed = new ArrayList<>();
    for (String name : r.getRemovedResourcesList()) {
      if (t.held.containsKey(name)) removed.add(name); // a removal of what it never had is no news
    }
    if (forward.isEmpty() && removed.isEmpty() && t.answered) {
      // Nothing the workload lacks: the relay answers for it.
      send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setResponseNonce(r.getNonce()));
      return;
    }
    List<String> names = new ArrayList<>(forward.size());
    for (Resource res : forward) {
      t.held.put(res.getName(), res.getVersion());
      names.add(res.getName());
    }
    removed.forEach(t.held::remove);
    t.answered = true;
    String nonce = Long.toString(++downstreamNonces);
    if (t.pending.size() >= MAX_PENDING) t.pending.remove(t.pending.keySet().iterator().next());
    t.pending.put(nonce, new Pending(stream, r.getNonce(), List.copyOf(names)));
    downstream.send(DeltaDiscoveryResponse.newBuilder().setTypeUrl(typeUrl)
        .setSystemVersionInfo(r.getSystemVersionInfo()).addAllResources(forward).addAllRemovedResources(removed)
        .setNonce(nonce).build());
  }

  @Override
  void replay() {
    for (Type t : types.values()) {
      if (!t.subscribed || !t.asksForSomething()) continue; // nothing to replay
      t.sentOn = stream;
      send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(t.typeUrl).addAllResourceNamesSubscribe(t.subscription())
          .putAllInitialResourceVersions(t.knownVersions()));
      expectResponse(t.typeUrl);
    }
  }

  private void send(DeltaDiscoveryRequest.Builder b) {
    if (!upstreamOpen()) return;
    Node first = nodeIfFirst();
    if (first != null) b.setNode(first);
    sendUpstream(b.build());
  }
}
