package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;

/**
 * Reads a file of Kubernetes-style YAML documents into model resources. Each document is judged on
 * its own: a document with an error is left out and reported, its siblings are still returned.
 * Kinds Weft does not use are skipped with one warning per kind and file.
 */
public final class ResourceParser {
  private static final Set<String> CORE_V1 = Set.of("v1");
  private static final Set<String> ISTIO_VERSIONS = Set.of("v1", "v1beta1", "v1alpha3");
  private static final String ISTIO_GROUP = "networking.istio.io";
  private static final Set<String> SECURITY_VERSIONS = Set.of("v1", "v1beta1");
  private static final String SECURITY_GROUP = "security.istio.io";
  /** Kubernetes Multi-Cluster Services (KEP-1645): ServiceExport and ServiceImport. */
  private static final String MCS_GROUP = "multicluster.x-k8s.io";
  /** Istio's Telemetry API (v1 and the older v1alpha1). */
  private static final String TELEMETRY_GROUP = "telemetry.istio.io";
  private static final Set<String> TELEMETRY_VERSIONS = Set.of("v1", "v1alpha1");
  /** ProxyConfig exists at v1beta1 only. */
  private static final Set<String> PROXY_CONFIG_VERSIONS = Set.of("v1beta1");
  private static final Set<String> MCS_VERSIONS = Set.of("v1alpha1");
  /** Kubernetes Gateway API: the versions its CRDs serve for each kind Istio reads. */
  private static final String GATEWAY_API_GROUP = GatewayApiParser.GROUP;
  private static final Set<String> GATEWAY_API_V1 = Set.of("v1", "v1beta1");
  /** EnvoyFilter exists only at v1alpha3; WasmPlugin lives in Istio's extensions group. */
  private static final Set<String> ENVOY_FILTER_VERSIONS = Set.of("v1alpha3");
  private static final String EXTENSIONS_GROUP = "extensions.istio.io";
  private static final Set<String> EXTENSIONS_VERSIONS = Set.of("v1alpha1");
  /** Weft's own kinds that another part reads from the same folder (TrustDomainFederation). */
  private static final String FEDERATION_GROUP = "weft.dev";
  /** The API groups Weft reads kinds from ("" is Kubernetes' core group). */
  private static final Set<String> GROUPS = Set.of("", "discovery.k8s.io", ISTIO_GROUP, SECURITY_GROUP,
      MCS_GROUP,
      GATEWAY_API_GROUP,
      EXTENSIONS_GROUP,
      TELEMETRY_GROUP);
  /**
   * Kinds of those groups that Kubernetes or Istio define and Weft does not read: skipped with a
   * warning, never taken for a typo of a kind Weft reads.
   */
  private static final Set<String> VALID_UNREAD_KINDS = Set.of("ConfigMap", "ServiceAccount", "Endpoints",
      "Event", "LimitRange", "ResourceQuota", "PersistentVolume", "PersistentVolumeClaim", "ReplicationController",
      "PodTemplate", "Binding", "ComponentStatus",
      "GatewayClass", "UDPRoute", "BackendTLSPolicy", "BackendLBPolicy", "ListenerSet", "XListenerSet");

  /** How to read one kind: its accepted versions, whether it lives in a namespace, and its Istio-ness. */
  private record Kind(String group, Set<String> versions, boolean namespaced, boolean istio,
      Function<Document, Resource> reader) {}

