package weft.security.testing;

import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;

/** Checks a chain the way a TLS peer does: PKIX from the leaf to a trusted root. */
public final class Chains {
  private Chains() {}

  /** Validates {@code chain} (leaf first, root last or absent) against {@code root}; throws if it does not. */
  public static PKIXCertPathValidatorResult verify(List<X509Certificate> chain, X509Certificate root, Instant at)
      throws Exception {
    List<X509Certificate> path = chain.get(chain.size() - 1).equals(root) ? chain.subList(0, chain.size() - 1) : chain;
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    params.setRevocationEnabled(false);
    params.setDate(Date.from(at));
    return (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
  }
}
