package weft.model.parse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import weft.model.GatewayRoute;
import weft.model.GatewayRoute.BackendRef;
import weft.model.GatewayRoute.Filter;
import weft.model.GatewayRoute.Match;
import weft.model.GatewayRoute.ParentRef;
import weft.model.GatewayRoute.Rule;
import weft.model.GatewayRoute.ValueMatch;
import weft.model.KubernetesGateway;
import weft.model.ReferenceGrant;

/**
 * The Kubernetes Gateway API kinds Istio reads: Gateway, HTTPRoute and GRPCRoute ({@code v1}),
 * ReferenceGrant ({@code v1beta1}), TCPRoute and TLSRoute ({@code v1alpha2}). Checked field by field
 * against the API's schema and its validation rules (maximum list sizes, enums, patterns), the way
 * the API server would, since a file never went through one: a value the schema refuses rejects the
 * resource alone; a field the schema has and Weft does not act on is one warning.
 */
final class GatewayApiParser {
  static final String GROUP = "gateway.networking.k8s.io";
  /** Gateway API's SectionName and listener names: a DNS-1123 subdomain-like name. */
  private static final Pattern SECTION_NAME = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  /** Gateway API's Hostname: a DNS name, optionally with a leading {@code *.} label, no IPs. */
  private static final Pattern HOSTNAME =
      Pattern.compile("^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  /** Gateway API's Duration (GEP-2257): one to four number-unit pairs of h, m, s or ms. */
  private static final Pattern DURATION = Pattern.compile("^([0-9]{1,5}(h|m|s|ms)){1,4}$");
  private static final Pattern HEADER_NAME = Pattern.compile("^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$");
  private static final List<String> METHODS =
      List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");
  private static final List<String> PATH_TYPES = List.of("Exact", "PathPrefix", "RegularExpression");
  private static final List<String> VALUE_TYPES = List.of("Exact", "RegularExpression");
  private static final List<String> HTTP_FILTERS = List.of("RequestHeaderModifier", "ResponseHeaderModifier",
      "RequestMirror", "RequestRedirect", "URLRewrite", "ExtensionRef", "CORS");
  private static final List<String> GRPC_FILTERS = List.of("RequestHeaderModifier", "ResponseHeaderModifier",
      "RequestMirror", "ExtensionRef");
  private static final List<String> REDIRECT_CODES = List.of("301", "302", "303", "307", "308");
  private static final Set<String> STANDARD_PROTOCOLS = Set.of("HTTP", "HTTPS", "TLS", "TCP", "UDP");
  /** The API's ProtocolType: a token (Istio's waypoints use HBONE) or a domain-prefixed name. */
  private static final Pattern PROTOCOL = Pattern.compile("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?"
      + "|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]+");
  /** The API's list limits ({@code maxItems} in its CRDs). */
  private static final int MAX_PARENTS = 32;
  private static final int MAX_HOSTNAMES = 16;
  private static final int MAX_RULES = 16;
  private static final int MAX_MATCHES = 64;
  private static final int MAX_SMALL = 16;
  private static final int MAX_LISTENERS = 64;

  private GatewayApiParser() {}

  // ---- Gateway ----

  static KubernetesGateway gateway(Document d) {
    Fields spec = spec(d, "a Gateway needs spec.gatewayClassName and spec.listeners");
    String className = spec.string("gatewayClassName");
    if (className == null || className.isEmpty()) {
      d.report().error(spec.at("gatewayClassName"), spec.at("gatewayClassName") + " is required; name the "
          + "GatewayClass, e.g. istio");
    }
    List<Fields> listenerFields = limited(spec, "listeners", MAX_LISTENERS);
    // Newer releases let a Gateway take its listeners from ListenerSets (allowedListeners), which
    // Weft does not read: an empty list is accepted and the Gateway serves nothing.
    if (listenerFields.isEmpty() && !d.report().hasErrors()) {
      d.report().warn(spec.at("listeners"), spec.at("listeners") + " is empty: the Gateway serves nothing (listeners "
          + "of ListenerSets are not read by Weft)");
    }
    List<KubernetesGateway.Listener> listeners = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> portHosts = new HashSet<>();
    for (Fields l : listenerFields) {
      String name = required(l, "name");
      if (name != null && !SECTION_NAME.matcher(name).matches()) {
        l.report().error(l.at("name"), l.at("name") + " " + Checks.quote(name) + " is not a valid listener name "
            + "(lower-case letters, digits, '-' and '.'); rename it");
      } else if (name != null && !names.add(name)) {
        l.report().error(l.at("name"), l.at("name") + " " + Checks.quote(name) + " is used by another listener; "
            + "listener names of a Gateway must differ");
      }
      String hostname = hostname(l, "hostname");
      Integer port = l.port("port");
      if (!l.has("port") && port == null) {
        l.report().error(l.at("port"), l.at("port") + " is required; give a number from 1 to 65535");
      }
      String protocol = required(l, "protocol");
      if (protocol != null && !STANDARD_PROTOCOLS.contains(protocol) && !PROTOCOL.matcher(protocol).matches()) {
        l.report().error(l.at("protocol"), l.at("protocol") + " " + Checks.quote(protocol) + " is not a Gateway "
            + "API protocol; use HTTP, HTTPS, TLS, TCP or UDP (or a domain-prefixed name)");
      }
      if (port != null && protocol != null && !portHosts.add(port + "|" + protocol + "|" + hostname)) {
        l.report().error(l.at("hostname"), "listeners on port " + port + " with protocol " + protocol
            + " must differ in hostname; " + l.path() + " repeats another listener's");
      }
      Fields tls = l.object("tls");
      String mode = null;
      List<KubernetesGateway.ObjectRef> certs = new ArrayList<>();
      if (tls.present()) {
        mode = tls.enumOf("mode", List.of("Terminate", "Passthrough"), "Terminate");
        for (Fields c : limited(tls, "certificateRefs", MAX_LISTENERS)) {
          String group = c.string("group", "");
          String kind = c.string("kind", "Secret");
          String ref = required(c, "name");
          String ns = namespace(c, d.namespace());
          c.rejectUnknown("SecretObjectReference");
          if (ref != null) certs.add(new KubernetesGateway.ObjectRef(group, kind, ns, ref));
        }
        if ("Passthrough".equals(mode) && !certs.isEmpty()) {
          tls.report().error(tls.at("certificateRefs"), tls.at("certificateRefs") + " must be empty in Passthrough "
              + "mode (the backend terminates TLS); remove them or use mode Terminate");
        }
        tls.notImplemented("options", "frontendValidation");
        tls.rejectUnknown("GatewayTLSConfig");
      }
      if (protocol != null && (protocol.equals("HTTPS") || protocol.equals("TLS")) && mode == null) {
        l.report().error(l.at("tls"), l.path() + " with protocol " + protocol + " needs tls (mode and, to "
            + "terminate, certificateRefs)");
      }
      if ("HTTPS".equals(protocol) && "Passthrough".equals(mode)) {
        l.report().error(tls.at("mode"), tls.at("mode") + " Passthrough is not allowed with protocol HTTPS; use "
            + "protocol TLS to pass TLS through");
      }
      // The API's rule: Terminate needs certificateRefs or options (which Weft does not read; reported below).
      if ("Terminate".equals(mode) && certs.isEmpty() && !tls.has("options") && protocol != null
          && (protocol.equals("HTTPS") || protocol.equals("TLS"))) {
        tls.report().error(tls.at("certificateRefs"), tls.at("certificateRefs") + " must name the certificate's "
            + "Secret to terminate TLS");
      }
      Fields allowed = l.object("allowedRoutes");
      Fields namespaces = allowed.object("namespaces");
      String from = namespaces.enumOf("from", List.of("All", "Selector", "Same"), "Same");
      Map<String, String> selector = Map.of();
      List<weft.model.Labels.Requirement> expressions = new ArrayList<>();
      if (namespaces.has("selector")) {
        Fields sel = namespaces.object("selector");
        selector = sel.stringMap("matchLabels");
        selector.forEach((k, v) -> labelProblem(sel, k, v));
        for (Fields e : limited(sel, "matchExpressions", MAX_SMALL)) {
          String key = required(e, "key");
          String operator = e.enumOf("operator", List.of("In", "NotIn", "Exists", "DoesNotExist"), null);
          if (operator == null && !e.has("operator")) {
            e.report().error(e.at("operator"), e.at("operator") + " is required: In, NotIn, Exists or DoesNotExist");
          }
          List<String> values = e.strings("values");
          boolean needsValues = "In".equals(operator) || "NotIn".equals(operator);
          if (operator != null && needsValues == values.isEmpty()) {
            e.report().error(e.at("values"), e.at("values") + (needsValues ? " must not be empty" : " must be empty")
                + " with operator " + operator);
          }
          e.rejectUnknown("LabelSelectorRequirement");
          if (key != null && operator != null) expressions.add(new weft.model.Labels.Requirement(key, operator, values));
        }
        sel.rejectUnknown("LabelSelector");
      }
      if ("Selector".equals(from) && !namespaces.has("selector")) {
        namespaces.report().error(namespaces.at("selector"), namespaces.at("selector") + " is required when from "
            + "is Selector");
      }
      namespaces.rejectUnknown("RouteNamespaces");
      List<String> kinds = new ArrayList<>();
      for (Fields k : limited(allowed, "kinds", 8)) {
        String group = k.string("group", GROUP);
        String kind = required(k, "kind");
        k.rejectUnknown("RouteGroupKind");
        if (kind == null) continue;
        if (!GROUP.equals(group)) {
          k.report().warn(k.at("group"), k.path() + " allows " + group + "/" + kind + ", a kind Weft does not "
              + "read; no such route attaches");
        } else {
          kinds.add(kind);
        }
      }
      allowed.rejectUnknown("AllowedRoutes");
      l.rejectUnknown("Listener");
      if (name != null && port != null && protocol != null) {
        listeners.add(new KubernetesGateway.Listener(name, hostname, port, protocol, mode, certs, from, selector,
            kinds, expressions));
      }
    }
    spec.notImplemented("addresses", "infrastructure", "backendTLS", "allowedListeners", "tls", "defaultScope");
    spec.rejectUnknown("Gateway.spec");
    return new KubernetesGateway(withKind(d), created(d), className == null ? "" : className, listeners);
  }

  // ---- routes ----

  static GatewayRoute httpRoute(Document d) {
    return route(d, GatewayRoute.HTTP);
  }

  static GatewayRoute grpcRoute(Document d) {
    return route(d, GatewayRoute.GRPC);
  }

  static GatewayRoute tcpRoute(Document d) {
    return route(d, GatewayRoute.TCP);
  }

  static GatewayRoute tlsRoute(Document d) {
    return route(d, GatewayRoute.TLS);
  }

  private static GatewayRoute route(Document d, String kind) {
    Fields spec = spec(d, "a " + kind + " needs a spec with parentRefs and rules");
    List<ParentRef> parents = new ArrayList<>();
    for (Fields p : limited(spec, "parentRefs", MAX_PARENTS)) {
      String group = p.string("group", GROUP);
      String refKind = p.string("kind", "Gateway");
      String name = required(p, "name");
      String ns = namespace(p, d.namespace());
      String section = p.string("sectionName");
      if (section != null && !SECTION_NAME.matcher(section).matches()) {
        p.report().error(p.at("sectionName"), p.at("sectionName") + " " + Checks.quote(section) + " is not a valid "
            + "section name (lower-case letters, digits, '-' and '.')");
      }
      Integer port = p.port("port");
      p.rejectUnknown("ParentReference");
      if (name != null) parents.add(new ParentRef(group, refKind, ns, name, section, port == null ? 0 : port));
    }
    List<String> hostnames = new ArrayList<>();
    if (kind.equals(GatewayRoute.TCP)) {
      spec.take("hostnames"); // not in TCPRoute's schema: reported below as unknown
    } else {
      List<String> written = spec.strings("hostnames");
      if (written.size() > MAX_HOSTNAMES) tooMany(spec, "hostnames", MAX_HOSTNAMES);
      for (int i = 0; i < written.size(); i++) {
        String h = written.get(i);
        if (!HOSTNAME.matcher(h).matches() || h.length() > 253) {
          spec.report().error(spec.at("hostnames") + "[" + i + "]", spec.at("hostnames") + "[" + i + "] "
              + Checks.quote(h) + " is not a hostname: a lower-case DNS name, optionally starting with *. (no IP "
              + "addresses, no port)");
        } else {
          hostnames.add(h);
        }
      }
    }
    List<Rule> rules = new ArrayList<>();
    List<Fields> ruleFields = limited(spec, "rules", MAX_RULES);
    if (ruleFields.isEmpty() && (kind.equals(GatewayRoute.TCP) || kind.equals(GatewayRoute.TLS))) {
      spec.report().error(spec.at("rules"), spec.at("rules") + " must hold at least one rule with backendRefs");
    }
    for (Fields r : ruleFields) rules.add(rule(r, kind, d.namespace()));
    if (ruleFields.isEmpty() && (kind.equals(GatewayRoute.HTTP) || kind.equals(GatewayRoute.GRPC))) {
      // The API's default: one rule matching every request, with no backends (answered with 500).
      rules.add(new Rule(null, List.of(defaultMatch(kind)), List.of(), List.of(), null, null));
    }
    if (kind.equals(GatewayRoute.TCP) && ruleFields.size() > 1) {
      spec.report().warn(spec.at("rules"), spec.at("rules") + " has " + ruleFields.size() + " rules; a TCPRoute "
          + "without matches uses its first rule only, as Istio does");
    }
    spec.rejectUnknown(kind + ".spec");
    return new GatewayRoute(new weft.model.ResourceId(kind, d.id().namespace(), d.id().name()), created(d),
        parents, hostnames, rules);
  }

  private static Match defaultMatch(String kind) {
    return kind.equals(GatewayRoute.HTTP)
        ? new Match(new GatewayRoute.PathMatch("PathPrefix", "/"), List.of(), List.of(), null, null)
        : new Match(null, List.of(), List.of(), null, null);
  }

  private static Rule rule(Fields r, String kind, String namespace) {
    boolean http = kind.equals(GatewayRoute.HTTP);
    boolean grpc = kind.equals(GatewayRoute.GRPC);
    String name = r.string("name");
    if (name != null && !SECTION_NAME.matcher(name).matches()) {
      r.report().error(r.at("name"), r.at("name") + " " + Checks.quote(name) + " is not a valid rule name");
    }
    List<Match> matches = new ArrayList<>();
    if (http || grpc) {
      for (Fields m : limited(r, "matches", MAX_MATCHES)) matches.add(http ? httpMatch(m) : grpcMatch(m));
      if (matches.isEmpty()) matches.add(defaultMatch(kind));
    }
    List<Filter> filters = new ArrayList<>();
    if (http || grpc) {
      for (Fields f : limited(r, "filters", MAX_SMALL)) {
        Filter filter = filter(f, http ? HTTP_FILTERS : GRPC_FILTERS, namespace);
        if (filter != null) filters.add(filter);
      }
      filterRules(r, filters);
    }
    List<BackendRef> backends = new ArrayList<>();
    for (Fields b : limited(r, "backendRefs", MAX_SMALL)) {
      BackendRef ref = backendRef(b, namespace, true, http || grpc ? (http ? HTTP_FILTERS : GRPC_FILTERS) : null);
      if (ref != null) backends.add(ref);
    }
    if (!http && !grpc && backends.isEmpty() && !r.report().hasErrors()) {
      r.report().error(r.at("backendRefs"), r.at("backendRefs") + " must name at least one backend");
    }
    Duration timeout = null;
    Duration backendTimeout = null;
    GatewayRoute.Retry retry = null;
    if (http) {
      Fields timeouts = r.object("timeouts");
      timeout = duration(timeouts, "request");
      backendTimeout = duration(timeouts, "backendRequest");
      if (timeout != null && backendTimeout != null && !timeout.isZero()
          && (backendTimeout.isZero() || backendTimeout.compareTo(timeout) > 0)) {
        timeouts.report().error(timeouts.at("backendRequest"), timeouts.at("backendRequest") + " must not be longer "
            + "than " + timeouts.at("request"));
      }
      timeouts.rejectUnknown("HTTPRouteTimeouts");
      retry = retry(r);
      r.notImplemented("sessionPersistence");
    } else if (grpc) {
      r.notImplemented("sessionPersistence");
    }
    r.rejectUnknown(kind + " rule");
    return new Rule(name, matches, filters, backends, timeout, backendTimeout, retry);
  }

  /** The API's rules across one list of filters: at most one of each core kind, redirect and rewrite apart. */
  private static void filterRules(Fields at, List<Filter> filters) {
    Set<String> seen = new HashSet<>();
    boolean redirect = false;
    boolean rewrite = false;
    for (Filter f : filters) {
      if (!f.type().equals("RequestMirror") && !f.type().equals("ExtensionRef") && !seen.add(f.type())) {
        at.report().error(at.at("filters"), at.at("filters") + " lists " + f.type() + " twice; merge them");
      }
      redirect |= f.type().equals("RequestRedirect");
      rewrite |= f.type().equals("URLRewrite");
    }
    if (redirect && rewrite) {
      at.report().error(at.at("filters"), at.at("filters") + " may not hold both RequestRedirect and URLRewrite");
    }
  }

  private static Match httpMatch(Fields m) {
    Fields path = m.object("path");
    String type = path.enumOf("type", PATH_TYPES, "PathPrefix");
    String value = path.string("value", "/");
    if (type != null && !type.equals("RegularExpression") && !value.startsWith("/")) {
      path.report().error(path.at("value"), path.at("value") + " " + Checks.quote(value) + " must start with '/'");
    }
    if (type != null && !type.equals("RegularExpression") && (value.contains("//") || value.contains("/./")
        || value.contains("/../") || value.endsWith("/..") || value.endsWith("/.") || value.contains("%2f")
        || value.contains("%2F") || value.contains("#"))) {
      path.report().error(path.at("value"), path.at("value") + " " + Checks.quote(value) + " must be a normalised "
          + "path (no '//', '/./', '/../', '%2f' or '#')");
    }
    if ("RegularExpression".equals(type)) regex(path, "value", value);
    path.rejectUnknown("HTTPPathMatch");
    List<ValueMatch> headers = valueMatches(m, "headers", true);
    List<ValueMatch> query = valueMatches(m, "queryParams", false);
    String method = m.enumOf("method", METHODS, null);
    m.rejectUnknown("HTTPRouteMatch");
    return new Match(new GatewayRoute.PathMatch(type == null ? "PathPrefix" : type, value), headers, query,
        method, null);
  }

  private static Match grpcMatch(Fields m) {
    GatewayRoute.GrpcMethod method = null;
    if (m.has("method")) {
      Fields g = m.object("method");
      String type = g.enumOf("type", VALUE_TYPES, "Exact");
      String service = g.string("service");
      String name = g.string("method");
      if (service == null && name == null) {
        g.report().error(g.path(), g.path() + " must set service, method or both");
      }
      boolean regex = "RegularExpression".equals(type);
      if (regex) {
        if (service != null) regex(g, "service", service);
        if (name != null) regex(g, "method", name);
      } else {
        if (service != null && !service.matches("^[A-Za-z_][A-Za-z_0-9]*(\\.[A-Za-z_][A-Za-z_0-9]*)*$")) {
          g.report().error(g.at("service"), g.at("service") + " " + Checks.quote(service) + " is not a gRPC "
              + "service name (package.Service)");
        }
        if (name != null && !name.matches("^[A-Za-z_][A-Za-z_0-9]*$")) {
          g.report().error(g.at("method"), g.at("method") + " " + Checks.quote(name) + " is not a gRPC method name");
        }
      }
      g.rejectUnknown("GRPCMethodMatch");
      method = new GatewayRoute.GrpcMethod(regex, service, name);
    }
    List<ValueMatch> headers = valueMatches(m, "headers", true);
    m.rejectUnknown("GRPCRouteMatch");
    return new Match(null, headers, List.of(), null, method);
  }

  private static List<ValueMatch> valueMatches(Fields m, String field, boolean header) {
    List<ValueMatch> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields h : limited(m, field, MAX_SMALL)) {
      String type = h.enumOf("type", VALUE_TYPES, "Exact");
      String name = required(h, "name");
      String value = required(h, "value");
      if (name != null && !HEADER_NAME.matcher(name).matches()) {
        h.report().error(h.at("name"), h.at("name") + " " + Checks.quote(name) + " is not a valid "
            + (header ? "header" : "query parameter") + " name");
      } else if (name != null && !names.add(header ? name.toLowerCase(java.util.Locale.ROOT) : name)) {
        // The API: a later match of the same name is ignored. Istio warns; so does Weft.
        h.report().warn(h.at("name"), h.path() + " matches " + Checks.quote(name) + " again; only the first match "
            + "of a name counts");
        h.rejectUnknown(header ? "HTTPHeaderMatch" : "HTTPQueryParamMatch");
        continue;
      }
      if ("RegularExpression".equals(type) && value != null) regex(h, "value", value);
      h.rejectUnknown(header ? "HTTPHeaderMatch" : "HTTPQueryParamMatch");
      if (name != null && value != null && type != null) {
        out.add(new ValueMatch(header ? name.toLowerCase(java.util.Locale.ROOT) : name,
            type.equals("RegularExpression"), value));
      }
    }
    return out;
  }

