package weft.registry.file;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.RejectedDocument;

/**
 * What one file serves after an edit: its accepted resources, plus the last good version of every
 * resource whose document is still there but was rejected. A resource is withdrawn only when its
 * document is gone (or the file is).
 *
 * <p>How a rejected document is matched to what it served before, in this order:
 * <ol>
 *   <li>By the identity it still claims ({@link RejectedDocument}): kind (a misspelt kind counts as
 *       the kind it is close to), name and namespace, each where it can still be read. A wrong
 *       apiVersion, a broken field or a misspelt kind leave all three, so the match is exact.
 *       Should several earlier resources fit a partial identity, the one at the same position wins.
 *   <li>When no name can be read (missing, or a mapping), by position: the resource that the
 *       document at the same position ({@code document 3}, {@code document 1 items[2]}) served,
 *       provided the kind and namespace that can still be read agree.
 * </ol>
 * A document that names another resource than before (a rename) does not keep the old one: the
 * old name is gone from the file. Each earlier resource is kept for one document at most, and
 * takes the position of the document that kept it, so that later edits match again.
 */
final class LastGood {
  /** The resources a file serves, and the position of each in the file. */
  record Served(Map<ResourceId, Resource> resources, Map<ResourceId, String> positions, List<ResourceId> kept) {
    static final Served NONE = new Served(Map.of(), Map.of(), List.of());

    Served {
      resources = Map.copyOf(resources);
      positions = Map.copyOf(positions);
      kept = List.copyOf(kept);
    }
  }

  private LastGood() {}

  static Served serve(Served before, ParsedFile parsed) {
    Map<ResourceId, Resource> resources = new HashMap<>();
    Map<ResourceId, String> positions = new HashMap<>(parsed.positions());
    for (Resource r : parsed.resources()) resources.put(r.id(), r);
    Map<ResourceId, String> candidates = new LinkedHashMap<>();
    before.positions().forEach((id, position) -> {
      if (!resources.containsKey(id) && before.resources().containsKey(id)) candidates.put(id, position);
    });
    List<ResourceId> kept = new ArrayList<>();
    for (RejectedDocument doc : parsed.rejected()) {
      ResourceId match = match(doc, candidates);
      if (match == null) continue;
      candidates.remove(match);
      resources.put(match, before.resources().get(match));
      positions.put(match, doc.position());
      kept.add(match);
    }
    return new Served(resources, positions, kept);
  }

  private static ResourceId match(RejectedDocument doc, Map<ResourceId, String> candidates) {
    List<ResourceId> fits = new ArrayList<>();
    for (ResourceId id : candidates.keySet()) {
      boolean kind = doc.kind() == null || doc.kind().equals(id.kind());
      boolean namespace = doc.namespace() == null || doc.namespace().equals(id.namespace());
      boolean name = doc.name() == null ? doc.position().equals(candidates.get(id)) : doc.name().equals(id.name());
      if (kind && namespace && name) fits.add(id);
    }
    if (fits.size() == 1) return fits.get(0);
    return fits.stream().filter(id -> Objects.equals(candidates.get(id), doc.position())).findFirst().orElse(null);
  }
}
