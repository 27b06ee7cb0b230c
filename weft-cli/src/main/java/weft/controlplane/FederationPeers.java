package weft.controlplane;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import weft.model.MeshConfig;
import weft.model.parse.InputLimits;
import weft.model.parse.LinearYamlFactory;
import weft.security.federation.FederatedPeer;
import weft.security.federation.TrustDomainFederationParser;

/**
 * Which peers the configuration declares: {@code TrustDomainFederation} resources in the config folder,
 * and MeshConfig {@code caCertificates} with {@code spiffeBundleUrl}.
 */
final class FederationPeers {
  private static final ObjectReader YAML = new ObjectMapper(new LinearYamlFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readerFor(JsonNode.class);

  /** Peers read, and one message per resource or file left out. */
  record Declared(List<FederatedPeer> peers, List<String> problems) {
    static final Declared NONE = new Declared(List.of(), List.of());
  }

  private FederationPeers() {}

  static List<FederatedPeer> declared(MeshConfig mesh) {
    List<FederatedPeer> out = new ArrayList<>();
    List<MeshConfig.CaCertificate> cas = mesh.caCertificates();
    for (int i = 0; i < cas.size(); i++) {
      MeshConfig.CaCertificate c = cas.get(i);
      if (c.spiffeBundleUrl() == null || c.trustDomains().size() != 1) continue; // the parser reported it
      // Istio's spiffeBundleUrl is the https_web form: the endpoint proves itself with a Web PKI certificate.
      out.add(FederatedPeer.httpsWeb(c.trustDomains().get(0), URI.create(c.spiffeBundleUrl()),
          "MeshConfig caCertificates[" + i + "].spiffeBundleUrl"));
    }
    return out;
  }

  /** The TrustDomainFederation documents of the YAML files directly in {@code dir}, in file-name order. */
  static Declared fromFolder(Path dir) {
    List<FederatedPeer> peers = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(FederationPeers::isYaml).sorted().toList();
    } catch (IOException e) {
      problems.add(dir + ": cannot list the folder: " + e.getMessage());
      return new Declared(peers, problems);
    }
    for (Path f : files) {
      try {
        if (Files.size(f) > InputLimits.MAX_FILE_BYTES) continue; // the cluster source reports it
        String text = Files.readString(f);
        if (!text.contains(TrustDomainFederationParser.KIND)) continue;
        try (MappingIterator<JsonNode> it = YAML.readValues(text)) {
          while (it.hasNextValue()) {
            JsonNode doc = it.nextValue();
            if (!TrustDomainFederationParser.isTrustDomainFederation(doc)) continue;
            TrustDomainFederationParser.Result r = TrustDomainFederationParser.parse(doc, f.toString());
            if (r.peer() != null) peers.add(r.peer());
            problems.addAll(r.problems());
          }
        }
      } catch (IOException | RuntimeException e) {
        problems.add(f + ": cannot read TrustDomainFederation documents: " + e.getMessage());
      }
    }
    return new Declared(peers, problems);
  }

  private static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".") && Files.isRegularFile(p);
  }

  /** Names, sizes and times of the folder's YAML files: what changes when a file does. */
  static String folderStamp(Path dir) {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(FederationPeers::isYaml).sorted().toList()) {
        b.append(p.getFileName()).append(':').append(Files.size(p)).append(':')
            .append(Files.getLastModifiedTime(p).toMillis()).append('\n');
      }
    } catch (IOException e) {
      return "unlistable";
    }
    return b.toString();
  }
}
