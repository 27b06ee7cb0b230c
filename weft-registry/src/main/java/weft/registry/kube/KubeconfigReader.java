package weft.registry.kube;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a kubeconfig strictly into a {@link Kubeconfig}: a pure function from text to checked
 * fields, or a {@link Refused} naming the field path and what to do. No exception of any other kind
 * leaves it, and it never touches files, the environment or the network.
 *
 * <p>YAML: SnakeYAML with its safe constructor, which resolves anchors, aliases and merge keys
 * ({@code <<}) the way client-go's YAML library does, so the tree checked here is the kubeconfig
 * Istio would see. That tree is also the only one anything reads: fabric8 never parses the text
 * (it is given the checked fields), so an alias cannot show one thing to the check and another to
 * the client, which is how {@code user: *ex} once smuggled an {@code exec} past a string-minded
 * check. Rejecting anchors outright would work too (no tool writes them into a kubeconfig), but
 * would refuse hand-written kubeconfigs that Istio accepts. Alias expansion is bounded (50
 * collection aliases, 50 levels of nesting), duplicate keys are refused, and only YAML's standard
 * types are built.
 *
 * <p>Every user, cluster and context entry is checked, not only the ones the chosen context uses
 * (Istio checks every user too). A field that would make the control plane run a program or read
 * a local file is refused by name; a field Weft does not know is refused as well, because a new
 * kubeconfig feature must be looked at before it is trusted. Values are then taken from the chosen
 * context only.
 */
final class KubeconfigReader {
  /** Aliases of collections one kubeconfig may use: a few are plenty, thousands are a bomb. */
  private static final int MAX_COLLECTION_ALIASES = 50;
  private static final int MAX_NESTING = 50;

  /** Thrown for a kubeconfig Weft will not use. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final String field;
    final String problem;

    Refused(String field, String problem) {
      super(field + ": " + problem, null, false, false);
      this.field = field;
      this.problem = problem;
    }
  }

  /** How a known field is read. */
  private enum Type { STRING, BOOLEAN, STRINGS, STRING_TO_STRINGS, IGNORED }

  private static final Map<String, Type> TOP_FIELDS = Map.of("apiVersion", Type.STRING, "kind", Type.STRING,
      "current-context", Type.STRING, "preferences", Type.IGNORED, "extensions", Type.IGNORED,
      "clusters", Type.IGNORED, "users", Type.IGNORED, "contexts", Type.IGNORED);
  private static final Map<String, Type> CLUSTER_FIELDS = Map.of("server", Type.STRING,
      "certificate-authority-data", Type.STRING, "insecure-skip-tls-verify", Type.BOOLEAN,
      "tls-server-name", Type.STRING, "proxy-url", Type.STRING, "disable-compression", Type.BOOLEAN,
      "extensions", Type.IGNORED);
  private static final Map<String, Type> USER_FIELDS = Map.of("token", Type.STRING,
      "client-certificate-data", Type.STRING, "client-key-data", Type.STRING, "username", Type.STRING,
      "password", Type.STRING, "as", Type.STRING, "as-groups", Type.STRINGS, "as-user-extra",
      Type.STRING_TO_STRINGS, "extensions", Type.IGNORED);
  private static final Map<String, Type> CONTEXT_FIELDS = Map.of("cluster", Type.STRING, "user", Type.STRING,
      "namespace", Type.STRING, "extensions", Type.IGNORED);

  /** Fields that would act on the control plane's host, with what to do instead. */
  private static final Map<String, String> REFUSED_USER_FIELDS = Map.of(
      "exec", "runs a command on the control plane's host; put an inline token or client-certificate-data and "
          + "client-key-data in the kubeconfig instead",
      "auth-provider", "runs a cloud credential helper on the control plane's host; put an inline token in the "
          + "kubeconfig instead",
      "tokenFile", "reads a file on the control plane's host; put the token itself in the field token",
      "client-certificate", "reads a file on the control plane's host; put the PEM itself (base64) in "
          + "client-certificate-data",
      "client-key", "reads a file on the control plane's host; put the PEM itself (base64) in client-key-data",
      "as-uid", "asks to impersonate a UID, which Weft's Kubernetes client cannot send (the requests would run "
          + "as another identity than the kubeconfig asks for); remove it or use a token of that identity");
  private static final Map<String, String> REFUSED_CLUSTER_FIELDS = Map.of(
      "certificate-authority", "reads a file on the control plane's host; put the PEM itself (base64) in "
          + "certificate-authority-data");

