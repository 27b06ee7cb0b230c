package weft.registry.kube;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.ClusterIds;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

/**
 * One Istio remote secret: a Secret labelled {@code istio/multiCluster=true} whose keys are cluster
 * ids and whose values are kubeconfigs, in {@code data} (base64) or {@code stringData}.
 *
 * @param ref names the secret and where it was found, in messages and as a key; unique across sources
 * @param source where it was found, as {@link ConfigProblem#file()}
 * @param kubeconfigs cluster id → kubeconfig YAML
 * @param fields cluster id → where its kubeconfig is in the secret ({@code data.ID} or {@code stringData.ID})
 * @param problems what was wrong with the secret itself (not with its kubeconfigs)
 * @param unreadable the secret as a whole was refused (too large): its last good version, if any, stays
 */
record RemoteSecret(String ref, String source, ResourceId id, Map<String, String> kubeconfigs,
    Map<String, String> fields, List<ConfigProblem> problems, boolean unreadable) {
  static final String LABEL = "istio/multiCluster";

  /** Linear in the input's size: a large Secret value must not hold the secrets thread (see LinearYamlFactory). */
  private static final ObjectMapper YAML = new ObjectMapper(new weft.model.parse.LinearYamlFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  RemoteSecret {
    kubeconfigs = Map.copyOf(kubeconfigs);
    fields = Map.copyOf(fields);
    problems = List.copyOf(problems);
  }

  /** This secret's clusters with another version's problems: a refused update keeps the last good one. */
  RemoteSecret withProblems(List<ConfigProblem> newer) {
    return new RemoteSecret(ref, source, id, kubeconfigs, fields, newer, false);
  }

  /** A Secret from the config cluster's API (already selected by label). */
  static RemoteSecret of(Secret secret, String source) {
    ResourceId id = new ResourceId("Secret", secret.getMetadata().getNamespace(), secret.getMetadata().getName());
    Reader r = new Reader(source, id);
    if (secret.getData() != null) secret.getData().forEach(r::base64);
    // stringData is write-only on a real API server, but a test server or a file keeps it; it wins, as in Kubernetes.
    if (secret.getStringData() != null) secret.getStringData().forEach(r::plain);
    return r.done();
  }

  /** The secrets in one YAML file (one or more documents, or a List). */
  static List<RemoteSecret> read(String file, String content, List<ConfigProblem> fileProblems) {
    List<RemoteSecret> out = new ArrayList<>();
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(content)) {
      while (it.hasNextValue()) docs.add(it.nextValue());
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      fileProblems.add(ConfigProblem.error(file, null, "", "not valid YAML (" + why + "); its secrets are "
          + "read again when it is fixed, and until then the clusters it added stay as they were"));
      return null;
    }
    for (int i = 0; i < docs.size(); i++) document(file, docs.get(i), "document " + (i + 1), out, fileProblems);
    return out;
  }

  private static void document(String file, JsonNode doc, String where, List<RemoteSecret> out,
      List<ConfigProblem> problems) {
    if (doc == null || doc.isNull() || doc.isMissingNode()) return;
    if (!doc.isObject()) {
      problems.add(ConfigProblem.error(file, null, "", where + " is not a mapping; expected a Secret"));
      return;
    }
    String kind = doc.path("kind").asText("");
    if (kind.equals("List")) {
      JsonNode items = doc.path("items");
      for (int i = 0; i < items.size(); i++) document(file, items.get(i), where + " items[" + i + "]", out, problems);
      return;
    }
    if (!kind.equals("Secret") || !doc.path("apiVersion").asText("").equals("v1")) {
      problems.add(ConfigProblem.warning(file, null, "kind", where + " is " + (kind.isEmpty() ? "not a Secret"
          : "a " + kind) + "; only v1 Secrets are read from the remote secrets folder, so it was skipped"));
      return;
    }
    JsonNode meta = doc.path("metadata");
    String name = meta.path("name").asText("");
    if (name.isEmpty()) {
      problems.add(ConfigProblem.error(file, null, "metadata.name", where + " (Secret) has no metadata.name"));
      return;
    }
    ResourceId id = new ResourceId("Secret", meta.path("namespace").asText(""), name);
    if (!meta.path("labels").path(LABEL).asText("").equals("true")) {
      problems.add(ConfigProblem.warning(file, id, "metadata.labels", "not labelled " + LABEL
          + "=true, so it is not a remote secret (Istio skips it too); skipped"));
      return;
    }
    Reader r = new Reader(file, id);
    r.section(doc.path("data"), "data", true);
    r.section(doc.path("stringData"), "stringData", false);
    out.add(r.done());
  }

  private static String ref(String source, ResourceId id) {
    return source + ": Secret " + (id.namespace().isEmpty() ? "" : id.namespace() + "/") + id.name();
  }

  /** Collects one secret's keys. */
  private static final class Reader {
    final String source;
    final ResourceId id;
    final Map<String, String> kubeconfigs = new TreeMap<>();
    final Map<String, String> fields = new TreeMap<>();
    final List<ConfigProblem> problems = new ArrayList<>();
    /** Characters of kubeconfig taken in so far, against Kubernetes' limit for a whole Secret. */
    long size;

    Reader(String source, ResourceId id) {
      this.source = source;
      this.id = id;
    }

    void section(JsonNode node, String name, boolean base64) {
      if (node.isMissingNode() || node.isNull()) return;
      if (!node.isObject()) {
        problems.add(ConfigProblem.error(source, id, name, name + " must be a mapping of cluster id to kubeconfig"));
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          problems.add(ConfigProblem.error(source, id, name + "." + e.getKey(), name + "." + e.getKey()
              + " must be a string (a kubeconfig" + (base64 ? ", base64-encoded" : "") + ")"));
        } else if (base64) {
          base64(e.getKey(), e.getValue().textValue());
        } else {
          plain(e.getKey(), e.getValue().textValue());
        }
      }
    }

    void base64(String clusterId, String value) {
      if (!validId("data", clusterId)) return;
      // Base64 is 4 characters for 3 bytes: anything longer than this decodes past the limit anyway.
      if (value.length() > KubeConfigs.MAX_BYTES / 3 * 4 + 8) {
        size += value.length() / 4 * 3;
        return;
      }
      try {
        put(clusterId, new String(Base64.getMimeDecoder().decode(value), StandardCharsets.UTF_8), "data.");
      } catch (IllegalArgumentException e) {
        problems.add(ConfigProblem.error(source, id, "data." + clusterId, "data." + clusterId
            + " is not base64 (" + e.getMessage() + "); put the kubeconfig under stringData to write it as text"));
      }
    }

    void plain(String clusterId, String value) {
      if (validId("stringData", clusterId)) put(clusterId, value, "stringData.");
    }

    private void put(String clusterId, String kubeconfig, String section) {
      size += kubeconfig.length();
      kubeconfigs.put(clusterId, kubeconfig);
      fields.put(clusterId, section + clusterId);
    }

    /** A key is a cluster id; a bad one is refused alone, named safely (it may hold a newline). */
    private boolean validId(String section, String clusterId) {
      String problem = ClusterIds.problem(clusterId);
      if (problem == null) return true;
      problems.add(ConfigProblem.error(source, id, section, "key " + ClusterIds.quote(clusterId) + " of " + section
          + " is not a valid cluster id: " + problem + "; that key is ignored"));
      return false;
    }

    RemoteSecret done() {
      if (size > KubeConfigs.MAX_BYTES) {
        problems.add(ConfigProblem.error(source, id, "data", "the secret's kubeconfigs add up to about " + size
            + " bytes; at most " + KubeConfigs.MAX_BYTES + " (1 MiB, Kubernetes' limit for a Secret) are read, so "
            + "the secret is refused" + " and the clusters it added stay as they were"));
        return new RemoteSecret(ref(source, id), source, id, Map.of(), Map.of(), problems, true);
      }
      return new RemoteSecret(ref(source, id), source, id, kubeconfigs, fields, problems, false);
    }
  }
}
