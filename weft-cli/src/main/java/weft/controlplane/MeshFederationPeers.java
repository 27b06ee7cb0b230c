package weft.controlplane;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import weft.model.parse.InputLimits;
import weft.model.parse.LinearYamlFactory;
import weft.security.meshes.MeshFederationParser;
import weft.security.meshes.MeshPeer;

/** Which peer meshes the configuration declares: {@code MeshFederation} resources. */
final class MeshFederationPeers {
  private static final ObjectReader YAML = new ObjectMapper(new LinearYamlFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readerFor(JsonNode.class);
  private static final ObjectMapper CLUSTER_JSON = new ObjectMapper();

  /** The MeshFederation kind on an API server (a CRD there: group weft.dev, namespaced). */
  static final io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext RESOURCE =
      new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("weft.dev")
          .withVersion("v1alpha1").withKind("MeshFederation").withPlural("meshfederations")
          .withNamespaced(true).build();

  /** Peers read, and one message per resource or file left out. */
  record Declared(List<MeshPeer> peers, List<String> problems) {
    static final Declared NONE = new Declared(List.of(), List.of());
  }

  private MeshFederationPeers() {}

  /** The MeshFederation documents of the YAML files directly in {@code dir}, in file-name order. */
  static Declared fromFolder(Path dir, String systemNamespace) {
    List<MeshPeer> peers = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(MeshFederationPeers::isYaml).sorted().toList();
    } catch (IOException e) {
      problems.add(dir + ": cannot list the folder: " + e.getMessage());
      return new Declared(peers, problems);
    }
    for (Path f : files) {
      try {
        if (Files.size(f) > InputLimits.MAX_FILE_BYTES) continue; // the cluster source reports it
        String text = Files.readString(f);
        if (!text.contains(MeshFederationParser.KIND)) continue;
        try (MappingIterator<JsonNode> it = YAML.readValues(text)) {
          while (it.hasNextValue()) {
            JsonNode doc = it.nextValue();
            if (!MeshFederationParser.isMeshFederation(doc)) continue;
            MeshFederationParser.Result r = MeshFederationParser.parse(doc, f.toString(), systemNamespace);
            if (r.peer() != null) peers.add(r.peer());
            problems.addAll(r.problems());
          }
        }
      } catch (IOException | RuntimeException e) {
        problems.add(f + ": cannot read MeshFederation documents: " + e.getMessage());
      }
    }
    return new Declared(peers, problems);
  }

  /**
   * The MeshFederation resources of the config cluster's system namespace only: a tenant's namespace
   * must not be able to route the mesh's traffic to another mesh.
   *
   * @throws RuntimeException when the list fails (the caller keeps the last one)
   */
  static Declared fromCluster(io.fabric8.kubernetes.client.KubernetesClient client, String systemNamespace) {
    List<MeshPeer> found = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (var item : client.genericKubernetesResources(RESOURCE).inNamespace(systemNamespace).list().getItems()) {
      JsonNode doc = CLUSTER_JSON.valueToTree(item);
      var r = MeshFederationParser.parse(doc, "config cluster namespace " + systemNamespace, systemNamespace);
      if (r.peer() != null) found.add(r.peer());
      problems.addAll(r.problems());
    }
    return new Declared(found, problems);
  }

  private static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".") && Files.isRegularFile(p);
  }
}