  private static final Pattern PEM_KEY = Pattern.compile(
      "-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private KubeconfigReader() {}

  /**
   * @param context the context to use, or null for the kubeconfig's current-context
   */
  static Kubeconfig read(String text, String context) throws Refused {
    try {
      return readTree(parse(text), context);
    } catch (Refused e) {
      throw e;
    } catch (RuntimeException e) {
      // Whatever the input, one kubeconfig's failure is a refusal of that kubeconfig, never an
      // exception that stops the caller's other work.
      throw new Refused("", "cannot be read (" + clean(String.valueOf(e)) + ")");
    }
  }

  private static Object parse(String text) throws Refused {
    if (text == null || text.isBlank()) {
      throw new Refused("", "is empty; the value must be a whole kubeconfig");
    }
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setAllowRecursiveKeys(false);
    options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES);
    options.setNestingDepthLimit(MAX_NESTING);
    options.setCodePointLimit(Math.max(text.length() + 1, 1));
    try {
      return new Yaml(new SafeConstructor(options)).load(text);
    } catch (YAMLException e) {
      String why = String.valueOf(e.getMessage()).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
      throw new Refused("", "is not valid YAML (" + clean(why) + ")");
    }
  }

  private static Kubeconfig readTree(Object root, String requested) throws Refused {
    Map<String, Object> top = mapping(root, "");
    // Top-level keys other than these are never read (client-go ignores them too); anything they
    // hold that an alias brings into users or clusters is checked there.
    Map<String, Object> known = new LinkedHashMap<>(top);
    known.keySet().retainAll(TOP_FIELDS.keySet());
    checkFields(known, "", TOP_FIELDS, Map.of(), "top-level");
    Map<String, Map<String, Object>> clusters = entries(top, "clusters", "cluster", CLUSTER_FIELDS,
        REFUSED_CLUSTER_FIELDS);
    Map<String, Map<String, Object>> users = entries(top, "users", "user", USER_FIELDS, REFUSED_USER_FIELDS);
    Map<String, Map<String, Object>> contexts = entries(top, "contexts", "context", CONTEXT_FIELDS, Map.of());
    Map<String, String> paths = new LinkedHashMap<>();
    indexPaths(top, "clusters", "cluster", paths);
    indexPaths(top, "users", "user", paths);
    indexPaths(top, "contexts", "context", paths);

    String name = requested;
    if (name == null) {
      name = string(top, "current-context", "current-context");
      if (name == null || name.isEmpty()) {
        throw new Refused("current-context", "current-context is not set; name the context to use");
      }
    }
    Map<String, Object> context = contexts.get(name);
    if (context == null) {
      throw new Refused(requested == null ? "current-context" : "contexts", (requested == null
          ? "current-context names " : "the context ") + quote(name) + ", but contexts has no entry with that name");
    }
    String contextPath = paths.get("context:" + name);
    String clusterName = string(context, "cluster", contextPath + ".cluster");
    if (clusterName == null || clusterName.isEmpty()) {
      throw new Refused(contextPath + ".cluster", "context " + quote(name) + " names no cluster");
    }
    Map<String, Object> cluster = clusters.get(clusterName);
    if (cluster == null) {
      throw new Refused(contextPath + ".cluster", "context " + quote(name) + " names cluster " + quote(clusterName)
          + ", but clusters has no entry with that name");
    }
    String userName = string(context, "user", contextPath + ".user");
    Map<String, Object> user = Map.of();
    if (userName != null && !userName.isEmpty()) {
      user = users.get(userName);
      if (user == null) {
        throw new Refused(contextPath + ".user", "context " + quote(name) + " names user " + quote(userName)
            + ", but users has no entry with that name");
      }
    }
    return fields(name, cluster, paths.get("cluster:" + clusterName), user,
        userName == null || userName.isEmpty() ? "" : paths.get("user:" + userName));
  }

