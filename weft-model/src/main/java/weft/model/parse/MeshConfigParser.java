package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import weft.model.ConfigProblem;
import weft.model.LocalityLbSetting;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.MeshTelemetry;

/**
 * Reads Istio's MeshConfig and MeshNetworks YAML (the {@code mesh} and {@code meshNetworks} keys of
 * the istio ConfigMap; a whole ConfigMap is accepted too). Fields Weft does not use are accepted
 * with a warning; fields Istio does not know are errors.
 */
public final class MeshConfigParser {
  /** MeshConfig fields (JSON names) that Weft accepts but does not act on. */
  private static final String[] UNUSED = {
    "proxyListenPort", "proxyInboundListenPort", "proxyHttpPort", "connectTimeout", "hboneIdleTimeout",
    "protocolDetectionTimeout", "tcpKeepalive", "ingressClass", "ingressService", "ingressControllerMode",
    "ingressSelector", "enableTracing",
    "enableEnvoyAccessLogService", "disableEnvoyListenerLog", "inboundTrafficPolicy",
    "configSources", "enableAutoMtls", "zoneAwareLbSetting", "dnsRefreshRate",
    "h2UpgradePolicy", "inboundClusterStatName", "outboundClusterStatName", "certificates", "serviceScopeConfigs",
    "enablePrometheusMerge", "verifyCertificateAtClient", "ca",
    "discoverySelectors", "pathNormalization", "defaultHttpRetryPolicy", "meshMTLS", "tlsDefaults",
    "defaultTrafficPolicy", "serviceEntryVisibility"
  };

  /** Fields Istio has removed from MeshConfig; old ConfigMaps still carry them. */
  private static final String[] REMOVED = {
    "mixerCheckServer", "mixerReportServer", "disablePolicyChecks", "disableMixerHttpReports",
    "policyCheckFailOpen", "sidecarToTelemetrySessionAffinity", "authPolicy", "rdsRefreshDelay", "mixerAddress",
    "enableClientSidePolicyCheck", "sdsUdsPath", "sdsRefreshDelay", "enableSdsTokenMount", "sdsUseK8sSaJwt",
    "terminationDrainDuration", "disableReportBatch", "reportBatchMaxEntries", "reportBatchMaxTime",
    "fileFlushInterval", "fileFlushMinSize", "thriftConfig"
  };

  private MeshConfigParser() {}

  /**
   * Parses Istio MeshConfig YAML. Never throws. Unset fields take {@link MeshConfig#defaults()} values;
   * the value is null when there were errors.
   */
  public static Parsed<MeshConfig> parseMeshConfig(String file, String content) {
    return parse(file, content, "mesh", MeshConfig.defaults(), MeshConfigParser::meshConfig);
  }

  /** Parses Istio MeshNetworks YAML (top-level key {@code networks}). Never throws. */
  public static Parsed<MeshNetworks> parseMeshNetworks(String file, String content) {
    return parse(file, content, "meshNetworks", MeshNetworks.empty(), MeshNetworksReader::read);
  }

  private static <T> Parsed<T> parse(String file, String content, String configMapKey, T empty,
      Function<Fields, T> reader) {
    List<ConfigProblem> problems = new ArrayList<>();
    Report report = new Report(file, null, problems);
    try {
      JsonNode root = single(report, content);
      if (root != null && isConfigMap(root)) {
        // A whole istio ConfigMap: its data key holds the YAML text.
        JsonNode text = root.path("data").path(configMapKey);
        if (!text.isTextual()) {
          report.error("data." + configMapKey, "the ConfigMap has no data." + configMapKey + "; pass the "
              + configMapKey + " YAML itself or a ConfigMap that holds it");
          return new Parsed<>(null, problems);
        }
        root = single(report, text.textValue());
      }
      if (report.hasErrors()) return new Parsed<>(null, problems);
      if (root == null) return new Parsed<>(empty, problems);
      if (!root.isObject()) {
        report.error("", file + " holds " + Fields.describe(root) + ", not a mapping of fields");
        return new Parsed<>(null, problems);
      }
      T value = reader.apply(Fields.root(report, root));
      return new Parsed<>(report.hasErrors() ? null : value, problems);
    } catch (RuntimeException e) {
      report.error("", "could not read " + file + " (" + e + ")");
      return new Parsed<>(null, problems);
    }
  }

  private static boolean isConfigMap(JsonNode root) {
    return root.isObject() && "ConfigMap".equals(root.path("kind").asText()) && root.has("data");
  }