  private static Filter filter(Fields f, List<String> allowed, String namespace) {
    String type = f.enumOf("type", allowed, null);
    if (!f.has("type") && type == null) {
      f.report().error(f.at("type"), f.at("type") + " is required; one of " + String.join(", ", allowed));
    }
    Filter out = null;
    if ("RequestHeaderModifier".equals(type) || "ResponseHeaderModifier".equals(type)) {
      String field = type.equals("RequestHeaderModifier") ? "requestHeaderModifier" : "responseHeaderModifier";
      out = new Filter(type, headerModifier(required(f, field, type)), null, null, null);
    } else if ("RequestRedirect".equals(type)) {
      Fields r = required(f, "requestRedirect", type);
      String scheme = r.enumOf("scheme", List.of("http", "https"), null);
      String hostname = hostname(r, "hostname");
      GatewayRoute.PathModifier path = pathModifier(r);
      Integer port = r.port("port");
      String code = r.has("statusCode") ? String.valueOf(r.integer("statusCode")) : "302";
      if (!REDIRECT_CODES.contains(code)) {
        r.report().error(r.at("statusCode"), r.at("statusCode") + " must be 301, 302, 303, 307 or 308; got " + code);
      }
      r.rejectUnknown("HTTPRequestRedirectFilter");
      out = new Filter(type, null, new GatewayRoute.Redirect(scheme, hostname, path, port == null ? 0 : port,
          REDIRECT_CODES.contains(code) ? Integer.parseInt(code) : 302), null, null);
    } else if ("URLRewrite".equals(type)) {
      Fields r = required(f, "urlRewrite", type);
      String hostname = hostname(r, "hostname");
      GatewayRoute.PathModifier path = pathModifier(r);
      r.rejectUnknown("HTTPURLRewriteFilter");
      out = new Filter(type, null, null, new GatewayRoute.Rewrite(hostname, path), null);
    } else if ("RequestMirror".equals(type)) {
      Fields r = required(f, "requestMirror", type);
      Fields backend = r.object("backendRef");
      if (!backend.present()) {
        r.report().error(r.at("backendRef"), r.at("backendRef") + " is required: the Service that gets the copies");
      }
      BackendRef ref = backend.present() ? backendRef(backend, namespace, false, null) : null;
      double percent = 100;
      if (r.has("percent") && r.has("fraction")) {
        r.report().error(r.path(), r.path() + " may set percent or fraction, not both");
      }
      if (r.has("percent")) {
        Integer p = r.percent("percent");
        percent = p == null ? 100 : p;
      } else if (r.has("fraction")) {
        Fields fr = r.object("fraction");
        Long num = fr.integer("numerator");
        Long den = fr.has("denominator") ? fr.integer("denominator") : Long.valueOf(100);
        if (num == null || den == null || num < 0 || den < 1 || num > den) {
          fr.report().error(fr.path(), fr.path() + " needs 0 <= numerator <= denominator and denominator >= 1");
        } else {
          percent = 100.0 * num / den;
        }
        fr.rejectUnknown("Fraction");
      }
      r.rejectUnknown("HTTPRequestMirrorFilter");
      if (ref != null) out = new Filter(type, null, null, null, new GatewayRoute.Mirror(ref, percent));
    } else if ("CORS".equals(type)) {
      out = new Filter(type, null, null, null, null, cors(required(f, "cors", type)));
    } else if (type != null) {
      // ExtensionRef: accepted as the schema has it; where it would apply it is reported.
      f.ignore("extensionRef");
      out = new Filter(type, null, null, null, null);
    }
    for (String other : List.of("requestHeaderModifier", "responseHeaderModifier", "requestRedirect", "urlRewrite",
        "requestMirror", "extensionRef", "cors")) {
      if (f.has(other) && (type == null || !other.equalsIgnoreCase(type.equals("URLRewrite") ? "urlRewrite" : type))) {
        f.report().error(f.at(other), f.at(other) + " does not go with type " + type + "; set only the field of the "
            + "filter's type");
        f.take(other);
      }
    }
    f.rejectUnknown("filter");
    return out;
  }