  private static Kubeconfig fields(String context, Map<String, Object> cluster, String cp, Map<String, Object> user,
      String up) throws Refused {
    Map<String, String> warnings = new TreeMap<>();
    String server = string(cluster, "server", cp + ".server");
    if (server == null || server.isEmpty()) {
      // Without one, a client falls back to the in-cluster address: the wrong cluster, silently.
      throw new Refused(cp + ".server", "context " + quote(context) + " uses a cluster with no server URL; set "
          + "server to the API server's https:// URL");
    }
    checkUrl(server, cp + ".server", Set.of("http", "https"), false);
    boolean skipTls = Boolean.TRUE.equals(bool(cluster, "insecure-skip-tls-verify", cp + ".insecure-skip-tls-verify"));
    String ca = string(cluster, "certificate-authority-data", cp + ".certificate-authority-data");
    if (ca != null && !ca.isEmpty()) {
      if (skipTls) {
        // kubectl and client-go refuse this pair as well: which of the two was meant is unknowable.
        throw new Refused(cp + ".insecure-skip-tls-verify", "is true while certificate-authority-data is set; "
            + "remove insecure-skip-tls-verify to check the server against that CA");
      }
      ca = certificates(ca, cp + ".certificate-authority-data");
    } else {
      ca = null;
    }
    if (skipTls && server.regionMatches(true, 0, "https:", 0, 6)) {
      warnings.put(cp + ".insecure-skip-tls-verify", "is true: the API server's certificate is not checked, so "
          + "anyone on the network path can read this kubeconfig's credentials and feed the mesh false endpoints; "
          + "set certificate-authority-data instead");
    }
    String serverName = string(cluster, "tls-server-name", cp + ".tls-server-name");
    if (serverName != null && !serverName.isEmpty()) {
      warnings.put(cp + ".tls-server-name", "is not supported by Weft's Kubernetes client and is ignored: the "
          + "server's certificate must name the host of server (" + clean(hostOf(server)) + ")");
    }
    String proxy = string(cluster, "proxy-url", cp + ".proxy-url");
    if (proxy != null && !proxy.isEmpty()) {
      checkUrl(proxy, cp + ".proxy-url", Set.of("http"), true);
    } else {
      proxy = null;
    }

    String token = text(user, "token", up + ".token");
    String cert = string(user, "client-certificate-data", up + ".client-certificate-data");
    String key = string(user, "client-key-data", up + ".client-key-data");
    cert = cert == null || cert.isEmpty() ? null : cert;
    key = key == null || key.isEmpty() ? null : key;
    if ((cert == null) != (key == null)) {
      String missing = cert == null ? "client-certificate-data" : "client-key-data";
      throw new Refused(up + "." + missing, "is missing: client-certificate-data and client-key-data go together");
    }
    String algorithm = null;
    if (cert != null) {
      cert = certificates(cert, up + ".client-certificate-data");
      String[] keyAndAlgorithm = privateKey(key, up + ".client-key-data");
      key = keyAndAlgorithm[0];
      algorithm = keyAndAlgorithm[1];
    }
    String username = text(user, "username", up + ".username");
    String password = text(user, "password", up + ".password");
    if ((username == null) != (password == null)) {
      throw new Refused(up + "." + (username == null ? "username" : "password"),
          "is missing: username and password go together");
    }
    String as = text(user, "as", up + ".as");
    List<String> groups = strings(user.get("as-groups"), up + ".as-groups");
    Map<String, List<String>> extra = new TreeMap<>();
    Object extraValue = user.get("as-user-extra");
    if (extraValue != null) {
      for (Map.Entry<String, Object> e : mapping(extraValue, up + ".as-user-extra").entrySet()) {
        extra.put(e.getKey(), strings(e.getValue(), up + ".as-user-extra." + e.getKey()));
      }
    }
    if (as == null && (!groups.isEmpty() || !extra.isEmpty())) {
      throw new Refused(up + ".as", "is missing: as-groups and as-user-extra need the user to impersonate in as");
    }
    return new Kubeconfig(context, server, ca, skipTls, proxy, token, cert, key, algorithm, username, password, as,
        groups, extra, warnings);
  }

  // ---- structure

