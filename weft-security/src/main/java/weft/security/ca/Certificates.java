package weft.security.ca;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Date;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Building and checking the three kinds of certificate a CA deals in: root, intermediate, leaf. */
final class Certificates {
  static final SecureRandom RANDOM = new SecureRandom();
  // NIST P-256: small, fast, and accepted by Envoy, BoringSSL, the JDK and Istio alike.
  private static final String CURVE = "secp256r1";

  private Certificates() {}

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec(CURVE), RANDOM);
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make " + CURVE + " keys", e);
    }
  }

  /** The signature a key makes, strong enough for its size. */
  static String signatureAlgorithm(PrivateKey key) {
    return switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC", "ECDSA" -> {
        int bits = ((ECKey) key).getParams().getCurve().getField().getFieldSize();
        yield bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
      }
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new CaException(null, "keys of type " + key.getAlgorithm()
          + " cannot sign certificates here; use an EC (P-256/P-384) or RSA key");
    };
  }

  /** Whether {@code key} is the private half of {@code publicKey}: it signs, the other verifies. */
  static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
    try {
      byte[] challenge = new byte[32];
      RANDOM.nextBytes(challenge);
      String alg = signatureAlgorithm(key);
      Signature signer = Signature.getInstance(alg);
      signer.initSign(key);
      signer.update(challenge);
      byte[] sig = signer.sign();
      Signature verifier = Signature.getInstance(alg);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(sig);
    } catch (GeneralSecurityException | ClassCastException e) {
      return false; // keys of different kinds: no match
    }
  }

  static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
    if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
      return false;
    }
    try {
      cert.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  static boolean isCa(X509Certificate cert) {
    return cert.getBasicConstraints() >= 0;
  }

  static boolean isSelfSigned(X509Certificate cert) {
    return signedBy(cert, cert);
  }

  static boolean sameCertificate(X509Certificate a, X509Certificate b) {
    try {
      return Arrays.equals(a.getEncoded(), b.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      return false;
    }
  }

  static X509Certificate root(KeyPair keys, X500Name subject, Instant notBefore, Instant notAfter) {
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, newSerial(), date(notBefore),
          date(notAfter), subject, keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      return sign(b, keys.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build a root certificate", e);
    }
  }

  /** A CA that may sign leaves only ({@code pathLen 0}): one per cluster under a shared root. */
  static X509Certificate intermediate(PublicKey key, X500Name subject, X509Certificate issuer,
      PrivateKey issuerKey, Instant notBefore, Instant notAfter) {
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, newSerial(), date(notBefore),
          date(notAfter), subject, key);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer));
      return sign(b, issuerKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build an intermediate certificate", e);
    }
  }

  /**
   * A workload or serving certificate: the names in {@code sans} and nothing else. The subject is
   * empty, as in Istio's workload certificates, so the SAN extension is critical (RFC 5280 4.2.1.6).
   */
  static X509Certificate leaf(PublicKey key, GeneralNames sans, X509Certificate issuer, PrivateKey issuerKey,
      Instant notBefore, Instant notAfter) {
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, newSerial(), date(notBefore),
          date(notAfter), new X500Name(new RDN[0]), key);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectAlternativeName, true, sans);
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer));
      return sign(b, issuerKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build a leaf certificate", e);
    }
  }

  /** X.509 times have whole seconds. */
  static Instant seconds(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(signatureAlgorithm(key)).build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign with a " + key.getAlgorithm() + " key", e);
    }
  }

  // 127 random bits: positive, unique in practice, within RFC 5280's 20 octets.
  private static BigInteger newSerial() {
    return new BigInteger(127, RANDOM).setBit(126);
  }

  private static Date date(Instant t) {
    return Date.from(seconds(t));
  }
}
