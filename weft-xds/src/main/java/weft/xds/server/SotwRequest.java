package weft.xds.server;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A State-of-the-World {@code DiscoveryRequest} as read off the wire, its resource names left as
 * bytes. Envoy repeats every name of a type in each ACK (a full-mesh sidecar: a thousand EDS names,
 * some 50 KB), and an ACK almost always names what the stream already watches, in the order it
 * named them before. Protobuf's own parser decodes each name into a String only for the server to
 * find it unchanged; here nothing is decoded unless the names differ from the previous request's.
 *
 * <p>A request is read into a buffer the reading thread reuses, and what it keeps of its names is
 * interned: each name once for the whole server ({@link WireName}), and a long run of names (how
 * every encoder writes a repeated field) once as a whole ({@link NameRuns}), so the thousand
 * sidecars that ACK the same thousand names allocate nothing per ACK and an ACK is recognised by
 * identity. Fields other than the names are read as protobuf does (strings checked as UTF-8,
 * unknown fields skipped); bytes that are not a {@code DiscoveryRequest} fail the call as
 * grpc-java's protobuf marshaller fails it.
 */
final class SotwRequest {
  /** Resource names as the wire carries them, interned across streams so their ACKs share one copy. */
  private static final Interner<WireName> NAMES = Interners.newWeakInterner();
  private static final WireName[] NO_NAMES = new WireName[0];

  // Tags of DiscoveryRequest's fields, all length-delimited: (field number << 3) | 2.
  private static final int VERSION_INFO = lengthDelimited(DiscoveryRequest.VERSION_INFO_FIELD_NUMBER);
  private static final int NODE = lengthDelimited(DiscoveryRequest.NODE_FIELD_NUMBER);
  private static final int RESOURCE_NAMES = lengthDelimited(DiscoveryRequest.RESOURCE_NAMES_FIELD_NUMBER);
  private static final int TYPE_URL = lengthDelimited(DiscoveryRequest.TYPE_URL_FIELD_NUMBER);
  private static final int RESPONSE_NONCE = lengthDelimited(DiscoveryRequest.RESPONSE_NONCE_FIELD_NUMBER);
  private static final int ERROR_DETAIL = lengthDelimited(DiscoveryRequest.ERROR_DETAIL_FIELD_NUMBER);