  /** Keyed by "group/kind"; the core group is "". */
  private static final Map<String, Kind> KINDS = Map.ofEntries(
      kind("", "Service", CORE_V1, true, false, K8sServiceParser::parse),
      kind("", "Pod", CORE_V1, true, false, PodParser::parse),
      kind("", "Namespace", CORE_V1, false, false, ClusterObjectParser::namespace),
      kind("", "Node", CORE_V1, false, false, ClusterObjectParser::node),
      // TLS material for credentialName (SDS); other Secrets hold nothing Weft keeps.
      kind("", "Secret", CORE_V1, true, false, SecretParser::parse),
      kind("discovery.k8s.io", "EndpointSlice", CORE_V1, true, false, EndpointSliceParser::parse),
      kind(ISTIO_GROUP, "ServiceEntry", ISTIO_VERSIONS, true, true, ServiceEntryParser::parse),
      kind(ISTIO_GROUP, "WorkloadEntry", ISTIO_VERSIONS, true, true, WorkloadEntryParser::parse),
      kind(ISTIO_GROUP, "DestinationRule", ISTIO_VERSIONS, true, true, DestinationRuleParser::parse),
      kind(ISTIO_GROUP, "VirtualService", ISTIO_VERSIONS, true, true, VirtualServiceParser::parse),
      kind(ISTIO_GROUP, "Sidecar", ISTIO_VERSIONS, true, true, SidecarParser::parse),
      kind(ISTIO_GROUP, "Gateway", ISTIO_VERSIONS, true, true, GatewayParser::parse),
      kind(SECURITY_GROUP, "PeerAuthentication", SECURITY_VERSIONS, true, true, PeerAuthenticationParser::parse),
      kind(SECURITY_GROUP, "AuthorizationPolicy", SECURITY_VERSIONS, true, true, AuthorizationPolicyParser::parse),
      kind(SECURITY_GROUP, "RequestAuthentication", SECURITY_VERSIONS, true, true,
          RequestAuthenticationParser::parse),
      // Checked field by field like Istio's kinds (see McsParser).
      kind(MCS_GROUP, "ServiceExport", MCS_VERSIONS, true, true, McsParser::serviceExport),
      kind(MCS_GROUP, "ServiceImport", MCS_VERSIONS, true, true, McsParser::serviceImport),
      // Gateway API: checked field by field like Istio's kinds (see GatewayApiParser).
      kind(GATEWAY_API_GROUP, "Gateway", GATEWAY_API_V1, true, true, GatewayApiParser::gateway),
      kind(GATEWAY_API_GROUP, "HTTPRoute", GATEWAY_API_V1, true, true, GatewayApiParser::httpRoute),
      kind(GATEWAY_API_GROUP, "GRPCRoute", Set.of("v1", "v1alpha2"), true, true, GatewayApiParser::grpcRoute),
      kind(GATEWAY_API_GROUP, "ReferenceGrant", Set.of("v1beta1", "v1alpha2"), true, true,
          GatewayApiParser::referenceGrant),
      // TCPRoute and TLSRoute are served at v1 too by newer Gateway API releases (and Istio reads them there).
      kind(GATEWAY_API_GROUP, "TCPRoute", Set.of("v1alpha2", "v1"), true, true, GatewayApiParser::tcpRoute),
      kind(GATEWAY_API_GROUP, "TLSRoute", Set.of("v1alpha2", "v1alpha3", "v1"), true, true,
          GatewayApiParser::tlsRoute),
      kind(ISTIO_GROUP, "EnvoyFilter", ENVOY_FILTER_VERSIONS, true, true, EnvoyFilterParser::parse),
      kind(EXTENSIONS_GROUP, "WasmPlugin", EXTENSIONS_VERSIONS, true, true, WasmPluginParser::parse),
      kind(TELEMETRY_GROUP, "Telemetry", TELEMETRY_VERSIONS, true, true, TelemetryParser::parse),
      kind(ISTIO_GROUP, "WorkloadGroup", ISTIO_VERSIONS, true, true, WorkloadGroupParser::parse),
      kind(ISTIO_GROUP, "ProxyConfig", PROXY_CONFIG_VERSIONS, true, true, ProxyConfigParser::parse));

  private static Map.Entry<String, Kind> kind(String group, String kind, Set<String> versions, boolean namespaced,
      boolean istio, Function<Document, Resource> reader) {
    return Map.entry(group + "/" + kind, new Kind(group, versions, namespaced, istio, reader));
  }

  private ResourceParser() {}