  /** The one document of the text; null when empty, errors for unreadable or several documents. */
  private static JsonNode single(Report report, String content) {
    List<JsonNode> docs;
    try {
      docs = Yaml.documents(content);
    } catch (Yaml.Unreadable e) {
      report.error("", report.file() + " is " + e.getMessage());
      return null;
    }
    List<JsonNode> present = docs.stream().filter(d -> d != null).toList();
    if (present.size() > 1) {
      report.error("", report.file() + " holds " + present.size() + " YAML documents; it must hold one");
      return null;
    }
    return present.isEmpty() ? null : present.get(0);
  }

  private static MeshConfig meshConfig(Fields f) {
    Report report = f.report();
    MeshConfig d = MeshConfig.defaults();
    String rootNamespace = f.string("rootNamespace", d.rootNamespace());
    if (!Checks.isDnsLabel(rootNamespace)) {
      report.error(f.at("rootNamespace"), Checks.dnsLabel(rootNamespace, "rootNamespace") + "; use a namespace name");
    }
    String trustDomain = f.string("trustDomain", d.trustDomain());
    trustDomain(report, f.at("trustDomain"), trustDomain);
    List<String> aliases = f.strings("trustDomainAliases");
    for (int i = 0; i < aliases.size(); i++) trustDomain(report, f.at("trustDomainAliases") + "[" + i + "]", aliases.get(i));
    List<String> serviceExport = exportTo(f, "defaultServiceExportTo", d.defaultServiceExportTo());
    List<String> vsExport = exportTo(f, "defaultVirtualServiceExportTo", d.defaultVirtualServiceExportTo());
    List<String> drExport = exportTo(f, "defaultDestinationRuleExportTo", d.defaultDestinationRuleExportTo());
    // Outlier detection is a per-DestinationRule matter, so the mesh-wide setting is not warned about it.
    LocalityLbSetting locality = LocalityLbParser.read(f.object("localityLbSetting"), true);
    List<MeshConfig.ServiceSettings> serviceSettings = new ArrayList<>();
    for (Fields s : f.objects("serviceSettings")) serviceSettings.add(serviceSettings(s));
    String meshId = meshId(f);
    List<MeshConfig.CaCertificate> caCertificates = new ArrayList<>();
    for (Fields c : f.objects("caCertificates")) {
      MeshConfig.CaCertificate ca = caCertificate(c);
      if (ca != null) caCertificates.add(ca);
    }
    String outbound = outboundTrafficPolicy(f.object("outboundTrafficPolicy"));
    MeshTelemetry telemetry = MeshTelemetryParser.read(f);
    List<weft.model.ExtAuthzProvider> extAuthz = ExtAuthzProviderParser.read(f);
    f.warnIfSet("is not used by Weft yet; ignored", UNUSED);
    f.warnIfSet("was removed from Istio's MeshConfig; ignored", REMOVED);
    f.rejectUnknown("MeshConfig");
    return new MeshConfig(rootNamespace, trustDomain, aliases, serviceExport, vsExport, drExport,
        locality, serviceSettings, meshId, caCertificates, outbound == null ? d.outboundTrafficPolicy() : outbound,
        telemetry, extAuthz);
  }

  /**
   * {@code outboundTrafficPolicy.mode} (MeshConfig and Sidecar): ALLOW_ANY or REGISTRY_ONLY, null when
   * unset. Istio's egressProxy is not implemented and warned.
   */
  static String outboundTrafficPolicy(Fields p) {
    return outboundTrafficPolicy(p, false);
  }

  /** The same; with {@code egressProxyRead} the caller (a Sidecar) has read egressProxy itself. */
  static String outboundTrafficPolicy(Fields p, boolean egressProxyRead) {
    if (!p.present()) return null;
    String mode = p.enumOf("mode", List.of(MeshConfig.ALLOW_ANY, MeshConfig.REGISTRY_ONLY), MeshConfig.ALLOW_ANY);
    if (!egressProxyRead) p.notImplemented("egressProxy");
    p.rejectUnknown("OutboundTrafficPolicy");
    return mode;
  }

