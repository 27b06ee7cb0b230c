package weft.xds.server;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one stream asked for of one type and what it was last sent. Only resource bytes are kept
 * (shared with the generator's cache where possible), so a connected proxy costs little memory.
 */
final class WatchState {
  final String typeUrl;
  Set<String> names = new TreeSet<>();
  boolean wildcard;
  /** name → serialized resource last sent (what the client holds unless it NACKed). */
  Map<String, ByteString> sent = new TreeMap<>();
  String sentVersion = "";
  String lastNonce = "";
  String ackedVersion = "";
  String lastNack;
  /** Why the last generation of this type failed (nothing was sent), or null. */
  String lastError;
  long lastErrorMillis;
  long lastNackMillis;
  long pushes;
  long nacks;
  /** The last few nonces sent and the version each carried, so a late ACK or NACK is still understood. */
  private final Map<String, String> recentNonces = new java.util.LinkedHashMap<>(8, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > 8;
    }
  };

  void sent(String nonce, String version) {
    lastNonce = nonce;
    sentVersion = version;
    recentNonces.put(nonce, version);
  }

  /** The version a nonce carried, or null when it is unknown or too old. */
  String versionOf(String nonce) {
    return recentNonces.get(nonce);
  }

  /** Delta only: name → version the client said it holds when it (re)connected, until reconciled. */
  Map<String, String> clientVersions = new java.util.HashMap<>();

  WatchState(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  /**
   * A resource's own version (Delta): 64-bit FNV-1a of its bytes, so that two control planes agree
   * and a reconnecting client's declared version can be checked without keeping old resources.
   */
  static String resourceVersion(ByteString bytes) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < bytes.size(); i++) {
      h ^= bytes.byteAt(i) & 0xff;
      h *= 0x100000001b3L;
    }
    return Long.toHexString(h);
  }

  /** A version that depends only on content, so two control planes with the same inputs agree. */
  String contentVersion() {
    long h = 1125899906842597L;
    for (Map.Entry<String, ByteString> e : sent.entrySet()) {
      h = 31 * h + e.getKey().hashCode();
      h = 31 * h + e.getValue().hashCode();
    }
    return Long.toHexString(h);
  }
}
