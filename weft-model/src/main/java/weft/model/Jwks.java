package weft.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a JSON Web Key Set (RFC 7517) before Envoy is handed it: an inline {@code jwks} of a
 * RequestAuthentication or what an issuer's {@code jwksUri} returned. Envoy refuses a listener whose
 * {@code local_jwks} it cannot read, so a bad set must stop here, with the reason.
 *
 * <p>Bounds (ours; Istio has none): {@link #MAX_CHARS} characters and {@link #MAX_KEYS} keys, far above
 * what identity providers publish (a handful of keys, a few KiB).
 */
public final class Jwks {
  /** Largest key set accepted, in characters. */
  public static final int MAX_CHARS = 256 * 1024;
  /** Most keys in one set. */
  public static final int MAX_KEYS = 64;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+={0,2}");
  /** The members each key type needs (RFC 7518 section 6, RFC 8037), all base64url text but {@code crv}. */
  private static final Map<String, Set<String>> REQUIRED = Map.of(
      "RSA", Set.of("n", "e"),
      "EC", Set.of("crv", "x", "y"),
      "oct", Set.of("k"),
      "OKP", Set.of("crv", "x"));

  private Jwks() {}

  /** What is wrong with {@code text} as a key set Envoy can verify tokens with; null when nothing is. */
  public static String problem(String text) {
    if (text == null || text.isBlank()) return "the key set is empty";
    if (text.length() > MAX_CHARS) {
      return "the key set has " + text.length() + " characters; at most " + MAX_CHARS + " are accepted";
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return "the key set is not JSON (" + e.getOriginalMessage() + ")";
    }
    if (root == null || !root.isObject()) return "the key set must be a JSON object with a \"keys\" array";
    JsonNode keys = root.get("keys");
    if (keys == null || !keys.isArray()) return "the key set has no \"keys\" array";
    if (keys.isEmpty()) return "the key set's \"keys\" array is empty";
    if (keys.size() > MAX_KEYS) return "the key set has " + keys.size() + " keys; at most " + MAX_KEYS + " are accepted";
    for (int i = 0; i < keys.size(); i++) {
      String bad = key(keys.get(i));
      if (bad != null) return "keys[" + i + "] " + bad;
    }
    return null;
  }

  private static String key(JsonNode key) {
    if (!key.isObject()) return "is not a JSON object";
    JsonNode kty = key.get("kty");
    if (kty == null || !kty.isTextual()) return "has no \"kty\" (key type)";
    Set<String> required = REQUIRED.get(kty.textValue());
    if (required == null) return "has key type \"" + kty.textValue() + "\"; Envoy reads RSA, EC, oct and OKP keys";
    for (String member : required.stream().sorted().toList()) {
      JsonNode v = key.get(member);
      if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
        return "(" + kty.textValue() + ") has no \"" + member + "\"";
      }
      if (!member.equals("crv") && !BASE64URL.matcher(v.textValue()).matches()) {
        return "(" + kty.textValue() + ") member \"" + member + "\" is not base64url text";
      }
    }
    JsonNode kid = key.get("kid");
    if (kid != null && !kid.isTextual()) return "has a \"kid\" that is not a string";
    return null;
  }
}
