package weft.model.parse;

import weft.model.Namespace;
import weft.model.Node;

/** Namespaces and Nodes: cluster-scoped objects of which Weft needs only the labels. */
final class ClusterObjectParser {
  private ClusterObjectParser() {}

  static Namespace namespace(Document d) {
    return new Namespace(d.id(), d.labels());
  }

  static Node node(Document d) {
    return new Node(d.id(), d.labels());
  }
}