  /** An HTTPRoute rule's {@code retry} (Gateway API v1.2): status codes 400–599, attempts, backoff. */
  private static GatewayRoute.Retry retry(Fields rule) {
    if (!rule.has("retry")) return null;
    Fields r = rule.object("retry");
    List<Integer> codes = new ArrayList<>();
    com.fasterxml.jackson.databind.JsonNode raw = r.take("codes");
    if (raw != null && !raw.isArray()) {
      r.report().error(r.at("codes"), r.at("codes") + " must be a list of HTTP status codes, got "
          + Fields.describe(raw));
    } else if (raw != null) {
      if (raw.size() > MAX_SMALL) tooMany(r, "codes", MAX_SMALL);
      for (int i = 0; i < raw.size() && i < MAX_SMALL; i++) {
        com.fasterxml.jackson.databind.JsonNode c = raw.get(i);
        if (!c.canConvertToInt() || !c.isIntegralNumber() || c.asInt() < 400 || c.asInt() > 599) {
          r.report().error(r.at("codes") + "[" + i + "]", r.at("codes") + "[" + i + "] " + Fields.describe(c)
              + " is not an HTTP status code from 400 to 599");
          continue;
        }
        if (!codes.contains(c.asInt())) codes.add(c.asInt());
      }
    }
    Integer attempts = r.int32("attempts", 0, Integer.MAX_VALUE, "use 0 (no retries) or a positive count");
    Duration backoff = duration(r, "backoff");
    r.rejectUnknown("HTTPRouteRetry");
    return new GatewayRoute.Retry(codes, attempts, backoff);
  }

