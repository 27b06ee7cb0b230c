package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import weft.model.TlsSecret;

/**
 * Kubernetes v1 Secrets, read for their TLS material as Istio's credential controller reads them:
 * {@code cert}/{@code key} (Istio's generic form) before {@code tls.crt}/{@code tls.key}, and
 * {@code cacert} before {@code ca.crt}. Every value used is checked before it is kept: base64 (as
 * the API server requires of {@code data}), within Kubernetes' 1 MiB per Secret, PEM that
 * BouncyCastle parses to X.509 certificates and one unencrypted private key, and a key that
 * matches the leaf certificate. Anything else rejects the Secret alone, with the field named and
 * never a byte of its value; its last accepted version keeps serving. Other keys of the Secret are
 * not read and not kept. Messages say what is wrong and what to do.
 */
final class SecretParser {
  private SecretParser() {}

  /**
   * BouncyCastle's provider, used here only and never installed JVM-wide: its key converter names EC
   * keys "ECDSA", which the JDK's providers do not know.
   */
  private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

  /** Kubernetes' limit on one Secret's data (etcd's object limit is larger; the API server enforces this). */
  static final int MAX_SECRET_BYTES = 1 << 20;

  /** Istio's generic keys, then the kubernetes.io/tls keys (Istio's extractKeyAndCert and extractRoot). */
  private static final String GENERIC_CERT = "cert";
  private static final String GENERIC_KEY = "key";
  private static final String GENERIC_CA = "cacert";
  private static final String TLS_CERT = "tls.crt";
  private static final String TLS_KEY = "tls.key";
  private static final String TLS_CA = "ca.crt";
  /** Secret types Istio's credential controller leaves out of its watch (field selector). */
  private static final Set<String> IGNORED_TYPES = Set.of("kubernetes.io/service-account-token",
      "helm.sh/release.v1");
  private static final Set<String> USED = Set.of(GENERIC_CERT, GENERIC_KEY, GENERIC_CA, TLS_CERT, TLS_KEY, TLS_CA);

  static TlsSecret parse(Document d) {
    Fields root = d.root();
    Report report = d.report();
    String type = root.string("type", "Opaque");
    root.ignore("immutable");
    if (IGNORED_TYPES.contains(type)) {
      // As Istio's credential controller: these are never TLS credentials (a token Secret's ca.crt is
      // the API server's CA), so nothing of them is read or kept.
      root.ignore("data", "stringData");
      return new TlsSecret(d.id(), type, null, null, null, null, "");
    }
    Map<String, byte[]> values = new LinkedHashMap<>();
    int[] total = {0};
    readData(root.take("data"), "data", true, values, total, report);
    // stringData is written over data, as the API server merges it.
    readData(root.take("stringData"), "stringData", false, values, total, report);
    if (total[0] > MAX_SECRET_BYTES) {
      report.error("data", "the certificate and key values of this Secret hold " + total[0] + " bytes; Kubernetes "
          + "allows at most " + MAX_SECRET_BYTES + " bytes per Secret. Keep only the chain, key and CA it needs");
      return null;
    }
    if (report.hasErrors()) return null;
    String certKey = null;
    String keyKey = null;
    if (present(values, GENERIC_CERT) && present(values, GENERIC_KEY)) {
      certKey = GENERIC_CERT;
      keyKey = GENERIC_KEY;
    } else if (present(values, TLS_CERT) && present(values, TLS_KEY)) {
      certKey = TLS_CERT;
      keyKey = TLS_KEY;
    } else {
      halfPair(values, GENERIC_CERT, GENERIC_KEY, report);
      halfPair(values, TLS_CERT, TLS_KEY, report);
    }
    if ("kubernetes.io/tls".equals(type) && (!values.containsKey(TLS_CERT) || !values.containsKey(TLS_KEY))) {
      report.error("data", "a Secret of type kubernetes.io/tls must hold data keys tls.crt and tls.key (the API "
          + "server requires them); add them or change the type");
    }
    String chain = null;
    TlsSecret.Key key = null;
    Instant notAfter = null;
    String subject = "";
    if (certKey != null) {
      List<X509Certificate> certs = certificates(values.get(certKey), fieldOf(values, certKey), report);
      PrivateKey privateKey = privateKey(values.get(keyKey), fieldOf(values, keyKey), report);
      if (!certs.isEmpty() && privateKey != null) {
        X509Certificate leaf = certs.get(0);
        if (!matches(privateKey, leaf.getPublicKey())) {
          report.error(fieldOf(values, keyKey), fieldOf(values, keyKey) + " is not the private key of the first "
              + "certificate in " + fieldOf(values, certKey) + " (" + leaf.getSubjectX500Principal().getName()
              + "); put the leaf certificate first and its own key beside it");
        } else {
          chain = new String(values.get(certKey), StandardCharsets.US_ASCII);
          key = new TlsSecret.Key(values.get(keyKey));
          notAfter = leaf.getNotAfter().toInstant();
          subject = leaf.getSubjectX500Principal().getName();
          if (Instant.now().isAfter(notAfter)) {
            report.warn(fieldOf(values, certKey), "the certificate " + subject + " expired at " + notAfter
                + "; it is served as it is (as Istio does) and peers will refuse it. Renew it");
          }
        }
      }
    }
    String ca = null;
    String caKey = present(values, GENERIC_CA) ? GENERIC_CA : present(values, TLS_CA) ? TLS_CA : null;
    if (caKey != null && !certificates(values.get(caKey), fieldOf(values, caKey), report).isEmpty()) {
      ca = new String(values.get(caKey), StandardCharsets.US_ASCII);
    }
    if (report.hasErrors()) return null;
    return new TlsSecret(d.id(), type, chain, key, ca, notAfter, subject);
  }

