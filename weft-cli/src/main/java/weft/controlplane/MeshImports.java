package weft.controlplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.security.meshes.ExportDocument;
import weft.security.meshes.ExportedService;
import weft.security.meshes.MeshNames;
import weft.security.meshes.MeshPeer;

/**
 * A peer's exported services as this mesh's config, a pure function of the peer and its last good
 * export list: each service {@code NAME.NS} of mesh {@code M} becomes the host {@code
 * NAME.NS.svc.M.SUFFIX} (so it never merges with our own {@code NAME.NS}), a ServiceEntry whose
 * endpoints are the peer's east-west gateways, and a DestinationRule that originates Istio mTLS with
 * the SNI {@code outbound_.PORT_._.HOST} of the exporting mesh's own host name (its gateway routes
 * that unchanged) and accepts only the identities the peer exported.
 *
 * <p>The resources go through the same parser as a user's YAML: what a peer sent is never handed on
 * unchecked.
 */
final class MeshImports {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One imported service: its host here and there, and why it is absent when it is. */
  record Import(String host, String exportedHost, List<String> identities, List<MeshPeer.Gateway> gateways,
      String leftOut) {}

  /** The resources for one peer and what became of each service. */
  record Result(List<Resource> resources, List<Import> imports) {}

  private MeshImports() {}

  static String importedHost(ExportedService s, String meshId, String suffix) {
    return s.name() + "." + s.namespace() + ".svc." + meshId + "." + suffix;
  }

  static Result build(MeshPeer peer, ExportDocument doc, String suffix) {
    List<Resource> resources = new ArrayList<>();
    List<Import> imports = new ArrayList<>();
    for (ExportedService s : doc.services()) {
      String host = importedHost(s, peer.meshId(), suffix);
      List<MeshPeer.Gateway> gateways = peer.gateways().isEmpty() ? s.gateways() : peer.gateways();
      if (!MeshNames.isDnsName(host)) {
        imports.add(new Import(host, s.host(), s.identities(), gateways, "the imported name is longer than a DNS name"));
        continue;
      }
      if (gateways.isEmpty()) {
        imports.add(new Import(host, s.host(), s.identities(), gateways, "no east-west gateway: the MeshFederation "
            + "names none and the peer sent none for it"));
        continue;
      }
      String name = "import." + peer.meshId() + "." + s.name();
      String source = "MeshFederation " + peer.meshId() + " import of " + s.namespace() + "/" + s.name();
      String yaml = serviceEntry(name, host, s, gateways) + "\n---\n" + destinationRule(name, host, s, peer.meshId());
      ParsedFile parsed = ResourceParser.parse(source, yaml);
      List<String> errors = parsed.problems().stream().filter(p -> p.severity() == ConfigProblem.Severity.ERROR)
          .map(ConfigProblem::message).toList();
      if (!errors.isEmpty() || parsed.resources().size() != 2) {
        imports.add(new Import(host, s.host(), s.identities(), gateways, "refused by the config checks: " + errors));
        continue;
      }
      resources.addAll(parsed.resources());
      imports.add(new Import(host, s.host(), s.identities(), gateways, null));
    }
    return new Result(resources, imports);
  }

  private static String serviceEntry(String name, String host, ExportedService s, List<MeshPeer.Gateway> gateways) {
    ObjectNode doc = header("ServiceEntry", name, s.namespace());
    ObjectNode spec = doc.putObject("spec");
    spec.putArray("hosts").add(host);
    spec.put("location", "MESH_INTERNAL");
    spec.put("resolution", "STATIC");
    ArrayNode ports = spec.putArray("ports");
    for (ExportedService.Port p : s.ports()) {
      ports.addObject().put("number", p.number()).put("name", portName(p))
          .put("protocol", p.protocol().isEmpty() ? "TCP" : p.protocol());
    }
    ArrayNode endpoints = spec.putArray("endpoints");
    for (MeshPeer.Gateway g : gateways) {
      ObjectNode e = endpoints.addObject().put("address", g.address());
      ObjectNode ep = e.putObject("ports");
      for (ExportedService.Port p : s.ports()) ep.put(portName(p), g.port());
    }
    return doc.toString();
  }

  private static String destinationRule(String name, String host, ExportedService s, String meshId) {
    ObjectNode doc = header("DestinationRule", name, s.namespace());
    ObjectNode spec = doc.putObject("spec");
    spec.put("host", host);
    ObjectNode policy = spec.putObject("trafficPolicy");
    tls(policy.putObject("tls"), s, null);
    ArrayNode perPort = policy.putArray("portLevelSettings");
    for (ExportedService.Port p : s.ports()) {
      ObjectNode entry = perPort.addObject();
      entry.putObject("port").put("number", p.number());
      tls(entry.putObject("tls"), s, "outbound_." + p.number() + "_._." + s.host());
    }
    return doc.toString();
  }

  private static void tls(ObjectNode tls, ExportedService s, String sni) {
    tls.put("mode", "ISTIO_MUTUAL");
    if (sni != null) tls.put("sni", sni);
    ArrayNode sans = tls.putArray("subjectAltNames");
    s.identities().forEach(sans::add);
  }

  private static ObjectNode header(String kind, String name, String namespace) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("apiVersion", "networking.istio.io/v1");
    doc.put("kind", kind);
    ObjectNode md = doc.putObject("metadata");
    md.put("name", name);
    md.put("namespace", namespace);
    return doc;
  }

  private static String portName(ExportedService.Port p) {
    return p.name().isEmpty() ? "port-" + p.number() : p.name();
  }
}