  /**
   * Parses a multi-document YAML file (documents separated by {@code ---}; empty documents skipped;
   * {@code kind: List} with {@code items} expanded). Never throws.
   */
  public static ParsedFile parse(String file, String content) {
    List<ConfigProblem> problems = new ArrayList<>();
    List<JsonNode> docs;
    try {
      docs = Yaml.documents(content);
    } catch (Yaml.Unreadable e) {
      problems.add(ConfigProblem.error(file, null, "", file + " is " + e.getMessage()));
      return new ParsedFile(file, List.of(), problems, true);
    }
    FileState state = new FileState(file, problems);
    for (int i = 0; i < docs.size(); i++) {
      if (docs.get(i) == null) continue;
      String where = "document " + (i + 1);
      try {
        state.document(docs.get(i), where);
      } catch (RuntimeException e) {
        // Last line of defence: one broken document must not take its siblings down.
        problems.add(ConfigProblem.error(file, null, "", where + " could not be read (" + e + "); it was skipped"));
        state.rejected.add(new RejectedDocument(where, null, null, null));
      }
    }
    state.skipped.forEach((kind, count) -> problems.add(ConfigProblem.warning(file, null, "kind",
        "kind " + kind + " is not used by Weft yet; skipped" + (count > 1 ? " (" + count + " documents)" : ""))));
    return new ParsedFile(file, state.resources, problems, false, state.positions, state.rejected);
  }

  /** What one file has produced so far. */
  private static final class FileState {
    private final String file;
    private final List<ConfigProblem> problems;
    private final List<Resource> resources = new ArrayList<>();
    private final Map<ResourceId, String> positions = new LinkedHashMap<>();
    private final List<RejectedDocument> rejected = new ArrayList<>();
    private final Map<String, Integer> skipped = new LinkedHashMap<>();

    FileState(String file, List<ConfigProblem> problems) {
      this.file = file;
      this.problems = problems;
    }

    void document(JsonNode doc, String where) {
      Report fileReport = new Report(file, null, problems);
      if (!doc.isObject()) {
        fileReport.error("", where + " is " + Fields.describe(doc) + ", not a mapping; each document must be a "
            + "Kubernetes-style object with apiVersion, kind and metadata");
        rejected.add(new RejectedDocument(where, null, null, null));
        return;
      }
      JsonNode kindNode = doc.get("kind");
      if (kindNode == null || !kindNode.isTextual() || kindNode.textValue().isEmpty()) {
        fileReport.error("kind", where + " has no kind; add one, e.g. kind: VirtualService");
        reject(doc, where, null);
        return;
      }
      String kind = kindNode.textValue();
      JsonNode apiNode = doc.get("apiVersion");
      String apiVersion = apiNode != null && apiNode.isTextual() ? apiNode.textValue() : "";
      if (kind.equals("List") && (apiVersion.isEmpty() || apiVersion.equals("v1"))) {
        list(doc, where, fileReport);
        return;
      }
      int slash = apiVersion.lastIndexOf('/');
      String group = slash < 0 ? "" : apiVersion.substring(0, slash);
      String version = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
      Kind handler = KINDS.get(group + "/" + kind);
      if (apiVersion.isEmpty() && known(kind)) {
        fileReport.error("apiVersion", where + " (kind " + kind + ") has no apiVersion; add one, e.g. apiVersion: "
            + suggestedApiVersion(kind));
        reject(doc, where, kind);
        return;
      }
      if (handler == null) {
        String meant = misspelt(kind, group);
        if (meant != null) {
          fileReport.error("kind", where + ": kind " + kind + " is not a " + (group.isEmpty() ? "core" : group)
              + " kind; did you mean " + meant + "?");
          reject(doc, where, meant);
          return;
        }
        if (known(kind) && GROUPS.contains(group)) {
          // A kind Weft reads, under another of our groups: a mistyped apiVersion, not another API.
          fileReport.error("apiVersion", where + ": apiVersion " + apiVersion + " is not supported for kind " + kind
              + "; use " + suggestedApiVersion(kind));
          reject(doc, where, kind);
          return;
        }
        if (group.equals(FEDERATION_GROUP) && (kind.equals("TrustDomainFederation") || kind.equals("MeshFederation"))) {
          return; // read by the control plane's federation (weft.security.federation), not a cluster's state
        }
        skipped.merge(apiVersion.isEmpty() ? kind : kind + " (" + apiVersion + ")", 1, Integer::sum);
        return;
      }
      if (!handler.versions().contains(version)) {
        fileReport.error("apiVersion", where + ": apiVersion " + apiVersion + " is not supported for kind " + kind
            + "; use " + suggestedApiVersion(kind));
        reject(doc, where, kind);
        return;
      }
      read(doc, where, kind, handler, fileReport);
    }

