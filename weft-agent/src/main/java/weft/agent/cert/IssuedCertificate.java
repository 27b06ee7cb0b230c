package weft.agent.cert;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import weft.agent.cert.CertificateSigner.SigningException;
import weft.security.SpiffeId;

/**
 * A workload certificate that has been checked and can be installed: its private key, the chain to
 * present (leaf first, then intermediates; no root) and the roots that go into {@code root-cert.pem}.
 */
public record IssuedCertificate(PrivateKey privateKey, List<X509Certificate> chain, List<X509Certificate> roots) {
  // How far the CA's clock may run ahead of the workload's before its certificates are refused as
  // "not yet valid" (ours; machines in one cluster are normally within seconds of each other).
  static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

  public IssuedCertificate {
    Objects.requireNonNull(privateKey, "privateKey");
    chain = List.copyOf(chain);
    roots = List.copyOf(roots);
    if (chain.isEmpty() || roots.isEmpty()) {
      throw new IllegalArgumentException("a certificate needs a chain and at least one root");
    }
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  /** When {@code fraction} (0..1) of the certificate's life has gone. */
  public Instant rotationTime(double fraction) {
    long lifeMillis = Duration.between(notBefore(), notAfter()).toMillis();
    return notBefore().plusMillis((long) (lifeMillis * fraction));
  }

  /**
   * Checks what the CA sent before anything is written: the leaf carries the key just made, its only
   * name is the workload's own SPIFFE id, and the chain reaches one of the mesh roots now. A chain that
   * fails any of these would make every handshake fail, so it is refused and the request retried.
   */
  static IssuedCertificate verify(List<X509Certificate> sent, KeyPair keys, SpiffeId id,
      List<X509Certificate> roots, Instant now) throws SigningException {
    if (sent.isEmpty()) {
      throw new SigningException("the CA sent no certificate");
    }
    X509Certificate leaf = sent.get(0);
    if (!leaf.getPublicKey().equals(keys.getPublic())) {
      throw new SigningException("the CA's certificate is not for the key this workload sent (subject "
          + leaf.getSubjectX500Principal() + ")");
    }
    List<String> names = subjectAltNames(leaf);
    if (!names.equals(List.of("URI:" + id))) {
      throw new SigningException("the CA's certificate names " + names + "; expected exactly URI:" + id);
    }
    // The chain to present stops below the root: peers hold the root already.
    List<X509Certificate> chain = new ArrayList<>();
    for (X509Certificate c : sent) {
      if (!isSelfSigned(c)) {
        chain.add(c);
      }
    }
    if (chain.isEmpty() || chain.get(0) != leaf) {
      throw new SigningException("the CA's leaf certificate is self-signed");
    }
    // The CA's clock may run a little ahead of ours: check the chain as of the leaf's first second
    // then, rather than refuse a certificate that becomes valid in a moment.
    Instant notBefore = leaf.getNotBefore().toInstant();
    Instant at = now.isBefore(notBefore) && !now.plus(MAX_CLOCK_SKEW).isBefore(notBefore) ? notBefore : now;
    validatePath(chain, roots, at);
    return new IssuedCertificate(keys.getPrivate(), chain, roots);
  }

  /** Whether {@code key} is the private half of the key in {@code cert}: a signature proves it. */
  public static boolean keyMatches(PrivateKey key, X509Certificate cert) {
    PublicKey pub = cert.getPublicKey();
    if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
      return false;
    }
    String alg = switch (pub.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      default -> pub.getAlgorithm(); // Ed25519 and the like name their own signature
    };
    try {
      byte[] challenge = "weft key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(challenge);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(challenge);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static void validatePath(List<X509Certificate> chain, List<X509Certificate> roots, Instant now)
      throws SigningException {
    try {
      Set<TrustAnchor> anchors = new HashSet<>();
      roots.forEach(r -> anchors.add(new TrustAnchor(r, null)));
      CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX").validate(path, params);
    } catch (CertPathValidatorException e) {
      if (e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID
          || e.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
        throw new SigningException("the CA's certificate chain is not valid at " + now + " by this machine's clock ("
            + e.getMessage() + "); check the clocks of this machine and the CA's", e);
      }
      throw new SigningException("the CA's certificate does not chain to the mesh root (" + e.getMessage()
          + "); check that the agent's root certificate is the CA's root", e);
    } catch (InvalidAlgorithmParameterException e) {
      throw new SigningException("no usable mesh root: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new SigningException("cannot check the CA's certificate chain: " + e.getMessage(), e);
    }
  }

  private static boolean isSelfSigned(X509Certificate c) {
    if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
      return false;
    }
    try {
      c.verify(c.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  static List<String> subjectAltNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans == null) {
        return out;
      }
      for (List<?> san : sans) {
        int type = (Integer) san.get(0);
        String prefix = switch (type) {
          case 6 -> "URI:";
          case 2 -> "DNS:";
          case 7 -> "IP:";
          case 1 -> "email:";
          default -> "type" + type + ":";
        };
        out.add(prefix + san.get(1));
      }
    } catch (CertificateParsingException e) {
      out.add("(unreadable: " + e.getMessage() + ")");
    }
    return out;
  }
}
