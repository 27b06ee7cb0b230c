package weft.security.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import weft.security.SpiffeId;

/**
 * File mode ({@code --ca-tokens}): a YAML list of tokens, each allowed one identity.
 * <pre>
 * - token: s3cret
 *   namespace: default
 *   serviceAccount: frontend
 *   expires: 2030-01-01T00:00:00Z   # optional, RFC 3339
 * </pre>
 * The caller's cluster plays no part: a token means the same everywhere. Tokens are kept only as
 * SHA-256 digests.
 */
public final class FileTokenAuthenticator implements Authenticator {
  private static final Set<String> FIELDS = Set.of("token", "namespace", "serviceAccount", "expires");

  /** One allowed token. {@code expires} may be null (never). */
  public record Entry(String token, String namespace, String serviceAccount, Instant expires) {
    public Entry {
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(serviceAccount, "serviceAccount");
    }
  }

  private record Grant(String namespace, String serviceAccount, Instant expires) {}

  private final Map<String, Grant> byDigest;
  private final Clock clock;
  private final String source;

  public FileTokenAuthenticator(List<Entry> entries, Clock clock) {
    this(entries, clock, "token file");
  }

  private FileTokenAuthenticator(List<Entry> entries, Clock clock, String source) {
    Map<String, Grant> map = new HashMap<>();
    for (Entry e : entries) {
      if (map.put(digest(e.token()), new Grant(e.namespace(), e.serviceAccount(), e.expires())) != null) {
        throw new IllegalArgumentException("the same token is listed twice (second time for " + e.namespace() + "/"
            + e.serviceAccount() + "); each token may grant one identity");
      }
    }
    this.byDigest = Map.copyOf(map);
    this.clock = Objects.requireNonNull(clock);
    this.source = source;
  }

  /**
   * Reads the token file.
   *
   * @throws IllegalArgumentException naming the file, the entry and the field that is wrong
   */
  public static FileTokenAuthenticator load(Path file, Clock clock) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read the CA token file: " + e.getMessage(), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return new FileTokenAuthenticator(List.of(), clock, "token file " + file);
    }
    if (!root.isArray()) {
      throw new IllegalArgumentException(file + ": expected a YAML list of {token, namespace, serviceAccount}");
    }
    List<Entry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < root.size(); i++) {
      JsonNode n = root.get(i);
      String where = file + ": entry " + (i + 1);
      if (!n.isObject()) {
        throw new IllegalArgumentException(where + ": expected a map with token, namespace, serviceAccount");
      }
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!FIELDS.contains(f)) {
          throw new IllegalArgumentException(where + ": unknown field '" + f + "' (known: token, namespace, "
              + "serviceAccount, expires)");
        }
      }
      String token = text(n, "token", where);
      String ns = text(n, "namespace", where);
      String sa = text(n, "serviceAccount", where);
      if (!SpiffeId.isValidName(ns)) {
        throw new IllegalArgumentException(where + ": field 'namespace': '" + ns + "' is not a Kubernetes name");
      }
      if (!SpiffeId.isValidName(sa)) {
        throw new IllegalArgumentException(where + ": field 'serviceAccount': '" + sa + "' is not a Kubernetes name");
      }
      Instant expires = null;
      if (n.hasNonNull("expires")) {
        try {
          expires = OffsetDateTime.parse(n.get("expires").asText()).toInstant();
        } catch (DateTimeParseException e) {
          throw new IllegalArgumentException(where + ": field 'expires': '" + n.get("expires").asText()
              + "' is not an RFC 3339 time such as 2030-01-01T00:00:00Z");
        }
      }
      entries.add(new Entry(token, ns, sa, expires));
    }
    try {
      return new FileTokenAuthenticator(entries, clock, "token file " + file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Identity authenticate(String bearerToken, String callerClusterId) throws AuthenticationException {
    if (bearerToken == null || bearerToken.isEmpty()) {
      throw new AuthenticationException("no bearer token");
    }
    Grant g = byDigest.get(digest(bearerToken));
    if (g == null) {
      throw new AuthenticationException("unknown token (not in the CA token file)");
    }
    if (g.expires() != null && !clock.instant().isBefore(g.expires())) {
      throw new AuthenticationException("token for " + g.namespace() + "/" + g.serviceAccount() + " expired at "
          + g.expires());
    }
    return new Identity(g.namespace(), g.serviceAccount(), source);
  }

  private static String text(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull() || !v.isValueNode() || v.asText().isEmpty()) {
      throw new IllegalArgumentException(where + ": field '" + field + "' is missing or empty");
    }
    return v.asText();
  }

  private static String digest(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
