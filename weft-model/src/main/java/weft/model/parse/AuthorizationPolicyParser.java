package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.AuthorizationPolicy;
import weft.model.AuthorizationPolicy.Condition;
import weft.model.AuthorizationPolicy.From;
import weft.model.AuthorizationPolicy.Operation;
import weft.model.AuthorizationPolicy.Rule;
import weft.model.AuthorizationPolicy.Source;
import weft.model.AuthorizationPolicy.To;

/**
 * A {@code security.istio.io} AuthorizationPolicy, checked field by field against Istio's schema
 * (security/v1beta1/authorization_policy.proto, type/v1beta1/selector.proto) and as Istio's validation
 * and CRD rules check it.
 *
 * <p>Worth knowing: Istio refuses a DENY or CUSTOM policy without rules (it would never act; an empty rule
 * {@code {}} makes it act on every request), while an ALLOW policy without rules is valid and denies
 * everything. A {@code *} inside a rule value that is neither its first nor its last character is matched
 * literally by Istio; that is accepted with a warning. A policy annotated {@code istio.io/dry-run: "true"} is
 * kept as a dry run: generators make it Envoy shadow rules, never enforced.
 */
final class AuthorizationPolicyParser {
  /** Istio's AuthorizationPolicy.Action names, in enum number order. */
  private static final List<String> ACTIONS = List.of("ALLOW", "DENY", "AUDIT", "CUSTOM");
  /** Istio's CRD limits. */
  private static final int MAX_RULES = 512;
  private static final int MAX_FROM = 512;
  private static final int MAX_TARGET_REFS = 16;
  /** Group and kind a policy may be attached to by targetRefs; the core group is "core". */
  private static final Set<String> TARGET_KINDS = Set.of("core/Service", "networking.istio.io/ServiceEntry",
      "gateway.networking.k8s.io/Gateway", "gateway.networking.k8s.io/GatewayClass");
  /** Condition keys whose values Istio reads without further checks. */
  private static final Set<String> PLAIN_KEYS = Set.of("source.namespace", "source.principal",
      "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "connection.sni");
  private static final Set<String> IP_KEYS = Set.of("source.ip", "remote.ip", "destination.ip");
  /** Condition keys CUSTOM policies do not support (plus every request.auth.* key). */
  private static final Set<String> CUSTOM_UNSUPPORTED_KEYS = Set.of("source.namespace", "source.serviceAccount",
      "source.trustDomain", "source.principal");
  private static final List<String> SOURCE_FIELDS = List.of("principals", "notPrincipals", "requestPrincipals",
      "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks",
      "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains");
  /** Source fields Istio does not support with action CUSTOM: all but the IP blocks. */
  private static final List<String> CUSTOM_UNSUPPORTED_SOURCE = List.of("principals", "notPrincipals",
      "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces", "serviceAccounts",
      "notServiceAccounts", "trustDomains", "notTrustDomains");
  private static final List<String> OPERATION_FIELDS = List.of("hosts", "notHosts", "ports", "notPorts", "methods",
      "notMethods", "paths", "notPaths");
  private static final String DRY_RUN = "istio.io/dry-run";
  /** The spellings Istio (Go's strconv.ParseBool) reads as true and false. */
  private static final Set<String> TRUE = Set.of("1", "t", "T", "TRUE", "true", "True");
  private static final Set<String> FALSE = Set.of("0", "f", "F", "FALSE", "false", "False");
  private static final String CONDITION_KEYS = "request.headers[NAME], source.ip, remote.ip, source.namespace, "
      + "source.principal, source.serviceAccount, source.trustDomain, request.auth.principal, request.auth.audiences, "
      + "request.auth.presenter, request.auth.claims[NAME], destination.ip, destination.port, connection.sni or "
      + "experimental.envoy.filters.FILTER[KEY]";

  private AuthorizationPolicyParser() {}

  static AuthorizationPolicy parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    boolean selectorSet = spec.has("selector");
    Map<String, String> selector = SecurityChecks.selector(spec);
    List<String> targetRefs = targetRefs(spec, selectorSet);

    String action = spec.enumOf("action", ACTIONS, "ALLOW");
    boolean custom = "CUSTOM".equals(action);
    boolean providerSet = spec.has("provider");
    Fields p = spec.object("provider");
    String provider = p.string("name");
    p.rejectUnknown("ExtensionProvider");
    provider = provider == null || provider.isEmpty() ? null : provider;

    JsonNode rawRules = spec.take("rules");
    List<Fields> ruleFields = spec.objects("rules");
    boolean hasRules = rawRules != null && rawRules.isArray() && !rawRules.isEmpty();
    String rulesAt = spec.at("rules");
    if (ruleFields.size() > MAX_RULES) {
      report.error(rulesAt, rulesAt + " has " + ruleFields.size() + " rules; Istio allows at most " + MAX_RULES
          + ", so split the policy");
    }
    if (action != null && !action.equals("ALLOW") && !action.equals("AUDIT") && !hasRules) {
      report.error(rulesAt, rulesAt + " is " + (rawRules == null ? "missing" : "empty") + "; a " + action
          + " policy without rules never acts and Istio refuses it: add an empty rule (rules: [{}]) to act on "
          + "every request, or list the requests to " + (custom ? "send to the provider" : "deny"));
    } else if (custom && provider == null) {
      String at = providerSet ? p.at("name") : spec.at("provider");
      report.error(at, at + " is missing; a CUSTOM policy names the extension provider (declared in MeshConfig "
          + "extensionProviders) that decides, e.g. provider: {name: my-ext-authz}");
    }
    if (providerSet && action != null && !custom) {
      report.error(spec.at("provider"), spec.at("provider") + " can only be used with action CUSTOM (this policy's "
          + "action is " + action + "); remove it or set action: CUSTOM");
    }
    List<Rule> rules = new ArrayList<>();
    for (Fields r : ruleFields) rules.add(rule(r, action));
    spec.rejectUnknown("AuthorizationPolicy");
    return new AuthorizationPolicy(d.id(), selector, targetRefs, action == null ? "ALLOW" : action,
        custom ? provider : null, rules, dryRun(d));
  }

