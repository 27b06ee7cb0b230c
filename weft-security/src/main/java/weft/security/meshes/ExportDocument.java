package weft.security.meshes;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one mesh exports to another, as JSON on the federation endpoint:
 *
 * <pre>
 * {"meshId": "mesh2", "trustDomain": "mesh2.example", "services": [
 *   {"name": "c", "namespace": "default", "host": "c.default.svc.cluster.local",
 *    "ports": [{"name": "grpc", "number": 9080, "protocol": "GRPC"}],
 *    "identities": ["spiffe://mesh2.example/ns/default/sa/c"],
 *    "gateways": [{"address": "198.18.0.10", "port": 15443}]}]}
 * </pre>
 *
 * Read as hostile input: bounded in bytes, depth and counts; every name, port, address and identity
 * checked; an identity outside the exporter's own trust domain refuses the service (a peer must not
 * make our clients accept another mesh's workloads). A bad service is left out alone, with a reason.
 */
public record ExportDocument(String meshId, String trustDomain, List<ExportedService> services) {
  /** A document larger than this is refused unread: a thousand services fit in far less. */
  public static final int MAX_BYTES = 512 * 1024;
  static final int MAX_SERVICES = 1024;
  static final int MAX_PORTS = 64;
  static final int MAX_IDENTITIES = 64;
  // Istio's port protocols (the name prefixes it reads); anything else is not a protocol we can route.
  private static final Set<String> PROTOCOLS = Set.of("HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "TCP", "TLS",
      "MONGO", "MYSQL", "REDIS", "UDP", "");
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).maxStringLength(4096)
          .maxNumberLength(10).build())
      .build());

  public ExportDocument {
    services = List.copyOf(services);
  }

  /** A document read: the services accepted and one message per service or field left out. */
  public record Parsed(ExportDocument document, List<String> problems) {}

  public String toJson() {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("meshId", meshId);
    doc.put("trustDomain", trustDomain);
    ArrayNode list = doc.putArray("services");
    for (ExportedService s : services) {
      ObjectNode n = list.addObject();
      n.put("name", s.name());
      n.put("namespace", s.namespace());
      n.put("host", s.host());
      ArrayNode ports = n.putArray("ports");
      for (ExportedService.Port p : s.ports()) {
        ports.addObject().put("name", p.name()).put("number", p.number()).put("protocol", p.protocol());
      }
      ArrayNode ids = n.putArray("identities");
      s.identities().forEach(ids::add);
      ArrayNode gws = n.putArray("gateways");
      for (MeshPeer.Gateway g : s.gateways()) gws.addObject().put("address", g.address()).put("port", g.port());
    }
    try {
      return JSON.writeValueAsString(doc);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a peer's document.
   *
   * @param meshId the mesh id we know the peer by: the document must say the same
   * @param trustDomain the peer's trust domain: every identity must be in it
   * @throws IllegalArgumentException when the document as a whole is unusable (the last good one stays)
   */
  public static Parsed parse(byte[] body, String meshId, String trustDomain) {
    if (body.length > MAX_BYTES) {
      throw new IllegalArgumentException("the export list is larger than " + MAX_BYTES + " bytes");
    }
    JsonNode doc;
    try {
      doc = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("the export list is not JSON: " + firstLine(e.getMessage()));
    }
    if (doc == null || !doc.isObject()) throw new IllegalArgumentException("the export list is not a JSON object");
    if (!meshId.equals(doc.path("meshId").asText(null))) {
      throw new IllegalArgumentException("the export list is of mesh '" + clip(doc.path("meshId").asText("")) + "', "
          + "not " + meshId + " as our MeshFederation says");
    }
    if (!trustDomain.equals(doc.path("trustDomain").asText(null))) {
      throw new IllegalArgumentException("the export list names trust domain '" + clip(doc.path("trustDomain")
          .asText("")) + "', not " + trustDomain);
    }
    JsonNode services = doc.path("services");
    if (!services.isArray()) throw new IllegalArgumentException("the export list has no services array");
    if (services.size() > MAX_SERVICES) {
      throw new IllegalArgumentException("the export list has " + services.size() + " services; at most "
          + MAX_SERVICES);
    }
    List<ExportedService> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < services.size(); i++) {
      try {
        ExportedService s = service(services.get(i), trustDomain);
        if (!seen.add(s.namespace() + "/" + s.name())) {
          throw new IllegalArgumentException(s.namespace() + "/" + s.name() + " is listed twice");
        }
        out.add(s);
      } catch (IllegalArgumentException e) {
        problems.add("services[" + i + "]: " + e.getMessage() + "; left out");
      }
    }
    return new Parsed(new ExportDocument(meshId, trustDomain, out), problems);
  }

  private static ExportedService service(JsonNode n, String trustDomain) {
    if (!n.isObject()) throw new IllegalArgumentException("not an object");
    String name = text(n, "name");
    String ns = text(n, "namespace");
    String host = text(n, "host");
    if (!MeshNames.isLabel(name)) throw new IllegalArgumentException("name '" + clip(name) + "' is not a DNS label");
    if (!MeshNames.isLabel(ns)) throw new IllegalArgumentException("namespace '" + clip(ns) + "' is not a DNS label");
    if (!MeshNames.isDnsName(host)) throw new IllegalArgumentException("host '" + clip(host) + "' is not a DNS name");
    JsonNode ports = n.path("ports");
    if (!ports.isArray() || ports.isEmpty() || ports.size() > MAX_PORTS) {
      throw new IllegalArgumentException("ports must be a list of 1.." + MAX_PORTS);
    }
    List<ExportedService.Port> portList = new ArrayList<>();
    Set<Integer> numbers = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (JsonNode p : ports) {
      long number = p.path("number").isIntegralNumber() ? p.path("number").asLong() : -1;
      if (!MeshNames.isPort(number) || !numbers.add((int) number)) {
        throw new IllegalArgumentException("port number " + clip(p.path("number").toString())
            + " is not in 1..65535 or is repeated");
      }
      String pname = p.path("name").asText("");
      if (!pname.isEmpty() && (!MeshNames.isLabel(pname) || !names.add(pname))) {
        throw new IllegalArgumentException("port name '" + clip(pname) + "' is not a DNS label or is repeated");
      }
      String protocol = p.path("protocol").asText("");
      if (!PROTOCOLS.contains(protocol)) {
        throw new IllegalArgumentException("port protocol '" + clip(protocol) + "' is not one of " + new TreeSet<>(PROTOCOLS));
      }
      portList.add(new ExportedService.Port(pname, (int) number, protocol));
    }
    JsonNode ids = n.path("identities");
    if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX_IDENTITIES) {
      throw new IllegalArgumentException("identities must be a list of 1.." + MAX_IDENTITIES + " SPIFFE ids (without "
          + "them our clients could not check the workloads)");
    }
    TreeSet<String> identities = new TreeSet<>();
    for (JsonNode id : ids) {
      String s = id.asText("");
      if (!id.isTextual() || !MeshNames.isSpiffeIdIn(s, trustDomain)) {
        throw new IllegalArgumentException("identity '" + clip(s) + "' is not a SPIFFE id of the peer's trust domain "
            + trustDomain);
      }
      identities.add(s);
    }
    JsonNode gws = n.path("gateways");
    TreeSet<MeshPeer.Gateway> gateways = new TreeSet<>();
    if (!gws.isMissingNode()) {
      if (!gws.isArray() || gws.size() > MeshFederationParser.MAX_GATEWAYS) {
        throw new IllegalArgumentException("gateways must be a list of at most " + MeshFederationParser.MAX_GATEWAYS);
      }
      for (JsonNode g : gws) {
        String address = g.path("address").asText("");
        long port = g.path("port").isIntegralNumber() ? g.path("port").asLong() : -1;
        if (!MeshNames.isIpLiteral(address) || !MeshNames.isPort(port)) {
          throw new IllegalArgumentException("gateway " + clip(g.toString()) + " is not an IP address and a port");
        }
        gateways.add(MeshNames.gateway((address.contains(":") ? "[" + address + "]" : address) + ":" + port));
      }
    }
    return new ExportedService(name, ns, host, portList, List.copyOf(identities), List.copyOf(gateways));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) throw new IllegalArgumentException(field + " is missing or not a string");
    return v.asText();
  }

  /** What a peer wrote, cut short and escaped before it reaches a log or status. */
  static String clip(String s) {
    String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return weft.model.text.ClientText.forLog(t);
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return clip(nl < 0 ? s : s.substring(0, nl));
  }
}
