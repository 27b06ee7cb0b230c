package weft.xds.security;

import java.util.Comparator;
import java.util.List;
import weft.model.AuthorizationPolicy;
import weft.model.PeerAuthentication;
import weft.registry.MeshSnapshot;

/** The security configuration of the mesh, sorted by resource id so that every choice made from it is stable. */
public interface SecurityPolicies {
  List<PeerAuthentication> peerAuthentications();

  List<AuthorizationPolicy> authorizationPolicies();

  SecurityPolicies NONE = new Fixed(List.of(), List.of());

  /** Any lists, sorted here. */
  static SecurityPolicies of(List<PeerAuthentication> peerAuthentications,
      List<AuthorizationPolicy> authorizationPolicies) {
    return new Fixed(peerAuthentications.stream().sorted(Comparator.comparing(PeerAuthentication::id)).toList(),
        authorizationPolicies.stream().sorted(Comparator.comparing(AuthorizationPolicy::id)).toList());
  }

  /** What the snapshot's config clusters hold (the registry already sorts them by id). */
  static SecurityPolicies of(MeshSnapshot snapshot) {
    return new Fixed(snapshot.config().peerAuthentications(), snapshot.config().authorizationPolicies());
  }

  /** The plain holder behind the factories. */
  record Fixed(List<PeerAuthentication> peerAuthentications, List<AuthorizationPolicy> authorizationPolicies)
      implements SecurityPolicies {
    public Fixed {
      peerAuthentications = List.copyOf(peerAuthentications);
      authorizationPolicies = List.copyOf(authorizationPolicies);
    }
  }
}