  /**
   * Istio's {@code istio.io/dry-run} annotation: a dry-run policy is evaluated for statistics and logs only,
   * never enforced (Envoy's shadow rules).
   */
  private static boolean dryRun(Document d) {
    String value = d.annotations().get(DRY_RUN);
    if (value == null) return false;
    String at = "metadata.annotations." + DRY_RUN;
    if (TRUE.contains(value)) return true;
    if (!FALSE.contains(value)) {
      d.report().warn(at, at + " is \"" + value + "\", which is neither true nor false; Istio enforces the policy, "
          + "and so does Weft: write \"true\" for a dry run or remove the annotation");
    }
    return false;
  }

  // ---- where the policy applies ----

  /** {@code targetRefs} and the older {@code targetRef}, as Kind/name; at most one of them and selector. */
  static List<String> targetRefs(Fields spec, boolean selectorSet) {
    Report report = spec.report();
    List<String> refs = new ArrayList<>();
    boolean singleSet = spec.has("targetRef");
    Fields single = spec.object("targetRef");
    if (single.present()) refs.add(targetRef(single));
    List<Fields> list = spec.objects("targetRefs");
    for (Fields t : list) refs.add(targetRef(t));
    if (list.size() > MAX_TARGET_REFS) {
      report.error(spec.at("targetRefs"), spec.at("targetRefs") + " has " + list.size() + " entries; Istio allows "
          + "at most " + MAX_TARGET_REFS + ", so split the policy");
    }
    int set = (selectorSet ? 1 : 0) + (singleSet ? 1 : 0) + (list.isEmpty() ? 0 : 1);
    if (set > 1) {
      String at = selectorSet ? spec.at("selector") : spec.at("targetRef");
      report.error(at, "only one of selector, targetRef and targetRefs can be set; a policy either selects "
          + "workloads by label or is attached to gateways and services, so split it into two policies");
    }
    // Gateway references are followed (the Gateway's pods); others are reported per proxy where they would apply.
    return refs;
  }

