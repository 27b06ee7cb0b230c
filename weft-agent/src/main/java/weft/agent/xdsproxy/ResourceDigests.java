package weft.agent.xdsproxy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Names and fingerprints of the resources in a SotW response, so that the proxy can tell what a
 * workload already holds without keeping a second copy of its config: 32 bytes a resource.
 *
 * <p>A SotW response carries bare {@code Any}s. Every resource type Envoy and gRPC subscribe to
 * (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, Secret, ScopedRouteConfiguration,
 * VirtualHost) keeps its name in field 1, a string, so the name is read from there without knowing
 * the type. A resource without one is keyed by its position: it then differs whenever anything moves,
 * which only costs a resend.
 */
final class ResourceDigests {
  private static final int NAME_FIELD = 1;

  private ResourceDigests() {}

  /** Name → SHA-256 of the resource's type and bytes, in response order. */
  static Map<String, ByteString> of(List<Any> resources) {
    Map<String, ByteString> out = new LinkedHashMap<>();
    for (int i = 0; i < resources.size(); i++) {
      Any a = resources.get(i);
      String name = nameOf(a.getValue());
      out.put(name == null ? "#" + i : name, digest(a));
    }
    return out;
  }

  /** The string in field 1, or null when there is none (or the bytes are not a message). */
  static String nameOf(ByteString message) {
    try {
      CodedInputStream in = message.newCodedInput();
      while (true) {
        int tag = in.readTag();
        if (tag == 0) return null;
        if (WireFormat.getTagFieldNumber(tag) == NAME_FIELD
            && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          return in.readStringRequireUtf8();
        }
        if (!in.skipField(tag)) return null;
      }
    } catch (IOException e) {
      return null;
    }
  }

  static String nameOrPosition(Any resource, int position) {
    String name = nameOf(resource.getValue());
    return name == null ? "#" + position : name;
  }

  private static ByteString digest(Any a) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(a.getTypeUrlBytes().asReadOnlyByteBuffer());
      sha.update((byte) 0);
      sha.update(a.getValue().asReadOnlyByteBuffer());
      return ByteString.copyFrom(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