    /** Records a rejected document with the identity it still claims (see {@link RejectedDocument}). */
    private void reject(JsonNode doc, String where, String kind) {
      JsonNode meta = doc.get("metadata");
      String name = null;
      String namespace = null;
      if (meta != null && meta.isObject()) {
        JsonNode nameNode = meta.get("name");
        if (nameNode != null && nameNode.isValueNode() && !nameNode.isNull() && !nameNode.asText().isEmpty()) {
          name = nameNode.asText();
        }
        JsonNode nsNode = meta.get("namespace");
        if (nsNode == null || nsNode.isNull() || (nsNode.isTextual() && nsNode.textValue().isEmpty())) {
          namespace = kind == null ? null : namespaced(kind) ? "default" : "";
        } else if (nsNode.isTextual()) {
          namespace = kind != null && !namespaced(kind) ? "" : nsNode.textValue();
        }
      }
      rejected.add(new RejectedDocument(where, kind, namespace, name));
    }

    private void list(JsonNode doc, String where, Report fileReport) {
      JsonNode items = doc.get("items");
      if (items == null || items.isNull()) return;
      if (!items.isArray()) {
        fileReport.error("items", where + " is a List whose items is not a list; write items as a YAML list");
        return;
      }
      for (int i = 0; i < items.size(); i++) {
        if (!items.get(i).isNull()) document(items.get(i), where + " items[" + i + "]");
      }
    }

    private void read(JsonNode doc, String where, String kind, Kind handler, Report fileReport) {
      JsonNode meta = doc.get("metadata");
      if (meta == null || !meta.isObject()) {
        fileReport.error("metadata.name", where + " (kind " + kind + ") has no metadata.name; add metadata with a "
            + "name");
        reject(doc, where, kind);
        return;
      }
      JsonNode nameNode = meta.get("name");
      if (nameNode == null || !nameNode.isTextual() || nameNode.textValue().isEmpty()) {
        fileReport.error("metadata.name", where + " (kind " + kind + ") "
            + (nameNode == null || nameNode.isNull() ? "has no metadata.name; add a name"
                : "has metadata.name " + Fields.describe(nameNode) + ", not a string; quote it"));
        reject(doc, where, kind);
        return;
      }
      JsonNode nsNode = meta.get("namespace");
      String namespace = "";
      if (handler.namespaced()) {
        namespace = nsNode != null && nsNode.isTextual() && !nsNode.textValue().isEmpty()
            ? nsNode.textValue() : "default";
      }
      ResourceId id = new ResourceId(idKind(handler, kind), namespace, nameNode.textValue());
      if (refusedName(id, handler.namespaced() && nsNode != null && nsNode.isTextual(), fileReport)) return;
      Report report = fileReport.forResource(id);
      if (nsNode != null && !nsNode.isNull() && !nsNode.isTextual()) {
        report.error("metadata.namespace", "metadata.namespace must be a string, got " + Fields.describe(nsNode));
      }
      Resource resource = null;
      try {
        Fields root = Fields.root(report, doc);
        Fields metadata = root.object("metadata");
        Map<String, String> labels = metadata.stringMap("labels");
        Map<String, String> annotations = metadata.stringMap("annotations");
        resource = handler.reader().apply(new Document(report, id, root, labels, annotations));
        if (handler.istio()) {
          // Istio objects are checked field by field; metadata and status are Kubernetes' business.
          root.ignore("apiVersion", "kind", "metadata", "status");
          root.rejectUnknown(kind);
        }
      } catch (RuntimeException e) {
        // A reader bug must not take the whole file down: this resource alone is rejected.
        report.error("", "could not read " + id + " (" + e + "); the resource was skipped");
      }
      if (!report.hasErrors() && resource != null) {
        resources.add(resource);
        positions.put(id, where);
      } else {
        boolean namespaceRead = !handler.namespaced() || nsNode == null || nsNode.isNull() || nsNode.isTextual();
        rejected.add(new RejectedDocument(where, id.kind(), namespaceRead ? namespace : null, id.name()));
      }
    }
  }