  private static String targetRef(Fields t) {
    Report report = t.report();
    String group = t.string("group", "");
    String kind = t.string("kind", "");
    String name = t.string("name", "");
    String namespace = t.string("namespace", "");
    t.rejectUnknown("PolicyTargetReference");
    if (kind.isEmpty()) {
      report.error(t.at("kind"), t.at("kind") + " is missing; name the kind of resource the policy is attached "
          + "to, e.g. kind: Gateway with group: gateway.networking.k8s.io");
    } else if (!TARGET_KINDS.contains((group.isEmpty() ? "core" : group) + "/" + kind)) {
      report.error(t.path(), "a policy cannot be attached to " + (group.isEmpty() ? "" : group + "/") + kind
          + "; Istio supports Gateway and GatewayClass (group gateway.networking.k8s.io), Service (group \"\") and "
          + "ServiceEntry (group networking.istio.io)");
    }
    if (name.isEmpty()) {
      report.error(t.at("name"), t.at("name") + " is missing; name the resource the policy is attached to");
    }
    if (!namespace.isEmpty()) {
      report.error(t.at("namespace"), t.at("namespace") + " must not be set: Istio does not support attaching a "
          + "policy to a resource of another namespace; put the policy in namespace " + namespace + " instead");
    }
    return kind + "/" + name;
  }

  // ---- rules ----

  private static Rule rule(Fields r, String action) {
    Report report = r.report();
    boolean custom = "CUSTOM".equals(action);
    JsonNode rawFrom = r.take("from");
    List<Fields> fromFields = r.objects("from");
    if (rawFrom != null && rawFrom.isArray() && rawFrom.isEmpty()) {
      report.error(r.at("from"), r.at("from") + " is empty; remove it to match any source, or list sources");
    }
    if (fromFields.size() > MAX_FROM) {
      report.error(r.at("from"), r.at("from") + " has " + fromFields.size() + " entries; Istio allows at most "
          + MAX_FROM);
    }
    List<From> from = new ArrayList<>();
    boolean anySource = false;
    boolean tcpInFrom = false;
    for (Fields f : fromFields) {
      boolean set = f.has("source");
      Source source = source(f.object("source"), custom);
      f.rejectUnknown("Rule.From");
      if (!set) {
        report.error(f.at("source"), f.at("source") + " is missing; write each from entry as {source: {...}}, e.g. "
            + "{source: {namespaces: [prod]}}");
      } else {
        anySource = true;
        tcpInFrom |= !source.principals().isEmpty() || !source.notPrincipals().isEmpty()
            || !source.namespaces().isEmpty() || !source.notNamespaces().isEmpty() || !source.ipBlocks().isEmpty()
            || !source.notIpBlocks().isEmpty() || !source.remoteIpBlocks().isEmpty()
            || !source.notRemoteIpBlocks().isEmpty() || !source.serviceAccounts().isEmpty()
            || !source.notServiceAccounts().isEmpty();
      }
      from.add(new From(source));
    }

    JsonNode rawTo = r.take("to");
    List<Fields> toFields = r.objects("to");
    if (rawTo != null && rawTo.isArray() && rawTo.isEmpty()) {
      report.error(r.at("to"), r.at("to") + " is empty; remove it to match any operation, or list operations");
    }
    List<To> to = new ArrayList<>();
    boolean anyOperation = false;
    boolean tcpInTo = false;
    for (Fields t : toFields) {
      boolean set = t.has("operation");
      Operation operation = operation(t.object("operation"));
      t.rejectUnknown("Rule.To");
      if (!set) {
        report.error(t.at("operation"), t.at("operation") + " is missing; write each to entry as {operation: "
            + "{...}}, e.g. {operation: {methods: [GET]}}");
      } else {
        anyOperation = true;
        tcpInTo |= !operation.ports().isEmpty() || !operation.notPorts().isEmpty();
      }
      to.add(new To(operation));
    }

    List<Condition> when = new ArrayList<>();
    for (Fields w : r.objects("when")) when.add(condition(w, custom));
    r.rejectUnknown("Rule");

    if ("DENY".equals(action) && ((anySource && !anyOperation && !tcpInFrom) || (anyOperation && !tcpInTo))) {
      report.warn(r.path(), r.path() + " of this DENY policy only uses HTTP attributes, so Istio denies all "
          + "traffic to the TCP (non-HTTP) ports of the selected workloads; name the ports in to.operation.ports "
          + "to limit it");
    }
    return new Rule(from, to, when);
  }

