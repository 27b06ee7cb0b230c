package weft.model.parse;

import java.util.Map;
import weft.model.ResourceId;

/**
 * One Kubernetes-style object being read: its identity, where its problems go, its top-level fields
 * and its metadata labels and annotations (already read and checked).
 */
record Document(Report report, ResourceId id, Fields root, Map<String, String> labels,
    Map<String, String> annotations) {

  String namespace() {
    return id.namespace();
  }
}
