package weft.model.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import weft.model.EnvoyFilter;

/**
 * A {@code networking.istio.io/v1alpha3} EnvoyFilter, checked against Istio's schema
 * (networking/v1alpha3/envoy_filter.proto) and its validation (pkg/config/validation: an operation
 * the applyTo cannot take, a REMOVE with a value, a missing value). Patch values are kept as JSON text:
 * whether they are valid Envoy protos is decided where the Envoy types are known (weft-xds), and a bad
 * one is reported there per proxy, never by rejecting the resource (Istio accepts it too).
 */
final class EnvoyFilterParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> APPLY_TO = List.of("INVALID", "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER",
      "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE", "CLUSTER", "EXTENSION_CONFIG", "BOOTSTRAP",
      "LISTENER_FILTER");
  static final List<String> OPERATIONS = List.of("INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER",
      "INSERT_FIRST", "REPLACE");
  private static final List<String> CONTEXTS = List.of("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY");
  private static final List<String> FILTER_CLASSES = List.of("UNSPECIFIED", "AUTHN", "AUTHZ", "STATS");
  private static final List<String> ROUTE_ACTIONS = List.of("ANY", "ROUTE", "REDIRECT", "DIRECT_RESPONSE");

  private EnvoyFilterParser() {}

  static EnvoyFilter parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Map<String, String> selector = null;
    boolean selectorSet = spec.has("workloadSelector");
    Fields ws = spec.object("workloadSelector");
    if (ws.present()) {
      Map<String, String> labels = ws.stringMap("labels");
      ws.rejectUnknown("WorkloadSelector");
      Checks.workloadSelector(report, ws.at("labels"), labels);
      selector = labels.isEmpty() ? null : labels;
    }
    List<String> targetRefs = AuthorizationPolicyParser.targetRefs(spec, selectorSet);
    Long priority = spec.integerIn("priority", Integer.MIN_VALUE, Integer.MAX_VALUE, "use a 32-bit number");
    List<EnvoyFilter.Patch> patches = new ArrayList<>();
    List<Fields> entries = spec.objects("configPatches");
    for (int i = 0; i < entries.size(); i++) {
      EnvoyFilter.Patch p = patch(entries.get(i), i);
      if (p != null) patches.add(p);
    }
    spec.rejectUnknown("EnvoyFilter");
    return new EnvoyFilter(d.id(), selector, targetRefs, priority == null ? 0 : priority.intValue(),
        created(d), patches);
  }

  /** metadata.creationTimestamp (RFC 3339, set by the API server), in seconds; 0 when absent or unreadable. */
  private static long created(Document d) {
    JsonNode meta = d.root().object("metadata").take("creationTimestamp");
    if (meta == null || !meta.isTextual()) return 0;
    try {
      return Instant.parse(meta.textValue()).getEpochSecond();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }

  private static EnvoyFilter.Patch patch(Fields cp, int index) {
    Report report = cp.report();
    String applyTo = cp.enumOf("applyTo", APPLY_TO, "INVALID");
    EnvoyFilter.Match match = match(cp.object("match"));
    Fields patch = cp.object("patch");
    String operation = patch.enumOf("operation", OPERATIONS, "INVALID");
    JsonNode value = patch.take("value");
    String filterClass = patch.enumOf("filterClass", FILTER_CLASSES, "UNSPECIFIED");
    patch.rejectUnknown("Patch");
    cp.rejectUnknown("EnvoyConfigObjectPatch");
    if (applyTo == null || operation == null) return null;
    String where = cp.path();
    if (applyTo.equals("INVALID")) {
      report.error(cp.at("applyTo"), cp.at("applyTo") + " is missing; name what the patch applies to, e.g. "
          + "applyTo: HTTP_FILTER");
      return null;
    }
    if (operation.equals("INVALID")) {
      report.error(patch.at("operation"), patch.at("operation") + " is missing; e.g. operation: MERGE");
      return null;
    }
    if (operation.equals("REMOVE") && value != null) {
      report.error(patch.at("value"), patch.at("value") + " is set on a REMOVE patch, which takes no value; remove it");
      return null;
    }
    if (!operation.equals("REMOVE") && value == null) {
      report.error(patch.at("value"), where + ": a " + operation + " patch needs a value (the Envoy config to "
          + operation.toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ")");
      return null;
    }
    if (value != null && !value.isObject()) {
      report.error(patch.at("value"), patch.at("value") + " must be a mapping (an Envoy config object), got "
          + Fields.describe(value));
      return null;
    }
    if (!"UNSPECIFIED".equals(filterClass) && !operation.equals("INSERT_FIRST") && !operation.equals("INSERT_BEFORE")
        && !operation.equals("INSERT_AFTER") && !operation.equals("ADD")) {
      report.warn(patch.at("filterClass"), patch.at("filterClass") + " is read only for ADD and INSERT_* patches");
    }
    String wrongMatch = matchKind(applyTo, match);
    if (wrongMatch != null) {
      report.error(cp.at("match"), where + ": " + wrongMatch);
      return null;
    }
    String bad = allowed(applyTo, operation);
    if (bad != null) {
      report.error(patch.at("operation"), where + ": " + bad);
      return null;
    }
    String json;
    try {
      json = value == null ? null : JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      report.error(patch.at("value"), patch.at("value") + " could not be read: " + e.getOriginalMessage());
      return null;
    }
    return new EnvoyFilter.Patch(index, applyTo, match, operation, json, filterClass);
  }

  /** Istio's validation: a listener-class patch takes only a listener match, and so on; null when fine. */
  private static String matchKind(String applyTo, EnvoyFilter.Match m) {
    String need = switch (applyTo) {
      case "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER", "LISTENER_FILTER" -> "listener";
      case "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE" -> "routeConfiguration";
      case "CLUSTER" -> "cluster";
      default -> null;
    };
    if (need == null) return null;
    boolean other = switch (need) {
      case "listener" -> m.routeConfiguration() != null || m.cluster() != null;
      case "routeConfiguration" -> m.listener() != null || m.cluster() != null;
      default -> m.listener() != null || m.routeConfiguration() != null;
    };
    return other ? "a patch applied to " + applyTo + " can only match on " + need : null;
  }

  /** Istio's validation of applyTo against operation; null when allowed. */
  private static String allowed(String applyTo, String op) {
    boolean ok = switch (applyTo) {
      case "LISTENER", "CLUSTER" -> List.of("MERGE", "ADD", "REMOVE", "REPLACE").contains(op);
      case "FILTER_CHAIN" -> List.of("MERGE", "ADD", "REMOVE", "REPLACE", "INSERT_FIRST").contains(op);
      case "ROUTE_CONFIGURATION" -> List.of("MERGE", "ADD", "REPLACE").contains(op);
      case "VIRTUAL_HOST" -> List.of("MERGE", "ADD", "REMOVE", "REPLACE").contains(op);
      case "EXTENSION_CONFIG" -> List.of("MERGE", "ADD", "REPLACE").contains(op);
      case "BOOTSTRAP" -> op.equals("MERGE");
      default -> true; // NETWORK_FILTER, HTTP_FILTER, HTTP_ROUTE, LISTENER_FILTER take every operation
    };
    return ok ? null : "operation " + op + " cannot be applied to " + applyTo;
  }

  private static EnvoyFilter.Match match(Fields m) {
    if (!m.present()) return EnvoyFilter.Match.ANY;
    String context = m.enumOf("context", CONTEXTS, "ANY");
    Fields proxy = m.object("proxy");
    String version = proxy.string("proxyVersion");
    if (version != null) {
      try {
        java.util.regex.Pattern.compile(version);
      } catch (java.util.regex.PatternSyntaxException e) {
        m.report().error(proxy.at("proxyVersion"), proxy.at("proxyVersion") + " is not a valid regular expression: "
            + e.getDescription());
      }
    }
    Map<String, String> metadata = proxy.stringMap("metadata");
    proxy.rejectUnknown("ProxyMatch");
    EnvoyFilter.ListenerMatch listener = null;
    EnvoyFilter.RouteMatch route = null;
    EnvoyFilter.ClusterMatch cluster = null;
    int set = 0;
    Fields l = m.object("listener");
    if (l.present()) {
      set++;
      Integer port = l.port("portNumber");
      l.warnIfSet("is deprecated in Istio and ignored", "portName");
      String name = l.string("name");
      String listenerFilter = l.string("listenerFilter");
      EnvoyFilter.ChainMatch chain = null;
      Fields fc = l.object("filterChain");
      if (fc.present()) {
        Fields f = fc.object("filter");
        String filter = f.string("name");
        Fields subFilter = f.object("subFilter");
        String sub = subFilter.string("name");
        subFilter.rejectUnknown("SubFilterMatch");
        f.rejectUnknown("FilterMatch");
        Integer dport = fc.port("destinationPort");
        chain = new EnvoyFilter.ChainMatch(fc.string("name"), fc.string("sni"), fc.string("transportProtocol"),
            fc.string("applicationProtocols"), dport == null ? 0 : dport, filter, sub);
        fc.rejectUnknown("FilterChainMatch");
      }
      l.rejectUnknown("ListenerMatch");
      listener = new EnvoyFilter.ListenerMatch(port == null ? 0 : port, name, chain, listenerFilter);
    }
    Fields r = m.object("routeConfiguration");
    if (r.present()) {
      set++;
      Integer port = r.port("portNumber");
      Fields vhost = r.object("vhost");
      Fields rt = vhost.object("route");
      String action = rt.enumOf("action", ROUTE_ACTIONS, "ANY");
      route = new EnvoyFilter.RouteMatch(port == null ? 0 : port, r.string("portName"), r.string("gateway"),
          r.string("name"), vhost.string("name"), vhost.string("domainName"), rt.string("name"), action);
      rt.rejectUnknown("RouteMatch");
      vhost.rejectUnknown("VirtualHostMatch");
      r.rejectUnknown("RouteConfigurationMatch");
    }
    Fields c = m.object("cluster");
    if (c.present()) {
      set++;
      Integer port = c.port("portNumber");
      cluster = new EnvoyFilter.ClusterMatch(port == null ? 0 : port, c.string("service"), c.string("subset"),
          c.string("name"));
      c.rejectUnknown("ClusterMatch");
    }
    m.rejectUnknown("EnvoyConfigObjectMatch");
    if (set > 1) {
      m.report().error(m.path(), m.path() + " sets more than one of listener, routeConfiguration and cluster; "
          + "a match names one kind of object");
    }
    return new EnvoyFilter.Match(context == null ? "ANY" : context, version, metadata, listener, route, cluster);
  }
}
