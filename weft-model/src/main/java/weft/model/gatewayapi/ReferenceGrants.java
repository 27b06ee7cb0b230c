package weft.model.gatewayapi;

import java.util.List;
import weft.model.ReferenceGrant;

/**
 * Whether an object may refer to one in another namespace: only when a ReferenceGrant in the
 * target's namespace lists the referrer's group, kind and namespace and the target's group, kind
 * (and name, when it names one). A reference within one namespace needs no grant.
 */
final class ReferenceGrants {
  private final List<ReferenceGrant> grants;

  ReferenceGrants(List<ReferenceGrant> grants) {
    this.grants = List.copyOf(grants);
  }

  boolean allows(String fromGroup, String fromKind, String fromNamespace, String toGroup, String toKind,
      String toNamespace, String toName) {
    if (fromNamespace.equals(toNamespace)) return true;
    for (ReferenceGrant g : grants) {
      if (!g.id().namespace().equals(toNamespace)) continue;
      boolean from = g.from().stream().anyMatch(f -> f.group().equals(fromGroup) && f.kind().equals(fromKind)
          && f.namespace().equals(fromNamespace));
      if (!from) continue;
      boolean to = g.to().stream().anyMatch(t -> t.group().equals(toGroup) && t.kind().equals(toKind)
          && (t.name() == null || t.name().equals(toName)));
      if (to) return true;
    }
    return false;
  }
}