  /** Where a key came from: {@code data.tls.crt} or {@code stringData.tls.crt}. */
  private static final String STRING_DATA_MARK = "\u0000stringData";

  private static String fieldOf(Map<String, byte[]> values, String key) {
    return (values.containsKey(key + STRING_DATA_MARK) ? "stringData." : "data.") + key;
  }

  private static boolean present(Map<String, byte[]> values, String key) {
    byte[] v = values.get(key);
    return v != null && v.length > 0;
  }

  private static void halfPair(Map<String, byte[]> values, String cert, String key, Report report) {
    if (present(values, cert) && !present(values, key)) {
      report.error(fieldOf(values, key), fieldOf(values, cert) + " is set but " + key + " is missing or empty; a "
          + "certificate needs its private key beside it");
    } else if (present(values, key) && !present(values, cert)) {
      report.error(fieldOf(values, cert), fieldOf(values, key) + " is set but " + cert + " is missing or empty; a "
          + "private key needs its certificate beside it");
    }
  }

  /**
   * The used keys of {@code data} (base64, with line breaks allowed as Go's decoder allows them) or
   * {@code stringData} (plain text). Values are never quoted in a message.
   */
  private static void readData(JsonNode node, String field, boolean base64, Map<String, byte[]> out, int[] total,
      Report report) {
    if (node == null) return;
    if (!node.isObject()) {
      report.error(field, field + " must be a mapping of keys to " + (base64 ? "base64 " : "") + "strings, got "
          + Fields.describe(node));
      return;
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!USED.contains(e.getKey())) continue;
      String where = field + "." + e.getKey();
      JsonNode v = e.getValue();
      if (v == null || v.isNull()) continue;
      if (!v.isTextual()) {
        report.error(where, where + " must be a string, got a " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        continue;
      }
      String text = v.textValue();
      if (text.length() > 2L * MAX_SECRET_BYTES) {
        report.error(where, where + " is " + text.length() + " characters long; Kubernetes allows at most "
            + MAX_SECRET_BYTES + " bytes per Secret");
        continue;
      }
      byte[] bytes;
      if (base64) {
        try {
          bytes = Base64.getDecoder().decode(text.replace("\n", "").replace("\r", ""));
        } catch (IllegalArgumentException bad) {
          report.error(where, where + " is not valid base64; data values are base64-encoded (put plain PEM under "
              + "stringData, or encode it with base64 -w0)");
          continue;
        }
      } else {
        bytes = text.getBytes(StandardCharsets.UTF_8);
      }
      total[0] += bytes.length;
      out.put(e.getKey(), bytes);
      if (!base64) out.put(e.getKey() + STRING_DATA_MARK, new byte[0]);
      else out.remove(e.getKey() + STRING_DATA_MARK);
    }
  }

