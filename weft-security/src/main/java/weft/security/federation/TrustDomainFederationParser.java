package weft.security.federation;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import weft.security.ca.CaException;
import weft.security.ca.Pem;

/**
 * Reads a {@code weft.dev/v1alpha1 TrustDomainFederation}, modelled on SPIRE's
 * ClusterFederatedTrustDomain:
 *
 * <pre>
 * apiVersion: weft.dev/v1alpha1
 * kind: TrustDomainFederation
 * metadata: {name: mesh2}
 * spec:
 *   trustDomain: mesh2.example
 *   bundleEndpointURL: https://bundles.mesh2.example:8443/
 *   bundleEndpointProfile:
 *     type: https_spiffe            # or https_web
 *     endpointSPIFFEID: spiffe://mesh2.example/ns/istio-system/sa/istiod
 *   trustDomainBundle: |            # https_spiffe only: SPIFFE bundle JSON, or PEM roots
 *     {"keys": [...]}
 * </pre>
 *
 * A resource with a problem yields no peer and messages naming the field; nothing throws.
 */
public final class TrustDomainFederationParser {
  public static final String API_VERSION = "weft.dev/v1alpha1";
  public static final String KIND = "TrustDomainFederation";
  // SPIFFE ID spec: a trust domain is lower-case letters, digits, '.', '-' and '_'.
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
  private static final Set<String> SPEC_FIELDS = Set.of("trustDomain", "bundleEndpointURL", "bundleEndpointProfile",
      "trustDomainBundle", "className");

  /** One resource read: the peer, or null with the reasons. */
  public record Result(FederatedPeer peer, List<String> problems) {}

  private TrustDomainFederationParser() {}

  public static boolean isTrustDomainFederation(JsonNode doc) {
    return doc != null && doc.isObject() && KIND.equals(doc.path("kind").asText())
        && doc.path("apiVersion").asText().startsWith("weft.dev/");
  }

  /** @param file where the document came from, for messages */
  public static Result parse(JsonNode doc, String file) {
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
    String td = spec.path("trustDomain").asText("");
    if (!TRUST_DOMAIN.matcher(td).matches()) {
      problems.add(where + ": field spec.trustDomain '" + td + "' is not a SPIFFE trust domain (lower-case letters, "
          + "digits, '.', '-', '_')");
    }
    URI url = null;
    String rawUrl = spec.path("bundleEndpointURL").asText("");
    try {
      url = new URI(rawUrl);
      if (!"https".equals(url.getScheme()) || url.getHost() == null) {
        problems.add(where + ": field spec.bundleEndpointURL '" + rawUrl + "' must be an https URL with a host");
      }
    } catch (URISyntaxException e) {
      problems.add(where + ": field spec.bundleEndpointURL is not a URL: " + e.getMessage());
    }
    JsonNode profileNode = spec.path("bundleEndpointProfile");
    BundleEndpointProfile profile = null;
    try {
      profile = BundleEndpointProfile.parse(profileNode.path("type").asText(""));
    } catch (IllegalArgumentException e) {
      problems.add(where + ": field spec.bundleEndpointProfile.type: " + e.getMessage());
    }
    String endpointId = null;
    SpiffeBundle bootstrap = null;
    if (profile == BundleEndpointProfile.HTTPS_SPIFFE) {
      endpointId = profileNode.path("endpointSPIFFEID").asText("");
      if (!endpointId.startsWith("spiffe://" + td + "/")) {
        problems.add(where + ": field spec.bundleEndpointProfile.endpointSPIFFEID '" + endpointId + "' must be a "
            + "SPIFFE id in trust domain " + td + " (spiffe://" + td + "/...)");
      }
      String text = spec.path("trustDomainBundle").asText("");
      if (text.isBlank()) {
        problems.add(where + ": field spec.trustDomainBundle is required for https_spiffe: the peer's bundle "
            + "(SPIFFE bundle JSON or PEM roots) that the first fetch is checked against");
      } else {
        try {
          bootstrap = bootstrap(td, text);
        } catch (BundleException e) {
          problems.add(where + ": field spec.trustDomainBundle: " + e.getMessage());
        }
      }
    } else if (profile == BundleEndpointProfile.HTTPS_WEB
        && (profileNode.has("endpointSPIFFEID") || spec.has("trustDomainBundle"))) {
      problems.add(where + ": https_web checks the endpoint with Web PKI roots; endpointSPIFFEID and "
          + "trustDomainBundle belong to https_spiffe");
    }
    if (!problems.isEmpty()) return new Result(null, problems);
    return new Result(new FederatedPeer(td, url, profile, endpointId, bootstrap, where), List.of());
  }

  private static SpiffeBundle bootstrap(String td, String text) throws BundleException {
    if (text.strip().startsWith("-----BEGIN")) {
      try {
        List<X509Certificate> roots = Pem.parseCertificates(text, null);
        if (roots.isEmpty()) throw new BundleException("holds no certificate");
        return new SpiffeBundle(td, roots, 0, Duration.ZERO);
      } catch (CaException e) {
        throw new BundleException(e.getMessage());
      }
    }
    return SpiffeBundle.parse(td, text.getBytes(StandardCharsets.UTF_8), Duration.ZERO);
  }
}
