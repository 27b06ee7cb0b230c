package weft.xds.extend;

import com.google.protobuf.Message;
import weft.model.EnvoyFilter;

/**
 * One usable patch for one proxy: its EnvoyFilter, the patch and its value as a typed Envoy message
 * (null for REMOVE). Patches whose value could not be read or whose proxy match fails never become
 * steps.
 */
record Step(EnvoyFilter filter, EnvoyFilter.Patch patch, Message value) {
  String op() {
    return patch.operation();
  }

  EnvoyFilter.Match match() {
    return patch.match();
  }

  /** The patch's context admits {@code context} (ANY admits all). */
  boolean inContext(PatchContext context) {
    String c = patch.match().context();
    return c.equals("ANY") || c.equals(context.name());
  }

  @SuppressWarnings("unchecked")
  <T extends Message> T value(Class<T> type) {
    return (T) value;
  }
}
