package weft.security.meshes;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a {@code weft.dev/v1alpha1 MeshFederation}: a peer mesh whose exported services we import.
 *
 * <pre>
 * apiVersion: weft.dev/v1alpha1
 * kind: MeshFederation
 * metadata: {name: mesh2}
 * spec:
 *   meshId: mesh2                                    # the peer's MeshConfig defaultConfig.meshId
 *   trustDomain: mesh2.example                       # a TrustDomainFederation gives its roots
 *   federationAddress: https://cp.mesh2.example:15090/   # the peer control plane's --bundle-port
 *   endpointSPIFFEID: spiffe://mesh2.example/ns/istio-system/sa/istiod   # default: that one
 *   gateways: ["198.18.0.10:15443"]                  # its east-west gateways (IP:PORT)
 * </pre>
 *
 * A resource with a problem yields no peer and messages naming the field; nothing throws.
 */
public final class MeshFederationParser {
  public static final String API_VERSION = "weft.dev/v1alpha1";
  public static final String KIND = "MeshFederation";
  /** More gateways than this for one peer is not a mesh's edge, it is a scan list. */
  static final int MAX_GATEWAYS = 16;
  private static final Set<String> SPEC_FIELDS = Set.of("meshId", "trustDomain", "federationAddress",
      "endpointSPIFFEID", "gateways");

  /** One resource read: the peer, or null with the reasons. */
  public record Result(MeshPeer peer, List<String> problems) {}

  private MeshFederationParser() {}

  public static boolean isMeshFederation(JsonNode doc) {
    return doc != null && doc.isObject() && KIND.equals(doc.path("kind").asText())
        && doc.path("apiVersion").asText().startsWith("weft.dev/");
  }

  /**
   * @param file where the document came from, for messages
   * @param systemNamespace the peer control plane's namespace, for the default endpoint id
   */
  public static Result parse(JsonNode doc, String file, String systemNamespace) {
    List<String> problems = new ArrayList<>();
    String name = doc.path("metadata").path("name").asText("");
    String where = file + ": " + KIND + " " + (name.isEmpty() ? "(no name)" : name);
    if (!API_VERSION.equals(doc.path("apiVersion").asText())) {
      problems.add(where + ": apiVersion " + doc.path("apiVersion").asText() + " is not supported; use " + API_VERSION);
      return new Result(null, problems);
    }
    JsonNode spec = doc.path("spec");
    if (!spec.isObject()) {
      problems.add(where + ": spec is missing or not a mapping");
      return new Result(null, problems);
    }
    for (Iterator<String> it = spec.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!SPEC_FIELDS.contains(f)) problems.add(where + ": field spec." + f + " is not part of " + KIND);
    }
    String meshId = spec.path("meshId").asText("");
    if (!MeshNames.isDnsName(meshId)) {
      problems.add(where + ": field spec.meshId '" + meshId + "' is not a mesh id (a DNS name such as mesh2: it "
          + "becomes part of the imported host names)");
    }
    String td = spec.path("trustDomain").asText("");
    if (!MeshNames.isTrustDomain(td)) {
      problems.add(where + ": field spec.trustDomain '" + td + "' is not a SPIFFE trust domain (lower-case letters, "
          + "digits, '.', '-', '_')");
    }
    URI url = null;
    String raw = spec.path("federationAddress").asText("");
    try {
      url = new URI(raw);
      if (!"https".equals(url.getScheme()) || url.getHost() == null || url.getRawUserInfo() != null
          || url.getRawQuery() != null || url.getRawFragment() != null) {
        problems.add(where + ": field spec.federationAddress '" + raw + "' must be an https URL with a host (the "
            + "peer control plane's --bundle-port), e.g. https://cp.mesh2.example:15090/");
      }
    } catch (URISyntaxException e) {
      problems.add(where + ": field spec.federationAddress is not a URL: " + e.getMessage());
    }
    String endpointId = spec.has("endpointSPIFFEID") ? spec.path("endpointSPIFFEID").asText("")
        : "spiffe://" + td + "/ns/" + systemNamespace + "/sa/istiod";
    if (!MeshNames.isSpiffeIdIn(endpointId, td)) {
      problems.add(where + ": field spec.endpointSPIFFEID '" + endpointId + "' must be a SPIFFE id in trust domain "
          + td);
    }
    TreeSet<MeshPeer.Gateway> gateways = new TreeSet<>();
    JsonNode gw = spec.path("gateways");
    if (!gw.isMissingNode() && !gw.isArray()) {
      problems.add(where + ": field spec.gateways must be a list of IP:PORT");
    } else if (gw.size() > MAX_GATEWAYS) {
      problems.add(where + ": field spec.gateways has " + gw.size() + " entries; at most " + MAX_GATEWAYS);
    } else {
      for (int i = 0; i < gw.size(); i++) {
        try {
          if (!gw.get(i).isTextual()) throw new IllegalArgumentException("not a string IP:PORT");
          gateways.add(MeshNames.gateway(gw.get(i).asText()));
        } catch (IllegalArgumentException e) {
          problems.add(where + ": field spec.gateways[" + i + "]: " + e.getMessage());
        }
      }
    }
    if (!problems.isEmpty()) return new Result(null, problems);
    return new Result(new MeshPeer(meshId, td, url, endpointId, List.copyOf(gateways), where), List.of());
  }
}
