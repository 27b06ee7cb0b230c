package weft.security.csr;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A certificate request read and checked: PEM, PKCS#10, a signature that verifies with its own key
 * (so the caller holds the private key), and the names it asks for. Only the public key is ever
 * used; the names are read so that asking for someone else's can be refused.
 */
record ParsedCsr(PublicKey publicKey, List<String> requestedNames) {
  // Below this an RSA key is breakable in practice (NIST SP 800-131A).
  private static final int MIN_RSA_BITS = 2048;

  static ParsedCsr parse(String pem) throws Refusal {
    if (pem == null || pem.isBlank()) {
      throw Refusal.invalidCsr("csr is empty; send a PEM PKCS#10 certificate request");
    }
    PKCS10CertificationRequest csr;
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      if (!(o instanceof PKCS10CertificationRequest r)) {
        throw Refusal.invalidCsr("csr is not a PEM certificate request (expected -----BEGIN CERTIFICATE REQUEST-----"
            + (o == null ? ", found no PEM block)" : ", found " + o.getClass().getSimpleName() + ")"));
      }
      csr = r;
    } catch (IOException | RuntimeException e) {
      throw Refusal.invalidCsr("csr is not a valid PKCS#10 certificate request: " + e.getMessage());
    }
    PublicKey key;
    try {
      key = new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
    } catch (IOException | RuntimeException e) {
      throw Refusal.invalidCsr("csr public key cannot be read: " + e.getMessage());
    }
    if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
      throw Refusal.invalidCsr("csr has an RSA key of " + rsa.getModulus().bitLength() + " bits; use at least "
          + MIN_RSA_BITS + " (or EC P-256)");
    }
    boolean valid;
    try {
      valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key));
    } catch (Exception e) {
      throw Refusal.invalidCsr("csr signature cannot be checked: " + e.getMessage());
    }
    if (!valid) {
      throw Refusal.invalidCsr("csr signature does not verify with the csr's own public key");
    }
    return new ParsedCsr(key, requestedNames(csr));
  }

  /** Subject alternative names asked for, as "URI:...", "DNS:...", "IP:...", "email:...". */
  private static List<String> requestedNames(PKCS10CertificationRequest csr) throws Refusal {
    List<String> names = new ArrayList<>();
    try {
      for (Attribute attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        for (ASN1Encodable value : attr.getAttrValues()) {
          Extensions exts = Extensions.getInstance(value);
          Extension san = exts.getExtension(Extension.subjectAlternativeName);
          if (san == null) {
            continue;
          }
          GeneralNames gns = GeneralNames.getInstance(ASN1OctetString.getInstance(san.getExtnValue()).getOctets());
          for (GeneralName gn : gns.getNames()) {
            names.add(describe(gn));
          }
        }
      }
    } catch (RuntimeException e) {
      throw Refusal.invalidCsr("csr extension request cannot be read: " + e.getMessage());
    }
    return List.copyOf(names);
  }

  private static String describe(GeneralName gn) {
    return switch (gn.getTagNo()) {
      case GeneralName.uniformResourceIdentifier -> "URI:" + gn.getName();
      case GeneralName.dNSName -> "DNS:" + gn.getName();
      case GeneralName.rfc822Name -> "email:" + gn.getName();
      case GeneralName.iPAddress -> "IP:" + ip(ASN1OctetString.getInstance(gn.getName()).getOctets());
      default -> "name of type " + gn.getTagNo() + ":" + gn.getName();
    };
  }

  private static String ip(byte[] raw) {
    try {
      return InetAddress.getByAddress(raw).getHostAddress();
    } catch (UnknownHostException e) {
      return "(" + raw.length + " bytes)";
    }
  }
}
