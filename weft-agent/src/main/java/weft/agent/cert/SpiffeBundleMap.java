package weft.agent.cert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The SPIFFE trust-bundle map of gRFC A87 ({@code spiffe_trust_bundle_map_file} of grpc-java's
 * {@code file_watcher} provider): {@code {"trust_domains": {DOMAIN: SPIFFE bundle}}}, each bundle a
 * JWK set whose keys are {@code {"kty": "RSA"|"EC", "use": "x509-svid", "x5c": [base64 DER]}}.
 * grpc-java 1.85's reader (SpiffeUtil.loadTrustBundleFromFile) requires exactly these: {@code kty}
 * RSA or EC, {@code use} x509-svid, no {@code kid}, one certificate in {@code x5c}. A peer is then
 * checked only against the roots of the trust domain in its own SPIFFE id.
 *
 * @param byDomain trust domain to its roots, in the order written; a domain without roots is left out
 */
public record SpiffeBundleMap(Map<String, List<X509Certificate>> byDomain) {
  public static final String FILE_NAME = "spiffe-bundle-map.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public SpiffeBundleMap {
    Map<String, List<X509Certificate>> copy = new LinkedHashMap<>();
    Objects.requireNonNull(byDomain, "byDomain").forEach((d, roots) -> copy.put(d, List.copyOf(roots)));
    byDomain = java.util.Collections.unmodifiableMap(copy);
  }

  /** The file's text. */
  public String json() {
    ObjectNode domains = JSON.createObjectNode();
    byDomain.forEach((domain, roots) -> {
      if (roots.isEmpty()) return;
      ObjectNode bundle = domains.putObject(domain);
      ArrayNode keys = bundle.putArray("keys");
      for (X509Certificate root : roots) {
        ObjectNode key = keys.addObject();
        key.put("kty", keyType(root));
        key.put("use", "x509-svid");
        key.putArray("x5c").add(Base64.getEncoder().encodeToString(der(root)));
      }
    });
    ObjectNode doc = JSON.createObjectNode();
    doc.set("trust_domains", domains);
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("the SPIFFE bundle map cannot be written as JSON", e);
    }
  }

  private static String keyType(X509Certificate root) {
    String algorithm = root.getPublicKey().getAlgorithm();
    return switch (algorithm) {
      case "RSA" -> "RSA";
      case "EC", "ECDSA" -> "EC";
      default -> throw new IllegalArgumentException("root " + root.getSubjectX500Principal().getName()
          + " has a " + algorithm + " key; a SPIFFE bundle for grpc-java holds only RSA or EC keys");
    };
  }

  private static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("root " + c.getSubjectX500Principal().getName() + " cannot be encoded", e);
    }
  }
}
