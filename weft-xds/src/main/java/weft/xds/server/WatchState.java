package weft.xds.server;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one stream asked for of one type and what it holds. Owned by the stream's serial executor;
 * no other thread reads it. Subscriptions and what was sent are immutable tables (names and 64-bit
 * content hashes, never bytes), replaced rather than changed, so the summary the stream publishes
 * for /debug/status shares them without copying.
 */
final class WatchState {
  final String typeUrl;
  NameSet names = NameSet.EMPTY;
  /**
   * SotW: the names of the last request whose names were read, in the client's own order, as
   * interned UTF-8 (shared by every stream that named them). An ACK repeats its subscription in the
   * same order (Envoy lists all of a type's names in every request), so comparing its bytes in
   * order answers it without decoding a name.
   */
  SotwRequest.WireName[] requestOrder;
  boolean wildcard;
  /** name → content hash of what the client holds (unless it NACKed): what was sent, or declared on reconnect. */
  SentTable sent = SentTable.EMPTY;
  String sentVersion = "";
  String lastNonce = "";
  String ackedVersion = "";
  String lastNack;
  long lastNackMillis;
  /** Why the last generation of this type failed (nothing was sent), or null. */
  String lastError;
  long lastErrorMillis;
  long pushes;
  long nacks;
  /**
   * Delta only: name → version the client said it holds when it (re)connected; null once the first
   * push of the type reconciled them (kept no longer: they are the client's text and only matter once).
   */
  Map<String, String> clientVersions;
  /** A push that waits for the stream to become ready; null when none does. At most one per type. */
  Deferred deferred;

  /** The last few nonces sent and the version each carried, so a late ACK or NACK is still understood. */
  private final Map<String, String> recentNonces = new java.util.LinkedHashMap<>(8, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > 8;
    }
  };

  WatchState(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  void sent(String nonce, String version) {
    lastNonce = nonce;
    sentVersion = version;
    recentNonces.put(nonce, version);
  }

  /** The version a nonce carried, or null when it is unknown or too old. */
  String versionOf(String nonce) {
    return recentNonces.get(nonce);
  }

  /** Names this stream's client may make us hold for this type (subscriptions and declared versions). */
  long heldNames() {
    return names.size() + (clientVersions == null ? 0 : clientVersions.size());
  }

  /**
   * What a deferred push must do once the stream is ready: it is generated then, from the newest
   * snapshot, so newer state replaces older unsent state and nothing is built while the client is
   * not reading.
   */
  static final class Deferred {
    /** A response is owed even if nothing differs (it answers a request). */
    boolean force;
    /** Delta: names subscribed meanwhile that must be reported removed if they do not exist. */
    final Set<String> justSubscribed = new TreeSet<>();

    void merge(boolean forced, Set<String> subscribed) {
      force |= forced;
      justSubscribed.addAll(subscribed);
    }
  }
}
