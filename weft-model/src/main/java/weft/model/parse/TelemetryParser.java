package weft.model.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.Telemetry;

/**
 * A {@code telemetry.istio.io} Telemetry (v1, v1alpha1), checked field by field against Istio's schema
 * (telemetry/v1/telemetry.proto) and its CRD rules. Metrics overrides are read and checked, then
 * accepted with one warning: they configure Istio's {@code istio.stats} filter, which exists only in
 * Istio's Envoy build.
 */
final class TelemetryParser {
  /** Istio's WorkloadMode names, in enum number order. */
  private static final List<String> MODES = List.of("CLIENT_AND_SERVER", "CLIENT", "SERVER");
  /** Istio's MetricSelector.IstioMetric names, in enum number order. */
  private static final List<String> METRICS = List.of("ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION",
      "REQUEST_SIZE", "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES",
      "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES");
  private static final List<String> TAG_OPERATIONS = List.of("UPSERT", "REMOVE");
  /** Istio's CRD limit on targetRefs. */
  private static final int MAX_TARGET_REFS = 16;
  /** What a Telemetry may be attached to (Istio's CRD rule); the core group is written "". */
  private static final Set<String> TARGET_KINDS = Set.of("/Service", "networking.istio.io/ServiceEntry",
      "gateway.networking.k8s.io/Gateway", "gateway.networking.k8s.io/GatewayClass");

  private TelemetryParser() {}