  /** Every field of {@code names}, read as a list of strings. */
  private static Map<String, List<String>> lists(Fields f, List<String> names) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String name : names) out.put(name, f.strings(name));
    return out;
  }

  private static Source source(Fields s, boolean custom) {
    Report report = s.report();
    Map<String, List<String>> v = lists(s, SOURCE_FIELDS);
    s.rejectUnknown("Source");
    Source source = new Source(v.get("principals"), v.get("notPrincipals"), v.get("requestPrincipals"),
        v.get("notRequestPrincipals"), v.get("namespaces"), v.get("notNamespaces"), v.get("ipBlocks"),
        v.get("notIpBlocks"), v.get("remoteIpBlocks"), v.get("notRemoteIpBlocks"), v.get("serviceAccounts"),
        v.get("notServiceAccounts"), v.get("trustDomains"), v.get("notTrustDomains"));
    if (!s.present()) return source;

    for (String name : List.of("principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
        "namespaces", "notNamespaces")) {
      SecurityChecks.nonEmpty(report, s.at(name), v.get(name));
      SecurityChecks.wildcards(report, s.at(name), v.get(name));
    }
    for (String name : List.of("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks")) {
      SecurityChecks.ipBlocks(report, s.at(name), v.get(name));
    }
    for (String name : List.of("serviceAccounts", "notServiceAccounts")) {
      SecurityChecks.serviceAccounts(report, s.at(name), v.get(name));
    }
    for (String name : List.of("trustDomains", "notTrustDomains")) {
      SecurityChecks.trustDomains(report, s.at(name), v.get(name));
    }

    boolean identities = !source.principals().isEmpty() || !source.notPrincipals().isEmpty()
        || !source.namespaces().isEmpty() || !source.notNamespaces().isEmpty();
    if (identities && (!source.serviceAccounts().isEmpty() || !source.notServiceAccounts().isEmpty())) {
      String at = s.at(source.serviceAccounts().isEmpty() ? "notServiceAccounts" : "serviceAccounts");
      report.error(at, "serviceAccounts cannot be used together with principals or namespaces in one source; use "
          + "one way of naming the peers, or put them in two from entries");
    }
    if (custom) {
      for (String name : CUSTOM_UNSUPPORTED_SOURCE) {
        if (!v.get(name).isEmpty()) {
          report.error(s.at(name), s.at(name) + " is not supported by Istio with action CUSTOM (only IP blocks "
              + "are); remove it, or match on it in the external authorizer");
        }
      }
    }
    if (v.values().stream().allMatch(List::isEmpty)) {
      report.error(s.path(), s.path() + " is empty; give at least one of principals, requestPrincipals, namespaces, "
          + "serviceAccounts, ipBlocks, remoteIpBlocks or trustDomains (or their not* forms), or remove this from "
          + "entry");
    }
    return source;
  }

  private static Operation operation(Fields o) {
    Report report = o.report();
    Map<String, List<String>> v = lists(o, OPERATION_FIELDS);
    o.rejectUnknown("Operation");
    Operation operation = new Operation(v.get("hosts"), v.get("notHosts"), v.get("ports"), v.get("notPorts"),
        v.get("methods"), v.get("notMethods"), v.get("paths"), v.get("notPaths"));
    if (!o.present()) return operation;

    for (String name : List.of("hosts", "notHosts", "methods", "notMethods", "paths", "notPaths")) {
      SecurityChecks.nonEmpty(report, o.at(name), v.get(name));
    }
    for (String name : List.of("hosts", "notHosts", "paths", "notPaths")) {
      SecurityChecks.wildcards(report, o.at(name), v.get(name));
    }
    for (String name : List.of("ports", "notPorts")) {
      SecurityChecks.ports(report, o.at(name), v.get(name));
    }
    for (String name : List.of("paths", "notPaths")) {
      SecurityChecks.pathTemplates(report, o.at(name), v.get(name));
    }
    if (v.values().stream().allMatch(List::isEmpty)) {
      report.error(o.path(), o.path() + " is empty; give at least one of hosts, ports, methods or paths (or their "
          + "not* forms), or remove this to entry");
    }
    return operation;
  }

  // ---- conditions ----

  private static Condition condition(Fields w, boolean custom) {
    Report report = w.report();
    String key = w.string("key");
    List<String> values = w.strings("values");
    List<String> notValues = w.strings("notValues");
    w.rejectUnknown("Condition");
    if (key == null || key.isEmpty()) {
      if (key != null || !w.has("key")) {
        report.error(w.at("key"), w.at("key") + " is missing; name an Istio attribute: " + CONDITION_KEYS);
      }
      return new Condition(key, values, notValues);
    }
    if (values.isEmpty() && notValues.isEmpty()) {
      report.error(w.path(), w.path() + " has neither values nor notValues; give the values of " + key
          + " to match (or not to match)");
    }
    String bad = key(key);
    if (bad != null) {
      report.error(w.at("key"), w.at("key") + " " + bad);
    } else {
      conditionValues(report, w.at("values"), key, values);
      conditionValues(report, w.at("notValues"), key, notValues);
    }
    if (custom && (CUSTOM_UNSUPPORTED_KEYS.contains(key) || key.startsWith("request.auth."))) {
      report.error(w.at("key"), w.at("key") + " " + key + " is not supported by Istio with action CUSTOM; remove "
          + "the condition, or check it in the external authorizer");
    }
    return new Condition(key, values, notValues);
  }

  /** Istio's condition keys; null when {@code key} is one. */
  private static String key(String key) {
    if (key.startsWith("request.headers") || key.startsWith("request.auth.claims")
        || key.startsWith("experimental.envoy.filters.")) {
      int open = key.indexOf('[');
      return key.endsWith("]") && open > 0 && open < key.length() - 2 ? null
          : "\"" + key + "\" must name its entry in brackets, e.g. request.headers[x-token] or "
              + "request.auth.claims[iss]";
    }
    if (PLAIN_KEYS.contains(key) || IP_KEYS.contains(key) || key.equals("destination.port")
        || key.equals("source.serviceAccount") || key.equals("source.trustDomain")) {
      return null;
    }
    if (key.equals("destination.namespace")) {
      return "destination.namespace is not supported; the policy's own namespace (metadata.namespace) decides "
          + "which destinations it covers";
    }
    if (key.startsWith("destination.labels")) {
      return "\"" + key + "\" is not supported; select the destination workloads with spec.selector instead";
    }
    if (key.equals("destination.name") || key.equals("destination.user")) {
      return key + " was only supported by Istio's old v1alpha1 RBAC; use spec.selector or a source condition";
    }
    return "\"" + key + "\" is not an attribute Istio knows; use one of " + CONDITION_KEYS;
  }

  private static void conditionValues(Report report, String at, String key, List<String> values) {
    SecurityChecks.nonEmpty(report, at, values);
    if (IP_KEYS.contains(key)) {
      SecurityChecks.ipBlocks(report, at, values);
    } else if (key.equals("destination.port")) {
      SecurityChecks.ports(report, at, values);
    } else if (key.equals("source.serviceAccount")) {
      SecurityChecks.serviceAccounts(report, at, values);
    } else if (key.equals("source.trustDomain")) {
      SecurityChecks.strictWildcards(report, at, values);
    } else {
      SecurityChecks.wildcards(report, at, values);
    }
  }
}