  /** A CORS filter (Gateway API v1.3 HTTPCORSFilter). */
  private static GatewayRoute.Cors cors(Fields c) {
    List<String> origins = c.strings("allowOrigins");
    for (String o : origins) {
      // The API's pattern: "*", or scheme://host[:port] where the host may hold * wildcards.
      if (!o.equals("*") && !o.matches("(?i)[a-z][a-z0-9+.-]*://[^/\\s?#]+")) {
        c.report().error(c.at("allowOrigins"), c.at("allowOrigins") + " " + Checks.quote(o) + " is not an origin: "
            + "use *, or SCHEME://HOST[:PORT] (the host may hold * wildcards)");
      }
    }
    List<String> methods = c.strings("allowMethods");
    List<String> allowHeaders = c.strings("allowHeaders");
    List<String> exposeHeaders = c.strings("exposeHeaders");
    for (String name : List.of("allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders")) {
      if (c.strings(name).size() > 64) tooMany(c, name, 64);
    }
    for (List<String> headers : List.of(allowHeaders, exposeHeaders)) {
      for (String h : headers) {
        if (!h.equals("*") && !HEADER_NAME.matcher(h).matches()) {
          c.report().error(c.path(), c.path() + ": " + Checks.quote(h) + " is not a valid header name");
        }
      }
    }
    Integer maxAge = c.int32("maxAge", 1, Integer.MAX_VALUE, "use a number of seconds, at least 1");
    boolean credentials = c.bool("allowCredentials", false);
    c.rejectUnknown("HTTPCORSFilter");
    return new GatewayRoute.Cors(origins, methods, allowHeaders, exposeHeaders, maxAge, credentials);
  }

