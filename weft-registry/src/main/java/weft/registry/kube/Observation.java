package weft.registry.kube;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/**
 * One object as an API server (or a state file) last showed it: its JSON and what the parser made
 * of it. Objects go through {@link ResourceParser} exactly as files do, so validation and problems
 * are the same whichever way a resource arrives.
 */
record Observation(ResourceId id, String json, ParsedFile parsed) {

  static Observation of(KubernetesSerialization serialization, WatchedKind kind, HasMetadata object, String source) {
    ObjectNode node = serialization.convertValue(object, ObjectNode.class);
    // Items of a list may come without apiVersion and kind; the informer knows both.
    node.put("apiVersion", kind.apiVersion());
    node.put("kind", kind.kind());
    // Server-side apply bookkeeping: large, and nothing the mesh reads.
    if (node.get("metadata") instanceof ObjectNode metadata) metadata.remove("managedFields");
    String json = node.toString();
    return new Observation(kind.id(object), json, ResourceParser.parse(source, json));
  }

  /** The accepted resource, or null when validation rejected the object. */
  Resource resource() {
    for (Resource r : parsed.resources()) {
      if (r.id().equals(id)) return r;
    }
    return null;
  }
}