  /**
   * Kubernetes' name rules, which its API server enforces and Istio relies on: a namespace is a
   * DNS-1123 label; a Namespace's and a Service's name too (a Service name becomes a DNS label of its
   * host); every other name a DNS-1123 subdomain. A name is the resource's identity, so a bad one
   * is refused before anything else is read, reported under an escaped id (the raw one could carry
   * escape codes or newlines into logs and terminals). True when refused.
   */
  private static boolean refusedName(ResourceId id, boolean namespaceWritten, Report fileReport) {
    boolean labelName = id.kind().equals("Service") || id.kind().equals("Namespace");
    boolean nameOk = labelName ? Checks.isDnsLabel(id.name()) : Checks.isDnsSubdomain(id.name());
    boolean namespaceOk = !namespaceWritten || Checks.isDnsLabel(id.namespace());
    if (nameOk && namespaceOk) return false;
    Report report = fileReport.forResource(new ResourceId(id.kind(), printable(id.namespace()), printable(id.name())));
    if (!namespaceOk) {
      report.error("metadata.namespace", "metadata.namespace " + Checks.quote(id.namespace()) + " is not a valid "
          + "namespace name: a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting and ending "
          + "with a letter or digit); fix the namespace");
    }
    if (!nameOk) {
      report.error("metadata.name", "metadata.name " + Checks.quote(id.name()) + " is not a valid " + id.kind()
          + " name: " + (labelName ? "a DNS-1123 label (at most 63 lower-case letters, digits and '-', starting "
          + "and ending with a letter or digit)" : "a DNS-1123 subdomain (at most 253 lower-case letters, digits, "
          + "'-' and '.', each part starting and ending with a letter or digit)") + "; rename the resource");
    }
    return true;
  }

  /**
   * The kind in a resource's id: its own, but for the Gateway API's Gateway, which is Istio's
   * {@code KubernetesGateway} so that it never meets an Istio Gateway of the same name.
   */
  private static String idKind(Kind handler, String kind) {
    return handler.group().equals(GATEWAY_API_GROUP) && kind.equals("Gateway") ? weft.model.KubernetesGateway.KIND
        : kind;
  }

  private static String printable(String s) {
    String quoted = Checks.quote(s);
    return quoted.substring(1, quoted.length() - 1);
  }

  /**
   * The kind Weft reads that {@code kind} is a typo of, or null. Only under Weft's own API groups
   * (a kind of another API is that API's business), never for kinds Istio or Kubernetes define that
   * Weft does not read, and at most one edit for names under eight letters ({@code Role} is not a
   * misspelt {@code Node}).
   */
  static String misspelt(String kind, String group) {
    if (!GROUPS.contains(group) || known(kind) || VALID_UNREAD_KINDS.contains(kind)) return null;
    List<String> names = KINDS.keySet().stream().map(k -> k.substring(k.indexOf('/') + 1)).toList();
    return Spelling.closest(kind, names, kind.length() < 8 ? 1 : 2);
  }

  private static boolean namespaced(String kind) {
    return KINDS.entrySet().stream().filter(e -> e.getKey().endsWith("/" + kind)).findFirst()
        .map(e -> e.getValue().namespaced()).orElse(true);
  }

  private static boolean known(String kind) {
    return KINDS.keySet().stream().anyMatch(k -> k.endsWith("/" + kind));
  }

  private static String suggestedApiVersion(String kind) {
    return KINDS.entrySet().stream()
        .filter(e -> e.getKey().endsWith("/" + kind))
        // Istio's Gateway before the Gateway API's: the same kind name, and the older habit.
        .sorted(java.util.Comparator.comparing((Map.Entry<String, Kind> e) -> e.getValue().group().equals(GATEWAY_API_GROUP)))
        .map(e -> {
          Kind k = e.getValue();
          String version = k.versions().contains("v1") ? "v1" : k.versions().iterator().next();
          return k.group().isEmpty() ? version : k.group() + "/" + version;
        })
        .findFirst().orElse("v1");
  }
}
