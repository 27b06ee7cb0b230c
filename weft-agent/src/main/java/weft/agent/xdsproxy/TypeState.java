package weft.agent.xdsproxy;

import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One resource type of one proxied stream. Owned by the {@link Relay}'s thread; nothing else reads it.
 * Two conversations meet here: the workload's (its subscription, the downstream nonces the proxy made
 * up) and the current upstream stream's (its nonces, the version last ACKed to it). They are kept
 * apart so that a reconnect changes only the upstream half.
 */
final class TypeState {
  final String typeUrl;
  /** Whether a response must list every resource (absence means deletion): grpc-java's LDS and CDS. */
  final boolean fullState;

  // The workload's half.
  /** What the workload last asked for; empty with {@link #wildcard} or before the first request. */
  Set<String> names = Set.of();
  boolean wildcard;
  /** The length of {@link #names}, summed: what this subscription costs the relay. */
  long nameBytes;
  /** Whether the workload has asked for this type yet. */
  boolean subscribed;
  /** Name → digest of what the workload holds (as far as the proxy can tell). */
  final Map<String, ByteString> held = new HashMap<>();
  /** Whether the workload has had a response for this type at all (its first must always go). */
  boolean answered;
  /** The nonce of the last response sent to the workload. */
  String downstreamNonce = "";
  /** The upstream response the workload's next ACK or NACK answers; null when it owes none. */
  Pending pending;
  /** The version the workload last accepted (sent on a reconnect, as Envoy and gRPC do). */
  String acceptedVersion = "";

  // The current upstream stream's half: reset by every reconnect.
  String upstreamNonce = "";
  String upstreamAckedVersion = "";

  TypeState(String typeUrl, boolean fullState) {
    this.typeUrl = typeUrl;
    this.fullState = fullState;
  }

  /** An upstream response the workload has been sent (or one equal to it), not yet answered. */
  record Pending(long stream, String upstreamNonce, String version, List<String> resourceNames) {}

  void resetUpstream() {
    upstreamNonce = "";
    upstreamAckedVersion = acceptedVersion;
  }
}