  private static int lengthDelimited(int fieldNumber) {
    return (fieldNumber << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }

  /** The names in the request's order, interned; never changed (streams keep it as their request order). */
  private final WireName[] names;
  private final String versionInfo;
  private final String typeUrl;
  private final String responseNonce;
  private final Node node;
  private final Status errorDetail;
  /** The names decoded, once asked for. */
  private List<String> decoded;

  private SotwRequest(WireName[] names, String versionInfo, String typeUrl, String responseNonce, Node node,
      Status errorDetail) {
    this.names = names;
    this.versionInfo = versionInfo;
    this.typeUrl = typeUrl;
    this.responseNonce = responseNonce;
    this.node = node;
    this.errorDetail = errorDetail;
  }

  /** Reads a serialized {@code DiscoveryRequest}; nothing of {@code wire} is kept. */
  static SotwRequest parse(byte[] wire) throws IOException {
    return parse(wire, wire.length, Scratch.get());
  }

  /**
   * Reads the first {@code size} bytes of {@code wire}. Names and the three strings every request
   * carries are walked here without a decoder; the node, an error detail and fields no version of
   * the API has are left to protobuf's decoder.
   */
  private static SotwRequest parse(byte[] wire, int size, Scratch scratch) throws IOException {
    int count = 0;
    int runStart = -1;
    int runEnd = -1;
    boolean oneRun = true;
    String versionInfo = "";
    String typeUrl = "";
    String responseNonce = "";
    Node node = null;
    Status errorDetail = null;
    ExtensionRegistryLite none = ExtensionRegistryLite.getEmptyRegistry();
    int pos = 0;
    while (pos < size) {
      int tag = wire[pos];
      if (tag == RESOURCE_NAMES || tag == VERSION_INFO || tag == TYPE_URL || tag == RESPONSE_NONCE) {
        // One byte of tag, then a varint length (under 128 bytes, one byte).
        int at = pos + 1;
        int n = 0;
        int shift = 0;
        while (true) {
          if (at >= size || shift > 28) throw new InvalidProtocolBufferException("a field's length is cut short or too long");
          byte b = wire[at++];
          n |= (b & 0x7F) << shift;
          if (b >= 0) break;
          shift += 7;
        }
        if (n < 0 || n > size - at) throw new InvalidProtocolBufferException("a field runs past the end of the request");
        if (tag == RESOURCE_NAMES) {
          if (count > 0 && runEnd != pos) oneRun = false;
          if (count == 0) runStart = pos;
          scratch.addName(count++, at, n);
          runEnd = at + n;
        } else {
          String text = utf8(wire, at, n);
          if (tag == VERSION_INFO) {
            versionInfo = text;
          } else if (tag == TYPE_URL) {
            typeUrl = text;
          } else {
            responseNonce = text;
          }
        }
        pos = at + n;
        continue;
      }
      // Any other field: one step of protobuf's own decoder from here.
      CodedInputStream in = CodedInputStream.newInstance(wire, pos, size - pos);
      tag = in.readTag();
      if (tag == VERSION_INFO) {
        versionInfo = in.readStringRequireUtf8();
      } else if (tag == TYPE_URL) {
        typeUrl = in.readStringRequireUtf8();
      } else if (tag == RESPONSE_NONCE) {
        responseNonce = in.readStringRequireUtf8();
      } else if (tag == NODE) {
        // Protobuf merges a repeated singular message field; clients send it once.
        Node read = in.readMessage(Node.parser(), none);
        node = node == null ? read : node.toBuilder().mergeFrom(read).build();
      } else if (tag == ERROR_DETAIL) {
        Status read = in.readMessage(Status.parser(), none);
        errorDetail = errorDetail == null ? read : errorDetail.toBuilder().mergeFrom(read).build();
      } else if (tag == RESOURCE_NAMES) {
        // A tag written in more bytes than it needs: legal, if odd.
        int n = in.readRawVarint32();
        if (n < 0 || n > size - pos - in.getTotalBytesRead()) {
          throw new InvalidProtocolBufferException("a resource name runs past the end of the request");
        }
        oneRun = false;
        scratch.addName(count++, pos + in.getTotalBytesRead(), n);
        in.skipRawBytes(n);
      } else if (tag == 0 || !in.skipField(tag)) {
        throw new InvalidProtocolBufferException("a DiscoveryRequest with a stray end-group tag or field 0");
      }
      pos += in.getTotalBytesRead();
    }
    WireName[] names;
    if (count == 0) {
      names = NO_NAMES;
    } else if (oneRun && runEnd - runStart >= NameRuns.SHARED_FROM_BYTES) {
      names = NameRuns.SHARED.names(wire, runStart, runEnd, count, scratch);
    } else {
      names = scratch.internNames(wire, count);
    }
    return new SotwRequest(names, versionInfo, typeUrl, responseNonce, node, errorDetail);
  }

  /** A string field's bytes, checked as protobuf checks a proto3 string. */
  private static String utf8(byte[] wire, int at, int n) throws InvalidProtocolBufferException {
    for (int i = at; i < at + n; i++) {
      if (wire[i] < 0) {
        var bytes = UnsafeByteOperations.unsafeWrap(wire, at, n);
        if (!bytes.isValidUtf8()) throw new InvalidProtocolBufferException("a string field that is not UTF-8");
        return bytes.toStringUtf8();
      }
    }
    return new String(wire, at, n, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /** The same request, for callers that hold a parsed message (tests, in-process clients). */
  static SotwRequest of(DiscoveryRequest request) {
    try {
      return parse(request.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException("a DiscoveryRequest that does not read back", e);
    }
  }

  String typeUrl() {
    return typeUrl;
  }

  String versionInfo() {
    return versionInfo;
  }

  String responseNonce() {
    return responseNonce;
  }

  boolean hasNode() {
    return node != null;
  }

  Node node() {
    return node == null ? Node.getDefaultInstance() : node;
  }

  boolean hasErrorDetail() {
    return errorDetail != null;
  }

  Status errorDetail() {
    return errorDetail == null ? Status.getDefaultInstance() : errorDetail;
  }

  int nameCount() {
    return names.length;
  }

  /**
   * The names, decoded. Throws {@link InvalidProtocolBufferException} for a name that is not UTF-8,
   * as protobuf's parser would have for the whole request.
   */
  List<String> names() throws InvalidProtocolBufferException {
    if (decoded == null) {
      List<String> out = new ArrayList<>(names.length);
      for (WireName name : names) {
        var bytes = UnsafeByteOperations.unsafeWrap(name.bytes);
        if (!bytes.isValidUtf8()) throw new InvalidProtocolBufferException("a resource name that is not UTF-8");
        out.add(bytes.toStringUtf8());
      }
      decoded = Collections.unmodifiableList(out);
    }
    return decoded;
  }

  /**
   * Whether this request lists exactly {@code expected}, in that order. Names are interned, so
   * they are compared by identity; a long run read before is the very same array.
   */
  boolean namesAre(WireName[] expected) {
    if (expected == names) return true;
    if (expected == null || expected.length != names.length) return false;
    for (int i = 0; i < names.length; i++) if (expected[i] != names[i]) return false;
    return true;
  }

  /**
   * This request's names in its order, interned, for {@link #namesAre} on the next request. Shared
   * with every request that listed the same run: never to be changed.
   */
  WireName[] wireNames() {
    return names;
  }

  /** The request as a message again (for a caller that serializes one; the server never does). */
  DiscoveryRequest toMessage() {
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setVersionInfo(versionInfo).setTypeUrl(typeUrl)
        .setResponseNonce(responseNonce);
    for (WireName name : names) b.addResourceNamesBytes(UnsafeByteOperations.unsafeWrap(name.bytes));
    if (node != null) b.setNode(node);
    if (errorDetail != null) b.setErrorDetail(errorDetail);
    return b.build();
  }

  /** One name of a request, interned. */
  static WireName intern(byte[] wire, int from, int length) {
    return NAMES.intern(new WireName(Arrays.copyOfRange(wire, from, from + length)));
  }

  /** One resource name's UTF-8 bytes, compared by content. */
  static final class WireName {
    final byte[] bytes;
    private final int hash;

    WireName(byte[] bytes) {
      this.bytes = bytes;
      this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WireName other && hash == other.hash && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * Reads requests straight from the transport's buffer into the reading thread's scratch buffer.
   * A malformed request fails the call with INTERNAL, as grpc-java's protobuf marshaller does.
   */
  static final MethodDescriptor.Marshaller<SotwRequest> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(SotwRequest value) {
      return value.toMessage().toByteString().newInput();
    }

    @Override
    public SotwRequest parse(InputStream stream) {
      try {
        Scratch scratch = Scratch.get();
        if (stream instanceof KnownLength) {
          int size = stream.available();
          byte[] wire = scratch.bytes(size);
          if (stream.readNBytes(wire, 0, size) != size || stream.read() != -1) {
            throw new IOException("message length differs from its frame");
          }
          return SotwRequest.parse(wire, size, scratch);
        }
        byte[] wire = stream.readAllBytes();
        return SotwRequest.parse(wire, wire.length, scratch);
      } catch (IOException e) {
        throw io.grpc.Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e)
            .asRuntimeException();
      }
    }
  };

  /**
   * A reading thread's reusable buffers: the request's bytes and where its names are. A full-mesh
   * sidecar's requests are tens of kilobytes each; reading every ACK into a fresh array was most of
   * what the server allocated per change.
   */
  static final class Scratch {
    /** Larger requests get arrays of their own, so an odd huge request pins nothing per thread. */
    private static final int KEPT_UP_TO = 1 << 20;
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    private byte[] bytes = new byte[64 * 1024];
    private int[] nameStart = new int[256];
    private int[] nameLength = new int[256];

    static Scratch get() {
      return PER_THREAD.get();
    }

    byte[] bytes(int size) {
      if (size <= bytes.length) return bytes;
      if (size > KEPT_UP_TO) return new byte[size];
      bytes = new byte[Math.min(KEPT_UP_TO, Math.max(size, bytes.length * 2))];
      return bytes;
    }

    void addName(int index, int start, int length) {
      if (index == nameStart.length) {
        nameStart = Arrays.copyOf(nameStart, index * 2);
        nameLength = Arrays.copyOf(nameLength, index * 2);
      }
      nameStart[index] = start;
      nameLength[index] = length;
    }

    int nameStart(int index) {
      return nameStart[index];
    }

    int nameLength(int index) {
      return nameLength[index];
    }

    WireName[] internNames(byte[] wire, int count) {
      WireName[] out = new WireName[count];
      for (int i = 0; i < count; i++) out[i] = intern(wire, nameStart[i], nameLength[i]);
      return out;
    }
  }
}
