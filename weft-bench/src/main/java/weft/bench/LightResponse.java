package weft.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A State-of-the-World response as a sidecar of the harness reads it: the type, version_info and
 * nonce, and each resource's bytes (the {@code Any}'s value, a slice of the message, not copied).
 * Envoy decodes its responses in C++; the harness shares the control plane's two cores, so it reads
 * only what it acts on instead of building every resource as a Java message.
 */
record LightResponse(String typeUrl, String versionInfo, String nonce, List<ByteString> resources) {
  static final MethodDescriptor.Marshaller<LightResponse> MARSHALLER = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(LightResponse value) {
      throw new UnsupportedOperationException("the harness never sends a response");
    }

    @Override
    public LightResponse parse(InputStream stream) {
      try {
        return read(stream.readAllBytes());
      } catch (IOException e) {
        throw io.grpc.Status.INTERNAL.withDescription("malformed DiscoveryResponse").withCause(e).asRuntimeException();
      }
    }
  };

  static LightResponse read(byte[] wire) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(wire);
    String typeUrl = "";
    String version = "";
    String nonce = "";
    List<ByteString> resources = new ArrayList<>();
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (WireFormat.getTagFieldNumber(tag)) {
        case DiscoveryResponse.VERSION_INFO_FIELD_NUMBER -> version = in.readStringRequireUtf8();
        case DiscoveryResponse.TYPE_URL_FIELD_NUMBER -> typeUrl = in.readStringRequireUtf8();
        case DiscoveryResponse.NONCE_FIELD_NUMBER -> nonce = in.readStringRequireUtf8();
        case DiscoveryResponse.RESOURCES_FIELD_NUMBER -> {
          int length = in.readRawVarint32();
          int end = in.getTotalBytesRead() + length;
          ByteString value = ByteString.EMPTY;
          // The Any: field 1 its type URL (skipped), field 2 its value.
          while (in.getTotalBytesRead() < end) {
            int anyTag = in.readTag();
            if (WireFormat.getTagFieldNumber(anyTag) == 2) {
              int n = in.readRawVarint32();
              value = UnsafeByteOperations.unsafeWrap(wire, in.getTotalBytesRead(), n);
              in.skipRawBytes(n);
            } else {
              in.skipField(anyTag);
            }
          }
          resources.add(value);
        }
        default -> in.skipField(tag);
      }
    }
    return new LightResponse(typeUrl, version, nonce, resources);
  }
}