  static Telemetry parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    boolean selectorSet = spec.has("selector");
    Map<String, String> selector = SecurityChecks.selector(spec);
    List<Telemetry.TargetRef> targets = targetRefs(spec, selectorSet);
    List<Telemetry.AccessLogging> logging = new ArrayList<>();
    for (Fields l : spec.objects("accessLogging")) logging.add(accessLogging(l));
    List<Telemetry.Tracing> tracing = new ArrayList<>();
    for (Fields t : spec.objects("tracing")) tracing.add(tracing(t));
    List<Fields> metrics = spec.objects("metrics");
    for (Fields m : metrics) metrics(m);
    if (!metrics.isEmpty()) {
      report.warn(spec.at("metrics"), spec.at("metrics") + " is accepted but has no effect in Weft: metric overrides "
          + "configure Istio's istio.stats filter, which exists only in Istio's build of Envoy (stock Envoy and "
          + "proxyless gRPC have no such filter); read metrics from the proxies' own statistics instead");
    }
    spec.rejectUnknown("Telemetry");
    return new Telemetry(d.id(), selector, targets, logging, tracing, metrics.size());
  }

  private static List<Telemetry.TargetRef> targetRefs(Fields spec, boolean selectorSet) {
    Report report = spec.report();
    boolean singleSet = spec.has("targetRef");
    List<Telemetry.TargetRef> refs = new ArrayList<>();
    Fields single = spec.object("targetRef");
    if (single.present()) refs.add(targetRef(single));
    List<Fields> list = spec.objects("targetRefs");
    for (Fields t : list) refs.add(targetRef(t));
    if (list.size() > MAX_TARGET_REFS) {
      report.error(spec.at("targetRefs"), spec.at("targetRefs") + " has " + list.size() + " entries; Istio allows at "
          + "most " + MAX_TARGET_REFS + "; split the Telemetry");
    }
    int set = (selectorSet ? 1 : 0) + (singleSet ? 1 : 0) + (list.isEmpty() ? 0 : 1);
    if (set > 1) {
      report.error(selectorSet ? spec.at("selector") : spec.at("targetRef"), "only one of selector, targetRef and "
          + "targetRefs can be set; split the Telemetry in two");
    }
    for (Telemetry.TargetRef r : refs) {
      if (!(r.group() + "/" + r.kind()).equals("gateway.networking.k8s.io/Gateway")) {
        report.warn(singleSet ? spec.at("targetRef") : spec.at("targetRefs"), "a Telemetry attached to "
            + r.kind() + " " + r.name() + " applies to waypoint proxies in Istio, which Weft does not run; it has "
            + "no effect in Weft (attach it to a Gateway, or select workloads by label)");
      }
    }
    return refs;
  }

  private static Telemetry.TargetRef targetRef(Fields t) {
    Report report = t.report();
    String group = t.string("group", "");
    String kind = t.string("kind", "");
    String name = t.string("name", "");
    String namespace = t.string("namespace", "");
    t.rejectUnknown("PolicyTargetReference");
    if (kind.isEmpty() || !TARGET_KINDS.contains(group + "/" + kind)) {
      report.error(t.at("kind"), "a Telemetry cannot be attached to " + (group.isEmpty() ? "" : group + "/")
          + (kind.isEmpty() ? "nothing" : kind) + "; Istio supports Gateway and GatewayClass (group "
          + "gateway.networking.k8s.io), Service (group \"\") and ServiceEntry (group networking.istio.io)");
    }
    if (name.isEmpty()) report.error(t.at("name"), t.at("name") + " is missing; name the resource it is attached to");
    if (!namespace.isEmpty()) {
      report.error(t.at("namespace"), t.at("namespace") + " must not be set: a Telemetry is attached to resources "
          + "of its own namespace only");
    }
    return new Telemetry.TargetRef(group, kind, name);
  }

  private static List<String> providers(Fields f) {
    List<String> names = new ArrayList<>();
    for (Fields p : f.objects("providers")) {
      String name = p.string("name", "");
      p.rejectUnknown("ProviderRef");
      if (name.isEmpty()) {
        p.report().error(p.at("name"), p.at("name") + " is missing; name a MeshConfig extensionProviders entry");
      } else {
        names.add(name);
      }
    }
    return names;
  }

  private static Telemetry.Mode mode(Fields match) {
    String mode = match.enumOf("mode", MODES, "CLIENT_AND_SERVER");
    return mode == null ? Telemetry.Mode.CLIENT_AND_SERVER : Telemetry.Mode.valueOf(mode);
  }

  private static Telemetry.AccessLogging accessLogging(Fields l) {
    List<String> providers = providers(l);
    Boolean disabled = l.bool("disabled");
    Fields filter = l.object("filter");
    String expression = filter.string("expression");
    filter.rejectUnknown("AccessLogging.Filter");
    if (filter.present() && (expression == null || expression.isBlank())) {
      l.report().error(filter.at("expression"), filter.at("expression") + " is missing or empty; write a CEL "
          + "expression such as response.code >= 400, or remove the filter");
      expression = null;
    }
    Fields match = l.object("match");
    Telemetry.Mode mode = mode(match);
    match.rejectUnknown("AccessLogging.LogSelector");
    l.rejectUnknown("AccessLogging");
    return new Telemetry.AccessLogging(providers, disabled, expression, mode);
  }

  private static Telemetry.Tracing tracing(Fields t) {
    Report report = t.report();
    List<String> providers = providers(t);
    Fields match = t.object("match");
    Telemetry.Mode mode = mode(match);
    match.rejectUnknown("Tracing.TracingSelector");
    Double sampling = t.number("randomSamplingPercentage");
    if (sampling != null && (sampling < 0 || sampling > 100)) {
      report.error(t.at("randomSamplingPercentage"), t.at("randomSamplingPercentage") + " must be between 0 and 100, "
          + "got " + sampling);
      sampling = null;
    }
    Boolean disable = t.bool("disableSpanReporting");
    Boolean requestId = t.bool("useRequestIdForTraceSampling");
    Map<String, Telemetry.CustomTag> tags = null;
    if (t.has("customTags")) {
      tags = new LinkedHashMap<>();
      for (Map.Entry<String, Fields> e : t.objectMap("customTags").entrySet()) {
        Telemetry.CustomTag tag = customTag(e.getValue());
        if (tag != null) tags.put(e.getKey(), tag);
      }
    } else {
      t.take("customTags");
    }
    t.notImplemented("enableIstioTags");
    t.rejectUnknown("Tracing");
    return new Telemetry.Tracing(providers, mode, sampling, disable, tags, requestId);
  }

  private static Telemetry.CustomTag customTag(Fields c) {
    Report report = c.report();
    Fields literal = c.object("literal");
    Fields env = c.object("environment");
    Fields header = c.object("header");
    String value = literal.string("value");
    literal.rejectUnknown("Tracing.Literal");
    String envName = env.string("name");
    String envDefault = env.string("defaultValue");
    env.rejectUnknown("Tracing.Environment");
    String headerName = header.string("name");
    String headerDefault = header.string("defaultValue");
    header.rejectUnknown("Tracing.RequestHeader");
    // Newer Istio tag kinds (a formatter string, request metadata): accepted, reported, and left out.
    boolean other = c.has("formatter") || c.has("metadata");
    c.warnIfSet("is not implemented by Weft yet; this tag is left out", "formatter", "metadata");
    c.rejectUnknown("Tracing.CustomTag");
    int set = (literal.present() ? 1 : 0) + (env.present() ? 1 : 0) + (header.present() ? 1 : 0);
    if (set == 0 && other) return null;
    if (set != 1 || other) {
      report.error(c.path(), c.path() + " must set exactly one of literal, environment, header, formatter and "
          + "metadata; it sets " + (set + (other ? 1 : 0)));
      return null;
    }
    if (literal.present()) {
      if (value == null) report.error(literal.at("value"), literal.at("value") + " is missing");
      return value == null ? null : new Telemetry.CustomTag(value, null, null, null);
    }
    if (env.present()) {
      if (envName == null || envName.isEmpty()) {
        report.error(env.at("name"), env.at("name") + " is missing; name an environment variable of the proxy");
        return null;
      }
      return new Telemetry.CustomTag(null, envName, null, envDefault);
    }
    if (headerName == null || headerName.isEmpty()) {
      report.error(header.at("name"), header.at("name") + " is missing; name a request header");
      return null;
    }
    return new Telemetry.CustomTag(null, null, headerName, headerDefault);
  }

  /** Checked as Istio's schema says, then not used (see the class comment). */
  private static void metrics(Fields m) {
    providers(m);
    for (Fields o : m.objects("overrides")) {
      Fields match = o.object("match");
      match.enumOf("metric", METRICS, "ALL_METRICS");
      match.string("customMetric");
      match.enumOf("mode", MODES, "CLIENT_AND_SERVER");
      match.rejectUnknown("MetricSelector");
      o.bool("disabled");
      for (Fields tag : o.objectMap("tagOverrides").values()) {
        tag.enumOf("operation", TAG_OPERATIONS, "UPSERT");
        tag.string("value");
        tag.rejectUnknown("MetricsOverrides.TagOverride");
      }
      o.rejectUnknown("MetricsOverrides");
    }
    m.duration("reportingInterval", false);
    m.rejectUnknown("Metrics");
  }
}
