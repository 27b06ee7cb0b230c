package weft.security.federation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * A SPIFFE trust bundle of one trust domain in its JWKS form (SPIFFE Trust Domain and Bundle spec):
 * each X.509 authority is a key with {@code use: x509-svid} and exactly one certificate in {@code x5c},
 * plus {@code spiffe_sequence} and {@code spiffe_refresh_hint} (seconds). JWT authorities are not
 * issued by Weft and are skipped when read.
 */
public record SpiffeBundle(String trustDomain, List<X509Certificate> x509Authorities, long sequence,
    Duration refreshHint) {
  /** A bundle document larger than this is refused unread: a handful of roots is a few kilobytes. */
  public static final int MAX_BYTES = 256 * 1024;
  /** More authorities than this in one bundle is not a trust domain, it is an attack on our memory. */
  static final int MAX_KEYS = 64;
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(MAX_BYTES).build())
      .build());

  public SpiffeBundle {
    Objects.requireNonNull(trustDomain, "trustDomain");
    x509Authorities = List.copyOf(x509Authorities);
    Objects.requireNonNull(refreshHint, "refreshHint");
  }

  /** The document served at the bundle endpoint. */
  public String toJson() {
    ObjectNode doc = JSON.createObjectNode();
    ArrayNode keys = doc.putArray("keys");
    for (X509Certificate c : x509Authorities) {
      ObjectNode key = keys.addObject();
      key.put("use", "x509-svid");
      if (c.getPublicKey() instanceof ECPublicKey ec) {
        key.put("kty", "EC");
        int bits = ec.getParams().getCurve().getField().getFieldSize();
        key.put("crv", bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521");
        int len = (bits + 7) / 8;
        key.put("x", b64url(fixed(ec.getW().getAffineX().toByteArray(), len)));
        key.put("y", b64url(fixed(ec.getW().getAffineY().toByteArray(), len)));
      } else if (c.getPublicKey() instanceof RSAPublicKey rsa) {
        key.put("kty", "RSA");
        key.put("n", b64url(unsigned(rsa.getModulus().toByteArray())));
        key.put("e", b64url(unsigned(rsa.getPublicExponent().toByteArray())));
      }
      try {
        key.putArray("x5c").add(Base64.getEncoder().encodeToString(c.getEncoded()));
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IllegalStateException("a root certificate cannot be encoded", e);
      }
    }
    doc.put("spiffe_sequence", sequence);
    doc.put("spiffe_refresh_hint", refreshHint.toSeconds());
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a bundle document of {@code trustDomain} from an untrusted source. Every problem is one
   * {@link BundleException} that says what is wrong; a document without any X.509 authority is
   * refused (it would silently cut the trust domain off).
   */
  public static SpiffeBundle parse(String trustDomain, byte[] body, Duration defaultRefresh) throws BundleException {
    if (body.length > MAX_BYTES) {
      throw new BundleException("bundle document is " + body.length + " bytes, more than the " + MAX_BYTES
          + " accepted");
    }
    JsonNode doc;
    try {
      doc = JSON.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BundleException("bundle document is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BundleException("bundle document cannot be read: " + e.getMessage());
    }
    if (doc == null || !doc.isObject()) {
      throw new BundleException("bundle document is not a JSON object");
    }
    JsonNode keys = doc.get("keys");
    if (keys == null || !keys.isArray()) {
      throw new BundleException("bundle document has no \"keys\" array");
    }
    if (keys.size() > MAX_KEYS) {
      throw new BundleException("bundle document has " + keys.size() + " keys, more than " + MAX_KEYS);
    }
    List<X509Certificate> roots = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      JsonNode key = keys.get(i);
      if (!key.isObject()) throw new BundleException("keys[" + i + "] is not an object");
      String use = key.path("use").asText("");
      if (use.equals("jwt-svid")) continue; // JWT authorities: not used for mTLS
      if (!use.equals("x509-svid")) {
        throw new BundleException("keys[" + i + "].use is '" + printable(use) + "', expected x509-svid or jwt-svid");
      }
      String kty = key.path("kty").asText("");
      if (!kty.equals("EC") && !kty.equals("RSA")) {
        throw new BundleException("keys[" + i + "].kty is '" + printable(kty) + "', expected EC or RSA");
      }
      JsonNode x5c = key.get("x5c");
      // The spec: an x509-svid key carries exactly one certificate, the authority itself.
      if (x5c == null || !x5c.isArray() || x5c.size() != 1 || !x5c.get(0).isTextual()) {
        throw new BundleException("keys[" + i + "].x5c must hold exactly one base64 certificate");
      }
      X509Certificate cert;
      try {
        byte[] der = Base64.getDecoder().decode(x5c.get(0).asText());
        cert = (X509Certificate) CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(der));
      } catch (IllegalArgumentException | CertificateException | ClassCastException e) {
        throw new BundleException("keys[" + i + "].x5c[0] is not a DER certificate in base64: " + e.getMessage());
      }
      String algorithm = cert.getPublicKey().getAlgorithm();
      if (!(kty.equals("EC") ? algorithm.equals("EC") : algorithm.equals("RSA"))) {
        throw new BundleException("keys[" + i + "].kty is " + kty + " but its certificate holds a " + algorithm
            + " key");
      }
      if (cert.getBasicConstraints() < 0) {
        throw new BundleException("keys[" + i + "] certificate " + cert.getSubjectX500Principal()
            + " is not a CA certificate");
      }
      roots.add(cert);
    }
    if (roots.isEmpty()) {
      throw new BundleException("bundle document holds no x509-svid authority");
    }
    long sequence = 0;
    JsonNode seq = doc.get("spiffe_sequence");
    if (seq != null) {
      if (!seq.canConvertToExactIntegral() || !seq.canConvertToLong() || seq.asLong() < 0) {
        throw new BundleException("spiffe_sequence is not a non-negative integer");
      }
      sequence = seq.asLong();
    }
    Duration refresh = defaultRefresh;
    JsonNode hint = doc.get("spiffe_refresh_hint");
    if (hint != null) {
      if (!hint.canConvertToExactIntegral() || !hint.canConvertToLong() || hint.asLong() < 0) {
        throw new BundleException("spiffe_refresh_hint is not a non-negative number of seconds");
      }
      refresh = Duration.ofSeconds(hint.asLong());
    }
    return new SpiffeBundle(trustDomain, roots, sequence, refresh);
  }

  private static String printable(String s) {
    String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static String b64url(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static byte[] unsigned(byte[] b) {
    return b.length > 1 && b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  private static byte[] fixed(byte[] b, int len) {
    byte[] u = unsigned(b);
    if (u.length == len) return u;
    byte[] out = new byte[len];
    System.arraycopy(u, 0, out, len - u.length, u.length);
    return out;
  }
}