  private static Fields required(Fields f, String field, String type) {
    if (!f.has(field)) {
      f.report().error(f.at(field), f.at(field) + " is required for a " + type + " filter");
    }
    return f.object(field);
  }

  private static GatewayRoute.HeaderModifier headerModifier(Fields h) {
    Map<String, String> set = headerValues(h, "set");
    Map<String, String> add = headerValues(h, "add");
    List<String> remove = h.strings("remove");
    if (remove.size() > MAX_SMALL) tooMany(h, "remove", MAX_SMALL);
    for (String r : remove) {
      if (!HEADER_NAME.matcher(r).matches()) {
        h.report().error(h.at("remove"), h.at("remove") + " " + Checks.quote(r) + " is not a valid header name");
      }
    }
    h.rejectUnknown("HTTPHeaderFilter");
    return new GatewayRoute.HeaderModifier(set, add, remove);
  }

  private static Map<String, String> headerValues(Fields h, String field) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Fields v : limited(h, field, MAX_SMALL)) {
      String name = required(v, "name");
      String value = required(v, "value");
      v.rejectUnknown("HTTPHeader");
      if (name == null || value == null) continue;
      if (!HEADER_NAME.matcher(name).matches()) {
        v.report().error(v.at("name"), v.at("name") + " " + Checks.quote(name) + " is not a valid header name");
      } else if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
        v.report().error(v.at("value"), v.at("value") + " must not hold a line break or NUL");
      } else if (out.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), value) != null) {
        v.report().error(v.at("name"), v.at("name") + " " + Checks.quote(name) + " is set twice in " + h.at(field));
      }
    }
    return out;
  }

  private static GatewayRoute.PathModifier pathModifier(Fields r) {
    if (!r.has("path")) return null;
    Fields p = r.object("path");
    String type = p.enumOf("type", List.of("ReplaceFullPath", "ReplacePrefixMatch"), null);
    if (type == null && !p.has("type")) p.report().error(p.at("type"), p.at("type") + " is required");
    String full = p.string("replaceFullPath");
    String prefix = p.string("replacePrefixMatch");
    String value = "ReplaceFullPath".equals(type) ? full : prefix;
    if (("ReplaceFullPath".equals(type) && prefix != null) || ("ReplacePrefixMatch".equals(type) && full != null)) {
      p.report().error(p.path(), p.path() + " sets the value of the other type; set only the field of its type");
    }
    if (type != null && value == null) {
      p.report().error(p.path(), p.path() + " of type " + type + " needs its value ("
          + (type.equals("ReplaceFullPath") ? "replaceFullPath" : "replacePrefixMatch") + ")");
    } else if (value != null && "ReplacePrefixMatch".equals(type) && value.isEmpty()) {
      value = "/"; // the API allows an empty replacement: the matched prefix is removed
    } else if (value != null && (!value.startsWith("/") || value.indexOf('\n') >= 0)) {
      p.report().error(p.path(), p.path() + " value " + Checks.quote(value) + " must be a path starting with '/'");
    }
    p.rejectUnknown("HTTPPathModifier");
    return type == null || value == null ? null : new GatewayRoute.PathModifier(type, value);
  }

  private static BackendRef backendRef(Fields b, String namespace, boolean weighted, List<String> filterTypes) {
    String group = b.string("group", "");
    String kind = b.string("kind", "Service");
    String name = required(b, "name");
    String ns = namespace(b, namespace);
    Integer port = b.port("port");
    if (group.isEmpty() && kind.equals("Service") && port == null && !b.report().hasErrors()) {
      b.report().error(b.at("port"), b.at("port") + " is required when referring to a Service");
    }
    int weight = 1;
    if (weighted) {
      Long w = b.integerIn("weight", 0, 1_000_000, "a weight is 0 to 1000000");
      if (w != null) weight = w.intValue();
    }
    List<Filter> filters = new ArrayList<>();
    if (filterTypes != null) {
      for (Fields f : limited(b, "filters", MAX_SMALL)) {
        Filter filter = filter(f, filterTypes, namespace);
        if (filter != null) filters.add(filter);
      }
    }
    b.rejectUnknown("BackendRef");
    return name == null ? null : new BackendRef(group, kind, ns, name, port == null ? 0 : port, weight, filters);
  }

  private static Duration duration(Fields f, String field) {
    String s = f.string(field);
    if (s == null) return null;
    if (!DURATION.matcher(s).matches()) {
      f.report().error(f.at(field), f.at(field) + " " + Checks.quote(s) + " is not a Gateway API duration: one to "
          + "four number-unit pairs of h, m, s or ms, e.g. 10s, 1m30s, 500ms");
      return null;
    }
    return Durations.parse(s);
  }

  // ---- ReferenceGrant ----

  static ReferenceGrant referenceGrant(Document d) {
    Fields spec = spec(d, "a ReferenceGrant needs spec.from and spec.to");
    List<ReferenceGrant.From> from = new ArrayList<>();
    for (Fields f : limited(spec, "from", MAX_SMALL)) {
      String group = requiredAllowEmpty(f, "group");
      String kind = required(f, "kind");
      String ns = required(f, "namespace");
      if (ns != null && !Checks.isDnsLabel(ns)) {
        f.report().error(f.at("namespace"), f.at("namespace") + " " + Checks.quote(ns) + " is not a namespace name");
      }
      f.rejectUnknown("ReferenceGrantFrom");
      if (group != null && kind != null && ns != null) from.add(new ReferenceGrant.From(group, kind, ns));
    }
    List<ReferenceGrant.To> to = new ArrayList<>();
    for (Fields t : limited(spec, "to", MAX_SMALL)) {
      String group = requiredAllowEmpty(t, "group");
      String kind = required(t, "kind");
      String name = t.string("name");
      t.rejectUnknown("ReferenceGrantTo");
      if (group != null && kind != null) to.add(new ReferenceGrant.To(group, kind, name == null || name.isEmpty()
          ? null : name));
    }
    if (from.isEmpty() || to.isEmpty()) {
      spec.report().error(spec.path(), "spec.from and spec.to must each list at least one entry");
    }
    spec.rejectUnknown("ReferenceGrant.spec");
    return new ReferenceGrant(d.id(), from, to);
  }

  // ---- shared ----

  private static Fields spec(Document d, String need) {
    Fields root = d.root();
    if (!root.has("spec")) d.report().error("spec", need + "; add a spec");
    return root.object("spec");
  }

  private static weft.model.ResourceId withKind(Document d) {
    return new weft.model.ResourceId(KubernetesGateway.KIND, d.id().namespace(), d.id().name());
  }

  private static String created(Document d) {
    String created = d.root().object("metadata").string("creationTimestamp");
    return created == null ? "" : created;
  }

  private static List<Fields> limited(Fields f, String field, int max) {
    List<Fields> out = f.objects(field);
    if (out.size() > max) {
      tooMany(f, field, max);
      return out.subList(0, max);
    }
    return out;
  }

  private static void tooMany(Fields f, String field, int max) {
    f.report().error(f.at(field), f.at(field) + " has more than " + max + " entries, the Gateway API's limit; "
        + "split the resource");
  }

  private static String required(Fields f, String field) {
    String s = f.string(field);
    if (s == null || s.isEmpty()) {
      f.report().error(f.at(field), f.at(field) + " is required");
      return null;
    }
    return s;
  }

  /** A required field whose empty value has a meaning (the core API group is ""). */
  private static String requiredAllowEmpty(Fields f, String field) {
    if (!f.has(field)) {
      f.report().error(f.at(field), f.at(field) + " is required (\"\" for the core group)");
      return null;
    }
    return f.string(field);
  }

  private static String namespace(Fields f, String fallback) {
    String ns = f.string("namespace");
    if (ns == null || ns.isEmpty()) return fallback;
    if (!Checks.isDnsLabel(ns)) {
      f.report().error(f.at("namespace"), f.at("namespace") + " " + Checks.quote(ns) + " is not a namespace name");
      return fallback;
    }
    return ns;
  }

  private static String hostname(Fields f, String field) {
    String h = f.string(field);
    if (h == null) return null;
    if (!HOSTNAME.matcher(h).matches() || h.length() > 253) {
      f.report().error(f.at(field), f.at(field) + " " + Checks.quote(h) + " is not a hostname: a lower-case DNS "
          + "name, optionally starting with *. (no IP address, no port)");
      return null;
    }
    return h;
  }

  private static void regex(Fields f, String field, String value) {
    if (value.length() > 1024) {
      f.report().error(f.at(field), f.at(field) + " is longer than 1024 characters; shorten the expression");
      return;
    }
    try {
      Pattern.compile(value);
    } catch (PatternSyntaxException e) {
      f.report().error(f.at(field), f.at(field) + " " + Checks.quote(value) + " is not a regular expression ("
          + e.getDescription() + ")");
    }
  }

  private static void labelProblem(Fields f, String key, String value) {
    String problem = Checks.label(key, value);
    if (problem != null) f.report().error(f.at("matchLabels") + "." + key, problem);
  }
}
