package weft.xds.dump;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes secrets from a resource before anyone sees it. A field is secret when Envoy's API marks
 * it {@code (udpa.annotations.sensitive)} (private keys, passwords, generic secrets, HMAC keys) or
 * is named like one; every string and byte under it becomes {@value #REDACTED}. Resources packed
 * in {@code Any} are opened and redacted too; one whose type is unknown here is not shown at all,
 * since nothing could vouch for what it holds. Unknown fields are dropped for the same reason.
 */
final class Redaction {
  static final String REDACTED = "[redacted]";
  /** Names that mean a secret even if a future API version forgot the annotation. */
  private static final Set<String> SECRET_NAMES = Set.of("private_key", "password");

  private final TypeRegistry types;

  Redaction(TypeRegistry types) {
    this.types = types;
  }

  /** The resource of {@code typeUrl} in {@code bytes}, redacted; an unknown or unreadable type is replaced by a note. */
  Any redactedAny(String typeUrl, ByteString bytes) {
    Descriptor d = descriptor(typeUrl);
    if (d == null) return note("not shown: type " + typeUrl + " is unknown to this control plane");
    try {
      return Any.newBuilder().setTypeUrl(typeUrl).setValue(redact(DynamicMessage.parseFrom(d, bytes)).toByteString())
          .build();
    } catch (InvalidProtocolBufferException e) {
      return note("not shown: unreadable " + typeUrl + " (" + e.getMessage() + ")");
    }
  }

  Message redact(Message m) {
    if (m.getDescriptorForType().getFullName().equals(Any.getDescriptor().getFullName())) {
      return packed(m);
    }
    Message.Builder b = m.toBuilder();
    b.setUnknownFields(UnknownFieldSet.getDefaultInstance());
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      boolean secret = isSecret(f);
      if (!secret && f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) continue;
      if (f.isRepeated()) {
        List<?> values = (List<?>) e.getValue();
        for (int i = 0; i < values.size(); i++) b.setRepeatedField(f, i, secret ? blank(f, values.get(i)) : redact((Message) values.get(i)));
      } else {
        b.setField(f, secret ? blank(f, e.getValue()) : redact((Message) e.getValue()));
      }
    }
    return b.build();
  }

  static boolean isSecret(FieldDescriptor f) {
    return f.getOptions().getExtension(udpa.annotations.Sensitive.sensitive) || SECRET_NAMES.contains(f.getName());
  }

  /** A secret value with its content gone: strings and bytes say {@value #REDACTED}, structure and numbers stay. */
  private Object blank(FieldDescriptor f, Object value) {
    return switch (f.getJavaType()) {
      case STRING -> REDACTED;
      case BYTE_STRING -> ByteString.copyFromUtf8(REDACTED);
      case MESSAGE -> blankMessage((Message) value);
      default -> value;
    };
  }

  private Message blankMessage(Message m) {
    Descriptor d = m.getDescriptorForType();
    if (d.getFullName().equals(DataSource.getDescriptor().getFullName())) {
      // Whatever the key's source (inline bytes, inline string, file, variable), say only that it is hidden.
      return DynamicMessage.newBuilder(d).setField(d.findFieldByName("inline_string"), REDACTED).build();
    }
    if (d.getFullName().equals(Any.getDescriptor().getFullName())) return note("not shown: secret");
    Message.Builder b = m.toBuilder();
    b.setUnknownFields(UnknownFieldSet.getDefaultInstance());
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      if (f.isRepeated()) {
        List<?> values = (List<?>) e.getValue();
        for (int i = 0; i < values.size(); i++) b.setRepeatedField(f, i, blank(f, values.get(i)));
      } else {
        b.setField(f, blank(f, e.getValue()));
      }
    }
    return b.build();
  }

  private Message packed(Message any) {
    Descriptor d = any.getDescriptorForType();
    String typeUrl = (String) any.getField(d.findFieldByName("type_url"));
    ByteString value = (ByteString) any.getField(d.findFieldByName("value"));
    Any redacted = redactedAny(typeUrl, value);
    if (any instanceof Any) return redacted;
    return DynamicMessage.newBuilder(d)
        .setField(d.findFieldByName("type_url"), redacted.getTypeUrl())
        .setField(d.findFieldByName("value"), redacted.getValue())
        .build();
  }

  private Descriptor descriptor(String typeUrl) {
    try {
      return types.getDescriptorForTypeUrl(typeUrl);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static Any note(String text) {
    return Any.pack(Value.newBuilder().setStringValue(text).build());
  }
}
