package weft.xds.extend;

import java.util.ArrayList;
import java.util.List;
import weft.model.EnvoyFilter;
import weft.xds.view.PartCache;

/**
 * What patching found for one proxy: a patch whose value is not a valid Envoy proto, one that
 * cannot be applied where it matched, an unsupported {@code applyTo}. Kept as drop notes, so they
 * show per proxy in {@code /debug/status} and, summarised, in {@code weft analyze}. A match that
 * finds nothing is not a finding (Istio applies nothing, silently, too).
 */
final class Findings {
  private final List<PartCache.Drop> notes = new ArrayList<>();

  void patch(EnvoyFilter filter, EnvoyFilter.Patch patch, String reason) {
    notes.add(new PartCache.Drop(subject(filter, patch), reason + "; this patch is not applied"));
  }

  void note(String subject, String reason) {
    notes.add(new PartCache.Drop(subject, reason));
  }

  static String subject(EnvoyFilter filter, EnvoyFilter.Patch patch) {
    return "EnvoyFilter " + filter.id().namespace() + "/" + filter.id().name() + " configPatches[" + patch.index()
        + "] (" + patch.applyTo() + " " + patch.operation() + ")";
  }

  List<PartCache.Drop> notes() {
    return List.copyOf(notes);
  }
}
