package weft.controlplane;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import weft.model.MeshConfig;
import weft.security.federation.FederatedPeer;

/** Which peers the configuration declares: MeshConfig {@code caCertificates} with {@code spiffeBundleUrl}. */
final class FederationPeers {
  private FederationPeers() {}

  static List<FederatedPeer> declared(MeshConfig mesh) {
    List<FederatedPeer> out = new ArrayList<>();
    List<MeshConfig.CaCertificate> cas = mesh.caCertificates();
    for (int i = 0; i < cas.size(); i++) {
      MeshConfig.CaCertificate c = cas.get(i);
      if (c.spiffeBundleUrl() == null || c.trustDomains().size() != 1) continue; // the parser reported it
      // Istio's spiffeBundleUrl is the https_web form: the endpoint proves itself with a Web PKI certificate.
      out.add(FederatedPeer.httpsWeb(c.trustDomains().get(0), URI.create(c.spiffeBundleUrl()),
          "MeshConfig caCertificates[" + i + "].spiffeBundleUrl"));
    }
    return out;
  }
}
