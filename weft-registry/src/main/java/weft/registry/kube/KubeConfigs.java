package weft.registry.kube;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.Config;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Turns the kubeconfig in a remote secret into a client {@link Config}, refusing anything that
 * would make the control plane read its own files or run a command.
 *
 * <p>A remote secret comes from whoever may write Secrets in the system namespace (or drop a file in
 * the secrets folder). A kubeconfig with {@code exec}, an {@code auth-provider}, a {@code tokenFile}
 * or a certificate given as a file path would let that person run programs on, or read files from,
 * the control plane's host (Istio restricts these fields for the same reason). Only inline credentials are
 * allowed: {@code token}, {@code client-certificate-data}, {@code client-key-data},
 * {@code certificate-authority-data}, basic auth. Every user and cluster entry is checked, not only
 * the ones the current context names, and a field Weft does not know is refused too: a new
 * kubeconfig feature must be looked at before it is trusted.
 */
public final class KubeConfigs {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Fields that read local files or run commands, with what to do instead. */
  private static final Map<String, String> REFUSED_USER_FIELDS = Map.of(
      "exec", "runs a command on the control plane's host; put an inline token or client-certificate-data and "
          + "client-key-data in the secret instead",
      "auth-provider", "runs a cloud credential helper on the control plane's host; put an inline token in the "
          + "secret instead",
      "tokenFile", "reads a file on the control plane's host; put the token itself in the field token",
      "client-certificate", "reads a file on the control plane's host; put the PEM itself (base64) in "
          + "client-certificate-data",
      "client-key", "reads a file on the control plane's host; put the PEM itself (base64) in client-key-data");
  private static final Map<String, String> REFUSED_CLUSTER_FIELDS = Map.of(
      "certificate-authority", "reads a file on the control plane's host; put the PEM itself (base64) in "
          + "certificate-authority-data");
  private static final Set<String> USER_FIELDS = Set.of("token", "client-certificate-data", "client-key-data",
      "username", "password", "as", "as-uid", "as-groups", "as-user-extra", "extensions");
  private static final Set<String> CLUSTER_FIELDS = Set.of("server", "certificate-authority-data",
      "insecure-skip-tls-verify", "tls-server-name", "proxy-url", "disable-compression", "extensions");

  private KubeConfigs() {}

  /**
   * Checks and reads a kubeconfig. {@code secretRef} and {@code clusterId} only name the input in
   * errors. The result uses the kubeconfig's current context and nothing from the environment.
   */
  public static Config parse(String secretRef, String clusterId, String kubeconfigYaml)
      throws InvalidKubeconfigException {
    JsonNode root;
    try {
      root = kubeconfigYaml == null || kubeconfigYaml.isBlank() ? null : YAML.readTree(kubeconfigYaml);
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new InvalidKubeconfigException(secretRef, clusterId, "", "is not valid YAML (" + why + ")");
    }
    if (root == null || !root.isObject()) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "",
          "is empty or not a mapping; the secret's value must be a whole kubeconfig");
    }
    check(secretRef, clusterId, root, "users", "user", REFUSED_USER_FIELDS, USER_FIELDS);
    check(secretRef, clusterId, root, "clusters", "cluster", REFUSED_CLUSTER_FIELDS, CLUSTER_FIELDS);
    requireServer(secretRef, clusterId, root);
    try {
      return Config.fromKubeconfig(kubeconfigYaml);
    } catch (RuntimeException e) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "", "cannot be read (" + e.getMessage() + ")");
    }
  }

  private static void check(String secretRef, String clusterId, JsonNode root, String list, String entry,
      Map<String, String> refused, Set<String> allowed) throws InvalidKubeconfigException {
    JsonNode items = root.path(list);
    for (int i = 0; i < items.size(); i++) {
      JsonNode body = items.get(i).path(entry);
      String name = items.get(i).path("name").asText("");
      String where = list + "[" + i + "]." + entry;
      String named = name.isEmpty() ? "" : " (" + entry + " " + name + ")";
      for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
        String field = it.next();
        if (refused.containsKey(field)) {
          throw new InvalidKubeconfigException(secretRef, clusterId, where + "." + field,
              field + named + " " + refused.get(field));
        }
        if (!allowed.contains(field)) {
          throw new InvalidKubeconfigException(secretRef, clusterId, where + "." + field, field + named
              + " is not allowed in a remote secret; allowed " + entry + " fields are " + sorted(allowed));
        }
      }
    }
  }

  /** Without a server, fabric8 would fall back to the in-cluster address: the wrong cluster, silently. */
  private static void requireServer(String secretRef, String clusterId, JsonNode root)
      throws InvalidKubeconfigException {
    String current = root.path("current-context").asText("");
    if (current.isEmpty()) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "current-context",
          "current-context is not set; name the context to use");
    }
    JsonNode context = named(root.path("contexts"), current).path("context");
    if (context.isMissingNode()) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "current-context",
          "current-context names \"" + current + "\", but contexts has no entry with that name");
    }
    String clusterName = context.path("cluster").asText("");
    JsonNode cluster = named(root.path("clusters"), clusterName).path("cluster");
    if (cluster.path("server").asText("").isEmpty()) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "clusters",
          "context \"" + current + "\" names cluster \"" + clusterName + "\", which has no server URL");
    }
  }

  private static JsonNode named(JsonNode list, String name) {
    for (JsonNode item : list) {
      if (name.equals(item.path("name").asText(null))) return item;
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  private static String sorted(Set<String> fields) {
    return String.join(", ", new java.util.TreeSet<>(fields));
  }
}
