package weft.model.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.WasmPlugin;

/**
 * An {@code extensions.istio.io/v1alpha1} WasmPlugin, checked against Istio's schema
 * (extensions/v1alpha1/wasm.proto) and validation (a url is required; sha256 is 64 hex digits; the
 * plugin config is a JSON object). Whether a proxy can load the module (an OCI image needs Istio's
 * agent) is decided per proxy in weft-xds.
 */
final class WasmPluginParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> PHASES = List.of("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS");
  private static final List<String> FAIL = List.of("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD");
  private static final List<String> TYPES = List.of("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK");
  private static final List<String> MODES = List.of("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER");
  private static final List<String> PULL = List.of("UNSPECIFIED_POLICY", "IfNotPresent", "Always");

  private WasmPluginParser() {}

  static WasmPlugin parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    boolean selectorSet = spec.has("selector");
    Map<String, String> selector = SecurityChecks.selector(spec);
    List<String> targetRefs = AuthorizationPolicyParser.targetRefs(spec, selectorSet);
    String url = spec.string("url");
    if (url == null || url.isEmpty()) {
      report.error(spec.at("url"), spec.at("url") + " is missing; give the module's URL (https://, file:// or oci://)");
      url = "";
    } else {
      checkUrl(report, spec.at("url"), url);
    }
    String sha256 = spec.string("sha256", "");
    if (!sha256.isEmpty() && !sha256.matches("[0-9a-fA-F]{64}")) {
      report.error(spec.at("sha256"), spec.at("sha256") + " must be 64 hexadecimal digits (a SHA-256 digest), got "
          + Checks.quote(sha256));
    }
    String pluginName = spec.string("pluginName", "");
    String phase = spec.enumOf("phase", PHASES, "UNSPECIFIED_PHASE");
    Long priority = spec.has("priority")
        ? spec.integerIn("priority", Integer.MIN_VALUE, Integer.MAX_VALUE, "use a 32-bit number") : null;
    JsonNode config = spec.take("pluginConfig");
    String configJson = null;
    if (config != null) {
      if (!config.isObject()) {
        report.error(spec.at("pluginConfig"), spec.at("pluginConfig") + " must be a mapping (JSON object), got "
            + Fields.describe(config));
      } else {
        try {
          configJson = JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
          report.error(spec.at("pluginConfig"), spec.at("pluginConfig") + " could not be read: " + e.getOriginalMessage());
        }
      }
    }
    String fail = spec.enumOf("failStrategy", FAIL, "FAIL_CLOSE");
    String type = spec.enumOf("type", TYPES, "UNSPECIFIED_PLUGIN_TYPE");
    String pull = spec.enumOf("imagePullPolicy", PULL, "UNSPECIFIED_POLICY");
    if (pull != null && !pull.equals("UNSPECIFIED_POLICY")) {
      report.warn(spec.at("imagePullPolicy"), spec.at("imagePullPolicy") + " is ignored by Weft: it applies to OCI "
          + "images, which Istio's agent pulls and Weft does not");
    }
    spec.warnIfSet("is ignored by Weft: it is used to pull OCI images, which Weft does not", "imagePullSecret");
    spec.warnIfSet("is deprecated in Istio; give the module's sha256 instead", "verificationKey");
    List<WasmPlugin.TrafficSelector> match = new ArrayList<>();
    for (Fields m : spec.objects("match")) {
      String mode = m.enumOf("mode", MODES, "UNDEFINED");
      List<Integer> ports = new ArrayList<>();
      for (Fields p : m.objects("ports")) {
        Integer n = p.port("number");
        if (n == null) {
          report.error(p.at("number"), p.at("number") + " is missing; a port selector names a port number");
        } else {
          ports.add(n);
        }
        p.rejectUnknown("PortSelector");
      }
      m.rejectUnknown("TrafficSelector");
      match.add(new WasmPlugin.TrafficSelector(mode == null ? "UNDEFINED" : mode, ports));
    }
    Map<String, String> env = vmEnv(spec.object("vmConfig"));
    spec.rejectUnknown("WasmPlugin");
    return new WasmPlugin(d.id(), selector, targetRefs, url, sha256.toLowerCase(java.util.Locale.ROOT), pluginName,
        phase == null ? "UNSPECIFIED_PHASE" : phase, priority == null ? null : priority.intValue(), configJson,
        fail == null ? "FAIL_CLOSE" : fail, type == null ? "UNSPECIFIED_PLUGIN_TYPE" : type, match, env);
  }

  private static void checkUrl(Report report, String where, String url) {
    if (!url.contains("://")) return; // an OCI reference without scheme, as Istio reads it
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!List.of("http", "https", "file", "oci").contains(scheme)) {
        report.error(where, where + " has scheme " + Checks.quote(scheme) + "; use https://, http://, file:// or oci://");
      } else if ((scheme.equals("http") || scheme.equals("https")) && (uri.getHost() == null || uri.getHost().isEmpty())) {
        report.error(where, where + " " + Checks.quote(url) + " names no host");
      }
    } catch (URISyntaxException e) {
      report.error(where, where + " " + Checks.quote(url) + " is not a valid URL: " + e.getReason());
    }
  }

  /** vmConfig.env: INLINE values are kept; HOST values (read from the proxy's environment) are reported. */
  private static Map<String, String> vmEnv(Fields vm) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Fields e : vm.objects("env")) {
      String name = e.string("name");
      String from = e.enumOf("valueFrom", List.of("INLINE", "HOST"), "INLINE");
      String value = e.string("value", "");
      e.rejectUnknown("EnvVar");
      if (name == null || name.isEmpty()) {
        e.report().error(e.at("name"), e.at("name") + " is missing; every env entry has a name");
      } else if ("HOST".equals(from)) {
        e.report().warn(e.at("valueFrom"), e.at("valueFrom") + " HOST is not sent by Weft (the value would come from "
            + "the proxy's own environment); " + name + " is left out");
      } else {
        out.put(name, value);
      }
    }
    vm.rejectUnknown("VmConfig");
    return out;
  }
}
