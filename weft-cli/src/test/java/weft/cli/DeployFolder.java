package weft.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/** The repository's {@code deploy/} folder, read as {@code kubectl apply -k} would: the kustomization's resources. */
final class DeployFolder {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** A manifest document and the file it came from. */
  record Document(String file, String yaml, KubernetesResource resource) {}

  private DeployFolder() {}

  /** The repository root: surefire runs in the module folder. */
  static Path repository() {
    Path module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
    return module.getParent();
  }

  static Path folder() {
    return repository().resolve("deploy");
  }

  @SuppressWarnings("unchecked")
  static List<String> kustomizationResources() {
    Map<String, Object> k = new Yaml().load(read(folder().resolve("kustomization.yaml")));
    return (List<String>) k.get("resources");
  }

  /** Every document of every file the kustomization lists, parsed into fabric8's typed model. */
  static List<Document> documents() {
    List<Document> out = new ArrayList<>();
    for (String file : kustomizationResources()) {
      for (String doc : read(folder().resolve(file)).split("(?m)^---\\s*$")) {
        if (doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) continue;
        out.add(new Document(file, doc, SERIALIZATION.unmarshal(doc, KubernetesResource.class)));
      }
    }
    return out;
  }

  static <T extends HasMetadata> T only(Class<T> type, String name) {
    List<T> found = documents().stream().map(Document::resource).filter(type::isInstance).map(type::cast)
        .filter(r -> r.getMetadata().getName().equals(name)).toList();
    if (found.size() != 1) throw new AssertionError(found.size() + " " + type.getSimpleName() + " named " + name);
    return found.get(0);
  }

  static <T> List<T> all(Class<T> type) {
    return documents().stream().map(Document::resource).filter(type::isInstance).map(type::cast).toList();
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every place in a typed object where a field landed in {@code additionalProperties} (a misspelt or
   * misplaced field that the API server would drop or refuse), as JSON-ish paths.
   */
  static List<String> unknownFields(Object model) {
    List<String> out = new ArrayList<>();
    walk(model, "", out);
    return out;
  }

  private static void walk(Object value, String path, List<String> out) {
    if (value == null) return;
    if (value instanceof Collection<?> c) {
      int i = 0;
      for (Object item : c) walk(item, path + "[" + i++ + "]", out);
      return;
    }
    if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> walk(v, path + "." + k, out));
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) return;
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      String name = getter.getName();
      if (!name.startsWith("get") || name.equals("getClass")) continue;
      Object child;
      try {
        child = getter.invoke(value);
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(path + ": " + name + ": " + e, e);
      }
      if (name.equals("getAdditionalProperties")) {
        if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
          out.add((path.isEmpty() ? "" : path) + " " + value.getClass().getSimpleName() + " does not know "
              + extra.keySet());
        }
        continue;
      }
      String field = Character.toLowerCase(name.charAt(3)) + name.substring(4);
      walk(child, path + "." + field, out);
    }
  }
}
