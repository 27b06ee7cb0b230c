package weft.xds.extend;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.Map;

/**
 * MERGE as Istio does it: protobuf merge semantics (set scalars replace, repeated fields append,
 * maps merge by key, messages merge recursively; a field cannot be set back to its zero value), with
 * Istio's one change that a {@code google.protobuf.Duration} is replaced whole rather than merged
 * field by field (merging 0.5s into 10s would give 10.5s). Where Istio merges a filter's
 * {@code typed_config} it unpacks both sides and merges the messages ({@link #mergeTypedConfig});
 * any other {@code Any} is replaced, as plain protobuf merge does.
 */
final class ProtoMerge {
  private ProtoMerge() {}

  /** {@code dst} with {@code src} merged in. */
  @SuppressWarnings("unchecked")
  static <T extends Message> T merge(T dst, Message src) {
    Message.Builder b = dst.toBuilder();
    mergeInto(b, src);
    return (T) b.build();
  }

  static void mergeInto(Message.Builder dst, Message src) {
    for (Map.Entry<FieldDescriptor, Object> e : src.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      Object v = e.getValue();
      if (f.isRepeated() || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        // Scalars replace; lists append and maps merge by key, exactly as protobuf's own merge does.
        dst.mergeFrom(only(src, f));
      } else if (f.getMessageType().getFullName().equals(Duration.getDescriptor().getFullName())
          || !dst.hasField(f)) {
        dst.setField(f, v);
      } else {
        Message.Builder sub = ((Message) dst.getField(f)).toBuilder();
        mergeInto(sub, (Message) v);
        dst.setField(f, sub.build());
      }
    }
  }

  /** A message holding only field {@code f} of {@code src}. */
  private static Message only(Message src, FieldDescriptor f) {
    Message.Builder b = src.newBuilderForType();
    b.setField(f, src.getField(f));
    return b.build();
  }

  /**
   * A filter's typed config with the patch's merged in, both read as their type: the same type is
   * merged field by field; a different type cannot be merged (Istio refuses it too).
   *
   * @throws IllegalArgumentException naming both types when they differ or cannot be read
   */
  static Any mergeTypedConfig(Any existing, Any patch) {
    if (existing.getTypeUrl().isEmpty()) return patch;
    if (!existing.getTypeUrl().equals(patch.getTypeUrl())) {
      throw new IllegalArgumentException("its typed_config is " + typeName(patch) + " but the filter it matched has "
          + typeName(existing) + "; a MERGE must use the same type (use REPLACE to change it)");
    }
    var descriptor = EnvoyTypes.find(typeName(existing));
    if (descriptor == null) throw new IllegalArgumentException("type " + typeName(existing) + " is not known");
    try {
      Message a = com.google.protobuf.DynamicMessage.parseFrom(descriptor, existing.getValue());
      Message b = com.google.protobuf.DynamicMessage.parseFrom(descriptor, patch.getValue());
      Message merged = merge(a, b);
      return Any.newBuilder().setTypeUrl(existing.getTypeUrl()).setValue(merged.toByteString()).build();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("typed_config of type " + typeName(existing) + " could not be read");
    }
  }

  static String typeName(Any any) {
    String url = any.getTypeUrl();
    return url.substring(url.lastIndexOf('/') + 1);
  }
}