  /**
   * One {@code caCertificates} entry: a PEM bundle for some trust domains (or all), or the SPIFFE bundle
   * endpoint ({@code spiffeBundleUrl}, Istio's field; https_web profile) of exactly one trust domain.
   */
  private static MeshConfig.CaCertificate caCertificate(Fields c) {
    String pem = c.string("pem");
    String url = c.string("spiffeBundleUrl");
    List<String> trustDomains = c.strings("trustDomains");
    for (int i = 0; i < trustDomains.size(); i++) {
      trustDomain(c.report(), c.at("trustDomains") + "[" + i + "]", trustDomains.get(i));
    }
    c.strings("certSigners");
    c.rejectUnknown("CertificateData");
    if (url != null) {
      if (pem != null) {
        c.report().error(c.at("spiffeBundleUrl"), "is set together with pem; an entry holds one of them");
        return null;
      }
      if (trustDomains.size() != 1) {
        c.report().error(c.at("trustDomains"), "a spiffeBundleUrl entry names exactly one trust domain (the "
            + "peer's) in trustDomains; it has " + trustDomains.size());
        return null;
      }
      String full = url.contains("://") ? url : "https://" + url;
      java.net.URI uri;
      try {
        uri = new java.net.URI(full);
      } catch (java.net.URISyntaxException e) {
        c.report().error(c.at("spiffeBundleUrl"), "is not a URL: " + e.getMessage());
        return null;
      }
      if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
        c.report().error(c.at("spiffeBundleUrl"), "must be an https URL with a host (the peer's bundle endpoint)");
        return null;
      }
      return new MeshConfig.CaCertificate(null, trustDomains, uri.toString());
    }
    if (pem == null || !pem.contains("-----BEGIN CERTIFICATE-----")) {
      if (pem != null) c.report().error(c.at("pem"), "is not a PEM certificate bundle; give the CA's root certificates");
      return null;
    }
    return new MeshConfig.CaCertificate(pem, trustDomains);
  }

  /** The mesh id: Istio keeps it in defaultConfig.meshId; a top-level meshId is accepted too. */
  private static String meshId(Fields f) {
    String top = f.string("meshId");
    Fields proxy = f.object("defaultConfig");
    String fromProxy = proxy.string("meshId");
    List<String> ignored = proxy.drainUnread();
    if (!ignored.isEmpty()) {
      f.report().warn(f.at("defaultConfig"), f.at("defaultConfig") + " is not used by Weft yet apart from meshId; "
          + "ignored: " + String.join(", ", ignored));
    }
    if (top != null && fromProxy != null && !top.equals(fromProxy)) {
      f.report().error(f.at("meshId"), "meshId \"" + top + "\" differs from defaultConfig.meshId \"" + fromProxy
          + "\"; set one of them");
    }
    String id = top != null ? top : fromProxy != null ? fromProxy : MeshConfig.defaults().meshId();
    if (!id.isEmpty() && (Checks.wildcardDomain(id) != null || id.contains("*") || id.endsWith("."))) {
      // A peer names our imports NAME.NS.svc.MESH_ID.global: the id must be host-name labels.
      f.report().error(fromProxy != null ? f.at("defaultConfig") + ".meshId" : f.at("meshId"), "meshId \"" + id + "\" is not a DNS "
          + "name (lower-case letters, digits, '-' in dot-separated labels), which federated meshes use in host names; "
          + "pick one such as mesh1");
    }
    return id;
  }

  private static List<String> exportTo(Fields f, String field, List<String> fallback) {
    if (!f.has(field)) {
      f.take(field);
      return fallback;
    }
    List<String> values = f.strings(field);
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (!v.equals("*") && !v.equals(".") && !v.equals("~") && !Checks.isDnsLabel(v)) {
        f.report().error(f.at(field) + "[" + i + "]", "\"" + v + "\" is not a valid exportTo value; use \"*\", "
            + "\".\", \"~\" or a namespace name");
      }
    }
    return values;
  }

  private static MeshConfig.ServiceSettings serviceSettings(Fields s) {
    Fields settings = s.object("settings");
    boolean clusterLocal = settings.bool("clusterLocal", false);
    settings.rejectUnknown("MeshConfig.ServiceSettings.Settings");
    List<String> hosts = s.strings("hosts");
    for (int i = 0; i < hosts.size(); i++) {
      String bad = Checks.wildcardDomain(hosts.get(i));
      if (bad != null) s.report().error(s.at("hosts") + "[" + i + "]", bad);
    }
    s.rejectUnknown("MeshConfig.ServiceSettings");
    return new MeshConfig.ServiceSettings(clusterLocal, hosts);
  }

  private static void trustDomain(Report report, String where, String domain) {
    String[] labels = domain.split("\\.", -1);
    for (int i = 0; i < labels.length; i++) {
      if (i == labels.length - 1 && labels[i].isEmpty() && i > 0) break;
      if (!Checks.isDnsLabel(labels[i])) {
        report.error(where, "trust domain \"" + domain + "\" is invalid; use a DNS name such as cluster.local");
        return;
      }
    }
  }
}