  /** Checks a list of named entries and returns name → body; every entry is checked. */
  private static Map<String, Map<String, Object>> entries(Map<String, Object> top, String list, String entry,
      Map<String, Type> fields, Map<String, String> refused) throws Refused {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    List<Object> items = list(top.get(list), list);
    for (int i = 0; i < items.size(); i++) {
      String where = list + "[" + i + "]";
      Map<String, Object> item = mapping(items.get(i), where);
      for (String k : item.keySet()) {
        if (!k.equals("name") && !k.equals(entry)) {
          throw new Refused(where + "." + k, "is not a field of a kubeconfig's " + list + " entry; expected name "
              + "and " + entry);
        }
      }
      String name = string(item, "name", where + ".name");
      if (name == null || name.isEmpty()) {
        throw new Refused(where + ".name", "is missing; every entry of " + list + " needs a name");
      }
      Object body = item.get(entry);
      Map<String, Object> checked = body == null ? Map.of() : mapping(body, where + "." + entry);
      checkFields(checked, where + "." + entry, fields, refused, entry);
      if (out.putIfAbsent(name, checked) != null) {
        throw new Refused(where + ".name", "a second entry named " + quote(name) + " in " + list
            + "; names must be unique, or which one is meant is a guess");
      }
    }
    return out;
  }

  /** Remembers where each named entry is, for messages about its fields. */
  private static void indexPaths(Map<String, Object> top, String list, String entry, Map<String, String> paths)
      throws Refused {
    List<Object> items = list(top.get(list), list);
    for (int i = 0; i < items.size(); i++) {
      Object name = mapping(items.get(i), list + "[" + i + "]").get("name");
      paths.putIfAbsent(entry + ":" + name, list + "[" + i + "]." + entry);
    }
  }

  private static void checkFields(Map<String, Object> body, String where, Map<String, Type> fields,
      Map<String, String> refused, String entry) throws Refused {
    String prefix = where.isEmpty() ? "" : where + ".";
    for (Map.Entry<String, Object> e : body.entrySet()) {
      String field = e.getKey();
      if (refused.containsKey(field)) {
        throw new Refused(prefix + field, field + " " + refused.get(field));
      }
      Type type = fields.get(field);
      if (type == null) {
        throw new Refused(prefix + field, field + " is not a " + entry + " field Weft reads from a kubeconfig; "
            + "allowed are " + String.join(", ", new TreeSet<>(fields.keySet())));
      }
      Object v = e.getValue();
      switch (type) {
        case STRING -> string(body, field, prefix + field);
        case BOOLEAN -> bool(body, field, prefix + field);
        case STRINGS -> strings(v, prefix + field);
        case STRING_TO_STRINGS -> {
          if (v != null) {
            for (Map.Entry<String, Object> x : mapping(v, prefix + field).entrySet()) {
              strings(x.getValue(), prefix + field + "." + x.getKey());
            }
          }
        }
        case IGNORED -> { }
      }
    }
  }

  // ---- typed access

  @SuppressWarnings("unchecked")
  private static Map<String, Object> mapping(Object v, String where) throws Refused {
    if (!(v instanceof Map<?, ?> m)) {
      throw new Refused(where, "must be a mapping" + (where.isEmpty() ? " (a whole kubeconfig)" : "")
          + ", found " + describe(v));
    }
    for (Object k : m.keySet()) {
      if (!(k instanceof String)) {
        throw new Refused(where, "has a key that is " + describe(k) + "; keys must be strings");
      }
    }
    return (Map<String, Object>) m;
  }

  private static List<Object> list(Object v, String where) throws Refused {
    if (v == null) return List.of();
    if (!(v instanceof List<?> l)) {
      throw new Refused(where, "must be a list, found " + describe(v));
    }
    return new ArrayList<>(l);
  }

  private static String string(Map<String, Object> m, String key, String where) throws Refused {
    Object v = m.get(key);
    if (v == null) return null;
    if (!(v instanceof String s)) {
      throw new Refused(where, "must be a string, found " + describe(v) + (v instanceof Number || v instanceof Boolean
          || v instanceof Date ? "; quote it" : ""));
    }
    return s;
  }

