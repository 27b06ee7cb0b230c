package weft.security.auth;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import weft.security.SpiffeId;

/**
 * The identity in a client certificate chain: the one SPIFFE id (Istio's form) of a leaf that is
 * not a CA, on a chain that reaches one of the given roots and is valid now. The TLS handshake has
 * checked the chain against the roots it was started with; this checks it again against the roots
 * of now and reads the name, so a certificate that is only good for TLS (no SPIFFE id, a CA, a
 * foreign root) never becomes an identity.
 */
public final class ClientCertificates {
  private ClientCertificates() {}

  /**
   * @param chain the client's chain, leaf first, as the TLS session gives it
   * @param roots the roots our CA's workload certificates end at
   * @throws AuthenticationException saying what is wrong with the chain
   */
  public static SpiffeId identity(List<X509Certificate> chain, Collection<X509Certificate> roots, Instant now)
      throws AuthenticationException {
    if (chain.isEmpty()) throw new AuthenticationException("no client certificate");
    X509Certificate leaf = chain.get(0);
    verifyChain(chain, roots, now);
    if (leaf.getBasicConstraints() >= 0) {
      throw new AuthenticationException("the client certificate is a CA certificate, not a workload's");
    }
    List<String> uris = uris(leaf);
    if (uris.size() != 1) {
      throw new AuthenticationException("the client certificate names " + uris.size()
          + " URIs; a workload certificate names exactly one, spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT");
    }
    Optional<SpiffeId> id = SpiffeId.parse(uris.get(0));
    if (id.isEmpty()) {
      throw new AuthenticationException("the client certificate's URI is not spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/"
          + "SERVICE_ACCOUNT");
    }
    return id.get();
  }

  private static void verifyChain(List<X509Certificate> chain, Collection<X509Certificate> roots, Instant now)
      throws AuthenticationException {
    if (roots.isEmpty()) throw new AuthenticationException("no mesh roots to check client certificates against");
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate r : roots) anchors.add(new TrustAnchor(r, null));
    // A client may send the root along; the path to validate ends below the anchor.
    List<X509Certificate> path = new ArrayList<>(chain);
    while (path.size() > 1 && roots.contains(path.get(path.size() - 1))) path.remove(path.size() - 1);
    try {
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (CertPathValidatorException e) {
      throw new AuthenticationException("the client certificate does not chain to the mesh root: " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new AuthenticationException("cannot check the client certificate: " + e.getMessage());
    }
  }

  private static List<String> uris(X509Certificate leaf) throws AuthenticationException {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans == null) return out;
      for (List<?> san : sans) {
        // GeneralName type 6 is uniformResourceIdentifier (RFC 5280, 4.2.1.6).
        if (san.size() >= 2 && Integer.valueOf(6).equals(san.get(0))) out.add(String.valueOf(san.get(1)));
      }
      return out;
    } catch (CertificateParsingException e) {
      throw new AuthenticationException("cannot read the client certificate's names: " + e.getMessage());
    }
  }
}
