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
import java.io.ByteArrayInputStream;
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
 * find it unchanged; here an ACK is compared byte for byte with the previous request's names and
 * nothing is decoded unless they differ. Fields other than the names are read as protobuf does
 * (strings checked as UTF-8, unknown fields skipped); bytes that are not a {@code DiscoveryRequest}
 * fail the call as grpc-java's protobuf marshaller fails it.
 */
final class SotwRequest {
  /** Resource names as the wire carries them, interned across streams so their ACKs share one copy. */
  private static final Interner<WireName> NAMES = Interners.newWeakInterner();

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

  private final byte[] wire;
  private final int[] nameStart;
  private final int[] nameLength;
  private final int nameCount;
  private final String versionInfo;
  private final String typeUrl;
  private final String responseNonce;
  private final Node node;
  private final Status errorDetail;
  /** The names decoded, once asked for. */
  private List<String> decoded;

  private SotwRequest(byte[] wire, int[] nameStart, int[] nameLength, int nameCount, String versionInfo,
      String typeUrl, String responseNonce, Node node, Status errorDetail) {
    this.wire = wire;
    this.nameStart = nameStart;
    this.nameLength = nameLength;
    this.nameCount = nameCount;
    this.versionInfo = versionInfo;
    this.typeUrl = typeUrl;
    this.responseNonce = responseNonce;
    this.node = node;
    this.errorDetail = errorDetail;
  }

  /**
   * Reads a serialized {@code DiscoveryRequest}; {@code wire} is kept, not copied. Runs of names
   * (how every encoder writes a repeated field) are walked here without a decoder; every other
   * field is read by protobuf's.
   */
  static SotwRequest parse(byte[] wire) throws IOException {
    int[] start = new int[16];
    int[] length = new int[16];
    int count = 0;
    String versionInfo = "";
    String typeUrl = "";
    String responseNonce = "";
    Node node = null;
    Status errorDetail = null;
    ExtensionRegistryLite none = ExtensionRegistryLite.getEmptyRegistry();
    int pos = 0;
    while (pos < wire.length) {
      if (wire[pos] == RESOURCE_NAMES) {
        // One byte of tag, then a varint length (a name under 128 bytes has a one-byte length).
        int at = pos + 1;
        int n = 0;
        int shift = 0;
        while (true) {
          if (at >= wire.length || shift > 28) throw new InvalidProtocolBufferException("a resource name's length is cut short or too long");
          byte b = wire[at++];
          n |= (b & 0x7F) << shift;
          if (b >= 0) break;
          shift += 7;
        }
        if (n < 0 || n > wire.length - at) throw new InvalidProtocolBufferException("a resource name runs past the end of the request");
        if (count == start.length) {
          start = Arrays.copyOf(start, count * 2);
          length = Arrays.copyOf(length, count * 2);
        }
        start[count] = at;
        length[count++] = n;
        pos = at + n;
        continue;
      }
      // Any other field: one step of protobuf's own decoder from here.
      CodedInputStream in = CodedInputStream.newInstance(wire, pos, wire.length - pos);
      int tag = in.readTag();
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
        if (n < 0) throw new InvalidProtocolBufferException("a resource name with a negative length");
        if (count == start.length) {
          start = Arrays.copyOf(start, count * 2);
          length = Arrays.copyOf(length, count * 2);
        }
        start[count] = pos + in.getTotalBytesRead();
        length[count++] = n;
        in.skipRawBytes(n);
      } else if (tag == 0 || !in.skipField(tag)) {
        throw new InvalidProtocolBufferException("a DiscoveryRequest with a stray end-group tag or field 0");
      }
      pos += in.getTotalBytesRead();
    }
    return new SotwRequest(wire, start, length, count, versionInfo, typeUrl, responseNonce, node, errorDetail);
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
    return nameCount;
  }

  /**
   * The names, decoded. Throws {@link InvalidProtocolBufferException} for a name that is not UTF-8,
   * as protobuf's parser would have for the whole request.
   */
  List<String> names() throws InvalidProtocolBufferException {
    if (decoded == null) {
      List<String> out = new ArrayList<>(nameCount);
      for (int i = 0; i < nameCount; i++) {
        var bytes = UnsafeByteOperations.unsafeWrap(wire, nameStart[i], nameLength[i]);
        if (!bytes.isValidUtf8()) throw new InvalidProtocolBufferException("a resource name that is not UTF-8");
        out.add(bytes.toStringUtf8());
      }
      decoded = Collections.unmodifiableList(out);
    }
    return decoded;
  }

  /** Whether this request lists exactly {@code names}, in that order, byte for byte. */
  boolean namesAre(WireName[] names) {
    if (names == null || names.length != nameCount) return false;
    for (int i = 0; i < nameCount; i++) {
      byte[] expected = names[i].bytes;
      int from = nameStart[i];
      if (!Arrays.equals(wire, from, from + nameLength[i], expected, 0, expected.length)) return false;
    }
    return true;
  }

  /** This request's names in its order, interned, for {@link #namesAre} on the next request. */
  WireName[] wireNames() {
    WireName[] out = new WireName[nameCount];
    for (int i = 0; i < nameCount; i++) {
      out[i] = NAMES.intern(new WireName(Arrays.copyOfRange(wire, nameStart[i], nameStart[i] + nameLength[i])));
    }
    return out;
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
   * Reads requests straight from the transport's buffer. A malformed request fails the call with
   * INTERNAL, as grpc-java's protobuf marshaller does.
   */
  static final MethodDescriptor.Marshaller<SotwRequest> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(SotwRequest value) {
      return new ByteArrayInputStream(value.wire);
    }

    @Override
    public SotwRequest parse(InputStream stream) {
      try {
        byte[] wire;
        if (stream instanceof KnownLength) {
          // Read straight into an array of the message's size (readNBytes(int) would copy twice).
          int size = stream.available();
          wire = new byte[size];
          if (stream.readNBytes(wire, 0, size) != size || stream.read() != -1) {
            throw new IOException("message length differs from its frame");
          }
        } else {
          wire = stream.readAllBytes();
        }
        return SotwRequest.parse(wire);
      } catch (IOException e) {
        throw io.grpc.Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e)
            .asRuntimeException();
      }
    }
  };
}
