package weft.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;

/**
 * One generated resource, ready to send: the serialized {@code Any} that every stream sending it
 * shares, and a 64-bit hash of its bytes, which is all a stream keeps of what it sent.
 */
public record Generated(Any resource, long hash) {
  public static Generated of(Any resource) {
    return new Generated(resource, fnv1a(resource.getValue()));
  }

  /**
   * 64-bit FNV-1a: a pure function of the bytes, so two control planes agree on a resource's
   * version and a reconnecting Delta client's declared version can be checked without the bytes.
   */
  public static long fnv1a(ByteString bytes) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < bytes.size(); i++) {
      h ^= bytes.byteAt(i) & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** The hash as Delta's per-resource version string. */
  public String version() {
    return Long.toHexString(hash);
  }
}