  /** Every certificate of a PEM value; reports (and returns none) when it holds anything else. */
  private static List<X509Certificate> certificates(byte[] pem, String where, Report report) {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
      JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (!(o instanceof X509CertificateHolder holder)) {
          report.error(where, where + " holds a PEM block that is not a certificate (" + kindOf(o) + "); keep only "
              + "CERTIFICATE blocks there");
          return List.of();
        }
        out.add(converter.getCertificate(holder));
      }
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      report.error(where, where + " is not PEM certificates BouncyCastle can read (" + reason(e) + "); give "
          + "-----BEGIN CERTIFICATE----- blocks");
      return List.of();
    }
    if (out.isEmpty()) {
      report.error(where, where + " holds no PEM certificate; give -----BEGIN CERTIFICATE----- blocks");
    }
    return out;
  }

  /** The one unencrypted private key of a PEM value, or null (reported). */
  private static PrivateKey privateKey(byte[] pem, String where, Report report) {
    Object only = null;
    int count = 0;
    try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        only = o;
        count++;
      }
    } catch (IOException | RuntimeException e) {
      // No parser message here: about a key, even a fragment of one must not reach a log.
      report.error(where, where + " is not a PEM private key BouncyCastle can read; give one "
          + "-----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY) block");
      return null;
    }
    if (count != 1) {
      report.error(where, where + " must hold exactly one PEM private key, found " + count + " PEM blocks");
      return null;
    }
    if (only instanceof PEMEncryptedKeyPair || only instanceof PKCS8EncryptedPrivateKeyInfo) {
      report.error(where, where + " is an encrypted private key; Envoy needs it unencrypted (openssl pkey -in KEY "
          + "-out KEY.plain)");
      return null;
    }
    try {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(BC);
      if (only instanceof PEMKeyPair pair) return converter.getPrivateKey(pair.getPrivateKeyInfo());
      if (only instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
    } catch (IOException | RuntimeException e) {
      report.error(where, where + " is a private key of a kind that cannot be used (" + e.getClass().getSimpleName()
          + "); use an RSA, EC or Ed25519 key");
      return null;
    }
    report.error(where, where + " holds " + kindOf(only) + ", not a private key");
    return null;
  }

  /**
   * Whether the key belongs to the certificate: a signature made with it verifies with the
   * certificate's public key (works alike for RSA, EC and Ed25519).
   */
  static boolean matches(PrivateKey key, PublicKey cert) {
    String family = family(key.getAlgorithm());
    String algorithm = switch (family) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null || !family.equals(family(cert.getAlgorithm()))) return false;
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature signer = Signature.getInstance(algorithm, BC);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm, BC);
      verifier.initVerify(cert);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** One name per key family, whichever provider named it. */
  private static String family(String algorithm) {
    return switch (algorithm) {
      case "RSA" -> "RSA";
      case "EC", "ECDSA" -> "EC";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> algorithm;
    };
  }

  private static String kindOf(Object o) {
    return o == null ? "nothing" : o.getClass().getSimpleName();
  }

  /** An exception's message cut short; PEM parsers quote no input bytes in theirs. */
  private static String reason(Exception e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    m = m.replaceAll("[^\\p{Print}]", "?");
    return m.length() > 120 ? m.substring(0, 120) + "…" : m;
  }
}
