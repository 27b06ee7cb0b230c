package weft.operator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator's own kubeconfig file ({@code --kubeconfig}), read field by field into a fabric8
 * {@link Config} built from {@link Config#empty()}: nothing comes from the environment,
 * {@code ~/.kube/config} or system properties, and no credential plugin ({@code exec},
 * {@code auth-provider}) is ever run. Unlike a remote secret's kubeconfig, files it names
 * (certificates, a token file) are the operator's own and are read, relative to the kubeconfig's
 * folder as kubectl does.
 *
 * <p>Every problem is one {@link Problem} naming the file, the context and the field.
 */
public final class KubeconfigFile {
  /** A kubeconfig is a few kilobytes; anything this large is not one. */
  static final long MAX_BYTES = 1 << 20;

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Set<String> CLUSTER_FIELDS = Set.of("server", "certificate-authority",
      "certificate-authority-data", "insecure-skip-tls-verify", "proxy-url", "disable-compression", "extensions");
  private static final Set<String> USER_FIELDS = Set.of("token", "tokenFile", "client-certificate",
      "client-certificate-data", "client-key", "client-key-data", "username", "password", "extensions");

  private KubeconfigFile() {}

  /** A kubeconfig that cannot be used as it is; the message says where and what to do. */
  public static final class Problem extends Exception {
    private static final long serialVersionUID = 1L;

    Problem(String message) {
      super(message);
    }
  }

  /**
   * Reads {@code file} and returns the client settings of {@code context}, or of its
   * current-context when {@code context} is null.
   */
  public static Config read(Path file, String context) throws Problem {
    JsonNode root = parse(file);
    String name = context != null ? context : root.path("current-context").asText("");
    List<String> known = names(root.path("contexts"));
    if (name.isEmpty()) {
      throw new Problem(file + ": current-context is not set; name a context with --context" + among(known));
    }
    JsonNode ctx = named(root.path("contexts"), name).path("context");
    if (ctx.isMissingNode()) {
      String given = context != null ? "--context " + name : "current-context \"" + name + "\"";
      throw new Problem(file + ": " + given + ": no such context" + among(known));
    }
    String where = file + ": context " + name;
    String clusterName = ctx.path("cluster").asText("");
    int clusterIndex = indexOf(root.path("clusters"), clusterName);
    if (clusterIndex < 0) {
      throw new Problem(where + " names cluster \"" + clusterName + "\", which clusters does not list"
          + among(names(root.path("clusters"))));
    }
    JsonNode cluster = root.path("clusters").get(clusterIndex).path("cluster");
    String clusterPath = "clusters[" + clusterIndex + "].cluster";
    checkFields(where, clusterPath, cluster, CLUSTER_FIELDS);

    ConfigBuilder config = new ConfigBuilder(Config.empty()).withAutoConfigure(false);
    config.withMasterUrl(server(where, clusterPath, cluster));
    Path folder = file.toAbsolutePath().getParent();
    if (cluster.has("certificate-authority-data")) {
      config.withCaCertData(cluster.path("certificate-authority-data").asText());
    } else if (cluster.has("certificate-authority")) {
      config.withCaCertFile(existing(where, clusterPath + ".certificate-authority", folder,
          cluster.path("certificate-authority").asText()));
    }
    if (cluster.path("insecure-skip-tls-verify").asBoolean(false)) {
      config.withTrustCerts(true).withDisableHostnameVerification(true);
    }
    if (cluster.has("proxy-url")) config.withHttpsProxy(cluster.path("proxy-url").asText()).withHttpProxy(
        cluster.path("proxy-url").asText());

    String userName = ctx.path("user").asText("");
    int userIndex = indexOf(root.path("users"), userName);
    if (userIndex < 0 && !userName.isEmpty()) {
      throw new Problem(where + " names user \"" + userName + "\", which users does not list"
          + among(names(root.path("users"))));
    }
    if (userIndex >= 0) {
      JsonNode user = root.path("users").get(userIndex).path("user");
      String userPath = "users[" + userIndex + "].user";
      refusePlugins(where, userPath, user);
      checkFields(where, userPath, user, USER_FIELDS);
      if (user.has("token")) {
        config.withOauthToken(user.path("token").asText());
      } else if (user.has("tokenFile")) {
        String tokenFile = existing(where, userPath + ".tokenFile", folder, user.path("tokenFile").asText());
        try {
          config.withOauthToken(Files.readString(Path.of(tokenFile)).strip());
        } catch (IOException e) {
          throw new Problem(where + ": field " + userPath + ".tokenFile: cannot read " + tokenFile + " (" + e + ")");
        }
      }
      if (user.has("client-certificate-data")) {
        config.withClientCertData(user.path("client-certificate-data").asText());
      } else if (user.has("client-certificate")) {
        config.withClientCertFile(existing(where, userPath + ".client-certificate", folder,
            user.path("client-certificate").asText()));
      }
      if (user.has("client-key-data")) {
        config.withClientKeyData(user.path("client-key-data").asText());
      } else if (user.has("client-key")) {
        config.withClientKeyFile(existing(where, userPath + ".client-key", folder, user.path("client-key").asText()));
      }
      if (user.has("username")) config.withUsername(user.path("username").asText());
      if (user.has("password")) config.withPassword(user.path("password").asText());
    }
    return config.build();
  }

  private static JsonNode parse(Path file) throws Problem {
    if (Files.isDirectory(file)) {
      throw new Problem(file + ": a folder, not a file; --kubeconfig names a kubeconfig file");
    }
    if (!Files.isRegularFile(file)) {
      throw new Problem(file + ": no such file; --kubeconfig names a kubeconfig file");
    }
    String text;
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new Problem(file + ": larger than " + MAX_BYTES / 1024 + " KiB, so not a kubeconfig");
      }
      text = Files.readString(file);
    } catch (IOException e) {
      throw new Problem(file + ": cannot be read (" + e + ")");
    }
    JsonNode root;
    try {
      root = text.isBlank() ? null : YAML.readTree(text);
    } catch (IOException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new Problem(file + ": not valid YAML (" + why + ")");
    }
    if (root == null || !root.isObject()) {
      throw new Problem(file + ": empty or not a mapping; a kubeconfig has clusters, users, contexts");
    }
    return root;
  }

  private static String server(String where, String clusterPath, JsonNode cluster) throws Problem {
    String server = cluster.path("server").asText("");
    if (server.isEmpty()) {
      // Without one fabric8 would fall back to the in-cluster address: the wrong cluster, silently.
      throw new Problem(where + ": field " + clusterPath + ".server is missing; give the API server's https URL");
    }
    try {
      URI uri = new URI(server);
      if (uri.getHost() == null || !(server.startsWith("https://") || server.startsWith("http://"))) {
        throw new Problem(where + ": field " + clusterPath + ".server \"" + server
            + "\" is not an http(s) URL with a host");
      }
    } catch (java.net.URISyntaxException e) {
      throw new Problem(where + ": field " + clusterPath + ".server \"" + server + "\" is not a URL ("
          + e.getReason() + ")");
    }
    return server;
  }

  private static void refusePlugins(String where, String userPath, JsonNode user) throws Problem {
    for (String plugin : List.of("exec", "auth-provider")) {
      if (user.has(plugin)) {
        throw new Problem(where + ": field " + userPath + "." + plugin + ": weft does not run credential "
            + "plugins; use a context whose user has a token or a client certificate");
      }
    }
    for (String impersonation : List.of("as", "as-uid", "as-groups", "as-user-extra")) {
      if (user.has(impersonation)) {
        throw new Problem(where + ": field " + userPath + "." + impersonation + ": impersonation is not "
            + "supported; use a context whose user is the account itself");
      }
    }
  }

  private static void checkFields(String where, String path, JsonNode body, Set<String> allowed) throws Problem {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!allowed.contains(field)) {
        throw new Problem(where + ": field " + path + "." + field + " is not supported; supported fields are "
            + String.join(", ", new TreeSet<>(allowed)));
      }
    }
  }

  /** A file the kubeconfig names, relative to the kubeconfig's folder as kubectl resolves it. */
  private static String existing(String where, String field, Path folder, String name) throws Problem {
    Path path = folder == null ? Path.of(name) : folder.resolve(name);
    if (!Files.isRegularFile(path)) {
      throw new Problem(where + ": field " + field + ": no such file " + path);
    }
    return path.toString();
  }

  private static List<String> names(JsonNode list) {
    List<String> out = new ArrayList<>();
    for (JsonNode item : list) {
      String name = item.path("name").asText("");
      if (!name.isEmpty()) out.add(name);
    }
    return out;
  }

  private static String among(List<String> names) {
    return names.isEmpty() ? " (the file lists none)" : " (the file has: " + String.join(", ", names) + ")";
  }

  private static int indexOf(JsonNode list, String name) {
    for (int i = 0; i < list.size(); i++) {
      if (!name.isEmpty() && name.equals(list.get(i).path("name").asText(null))) return i;
    }
    return -1;
  }

  private static JsonNode named(JsonNode list, String name) {
    int i = indexOf(list, name);
    return i < 0 ? MissingNode.getInstance() : list.get(i);
  }
}
