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
  long lastNackMillis;
  long pushes;
  long nacks;

  WatchState(String typeUrl) {
    this.typeUrl = typeUrl;
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