  /** A string that goes into a request header: no control characters. */
  private static String text(Map<String, Object> m, String key, String where) throws Refused {
    String s = string(m, key, where);
    if (s == null || s.isEmpty()) return null;
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        throw new Refused(where, "contains a control character (U+" + String.format("%04X", (int) s.charAt(i))
            + " at position " + (i + 1) + "); a credential is one line of printable text");
      }
    }
    return s;
  }

  private static Boolean bool(Map<String, Object> m, String key, String where) throws Refused {
    Object v = m.get(key);
    if (v == null) return null;
    if (!(v instanceof Boolean b)) {
      throw new Refused(where, "must be true or false, found " + describe(v));
    }
    return b;
  }

  private static List<String> strings(Object v, String where) throws Refused {
    List<String> out = new ArrayList<>();
    List<Object> items = list(v, where);
    for (int i = 0; i < items.size(); i++) {
      if (!(items.get(i) instanceof String s)) {
        throw new Refused(where + "[" + i + "]", "must be a string, found " + describe(items.get(i)));
      }
      out.add(s);
    }
    return out;
  }

  private static String describe(Object v) {
    if (v == null) return "nothing";
    if (v instanceof Map) return "a mapping";
    if (v instanceof Collection) return v instanceof Set ? "a set" : "a list";
    if (v instanceof String) return "a string";
    if (v instanceof Boolean) return "a boolean";
    if (v instanceof Number) return "a number";
    if (v instanceof Date) return "a timestamp";
    if (v instanceof byte[]) return "binary data";
    return "a " + v.getClass().getSimpleName();
  }

  // ---- values

  private static void checkUrl(String url, String where, Set<String> schemes, boolean userInfoAllowed)
      throws Refused {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new Refused(where, "is not a URL (" + clean(e.getMessage()) + ")");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!schemes.contains(scheme)) {
      throw new Refused(where, "must be an " + String.join(" or ", new TreeSet<>(schemes)) + " URL"
          + (scheme.isEmpty() ? "" : ", not " + clean(scheme) + "://")
          + (where.endsWith("proxy-url") ? " (Weft's Kubernetes client speaks to HTTP proxies only)" : ""));
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new Refused(where, "has no host name");
    }
    if (!userInfoAllowed && uri.getRawUserInfo() != null) {
      throw new Refused(where, "carries a user name in the URL; put credentials in the user entry");
    }
  }

  private static String hostOf(String url) {
    try {
      return String.valueOf(new URI(url).getHost());
    } catch (URISyntaxException e) {
      return url;
    }
  }

  /** Base64 PEM certificates, checked to be certificates; returned as plain base64. */
  private static String certificates(String base64, String where) throws Refused {
    byte[] pem = decode(base64, where);
    if (!new String(pem, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
      throw new Refused(where, "holds no PEM certificate (-----BEGIN CERTIFICATE-----) once base64-decoded");
    }
    try {
      if (CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem)).isEmpty()) {
        throw new Refused(where, "holds no certificate");
      }
    } catch (CertificateException e) {
      throw new Refused(where, "is not a readable PEM certificate (" + clean(String.valueOf(e.getMessage())) + ")");
    }
    return Base64.getEncoder().encodeToString(pem);
  }

  /** Base64 PEM private key → {plain base64, RSA or EC}. */
  private static String[] privateKey(String base64, String where) throws Refused {
    byte[] pem = decode(base64, where);
    Matcher m = PEM_KEY.matcher(new String(pem, StandardCharsets.US_ASCII));
    if (!m.find()) {
      throw new Refused(where, "holds no PEM private key (-----BEGIN ... PRIVATE KEY-----) once base64-decoded");
    }
    String algorithm = switch (m.group(1)) {
      case "RSA PRIVATE KEY" -> "RSA";
      case "EC PRIVATE KEY" -> "EC";
      case "PRIVATE KEY" -> pkcs8Algorithm(m.group(2), where);
      default -> throw new Refused(where, "is an encrypted private key; Weft cannot ask for its passphrase, so "
          + "give the key unencrypted");
    };
    return new String[] {Base64.getEncoder().encodeToString(pem), algorithm};
  }

  private static String pkcs8Algorithm(String body, String where) throws Refused {
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new Refused(where, "holds a PEM private key whose body is not base64");
    }
    for (String algorithm : List.of("RSA", "EC")) {
      try {
        KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        return algorithm;
      } catch (java.security.GeneralSecurityException e) {
        // not this algorithm; try the next
      }
    }
    throw new Refused(where, "holds a private key that is neither RSA nor EC");
  }

  private static byte[] decode(String base64, String where) throws Refused {
    try {
      return Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new Refused(where, "is not base64 (" + clean(e.getMessage()) + ")");
    }
  }

  private static String quote(String s) {
    return weft.model.ClusterIds.quote(s);
  }

  /** Text from a parser or the input, safe for one log line. */
  static String clean(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && b.length() < 200; i++) {
      char c = s.charAt(i);
      b.append(Character.isISOControl(c) ? ' ' : c);
    }
    return b.toString();
  }
}
