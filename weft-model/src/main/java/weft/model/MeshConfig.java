package weft.model;

import java.util.List;

/**
 * The parts of Istio's MeshConfig that Weft reads. Defaults are Istio's: root namespace
 * {@code istio-system}, trust domain {@code cluster.local}, export to everyone.
 */
public record MeshConfig(String rootNamespace, String trustDomain, List<String> trustDomainAliases,
    List<String> defaultServiceExportTo, List<String> defaultVirtualServiceExportTo,
    List<String> defaultDestinationRuleExportTo, LocalityLbSetting localityLbSetting,
    List<ServiceSettings> serviceSettings, String meshId, List<CaCertificate> caCertificates,
    String outboundTrafficPolicy,
    MeshTelemetry telemetry, List<ExtAuthzProvider> extAuthzProviders) {
  /** Istio's {@code outboundTrafficPolicy.mode} values; ALLOW_ANY is its default. */
  public static final String ALLOW_ANY = "ALLOW_ANY";
  public static final String REGISTRY_ONLY = "REGISTRY_ONLY";

  /** A mesh config with the default outbound traffic policy (ALLOW_ANY). */
  public MeshConfig(String rootNamespace, String trustDomain, List<String> trustDomainAliases,
      List<String> defaultServiceExportTo, List<String> defaultVirtualServiceExportTo,
      List<String> defaultDestinationRuleExportTo, LocalityLbSetting localityLbSetting,
      List<ServiceSettings> serviceSettings, String meshId, List<CaCertificate> caCertificates) {
    this(rootNamespace, trustDomain, trustDomainAliases, defaultServiceExportTo, defaultVirtualServiceExportTo,
        defaultDestinationRuleExportTo, localityLbSetting, serviceSettings, meshId, caCertificates, ALLOW_ANY);
  }

  /** A mesh config without telemetry settings. */
  public MeshConfig(String rootNamespace, String trustDomain, List<String> trustDomainAliases,
      List<String> defaultServiceExportTo, List<String> defaultVirtualServiceExportTo,
      List<String> defaultDestinationRuleExportTo, LocalityLbSetting localityLbSetting,
      List<ServiceSettings> serviceSettings, String meshId, List<CaCertificate> caCertificates,
      String outboundTrafficPolicy) {
    this(rootNamespace, trustDomain, trustDomainAliases, defaultServiceExportTo, defaultVirtualServiceExportTo,
        defaultDestinationRuleExportTo, localityLbSetting, serviceSettings, meshId, caCertificates,
        outboundTrafficPolicy, MeshTelemetry.NONE);
  }

  /** A mesh config without external authorization providers. */
  public MeshConfig(String rootNamespace, String trustDomain, List<String> trustDomainAliases,
      List<String> defaultServiceExportTo, List<String> defaultVirtualServiceExportTo,
      List<String> defaultDestinationRuleExportTo, LocalityLbSetting localityLbSetting,
      List<ServiceSettings> serviceSettings, String meshId, List<CaCertificate> caCertificates,
      String outboundTrafficPolicy, MeshTelemetry telemetry) {
    this(rootNamespace, trustDomain, trustDomainAliases, defaultServiceExportTo, defaultVirtualServiceExportTo,
        defaultDestinationRuleExportTo, localityLbSetting, serviceSettings, meshId, caCertificates,
        outboundTrafficPolicy, telemetry, List.of());
  }

  public MeshConfig {
    extAuthzProviders = extAuthzProviders == null ? List.of() : List.copyOf(extAuthzProviders);
    telemetry = telemetry == null ? MeshTelemetry.NONE : telemetry;
    outboundTrafficPolicy = outboundTrafficPolicy == null ? ALLOW_ANY : outboundTrafficPolicy;
    trustDomainAliases = List.copyOf(trustDomainAliases);
    defaultServiceExportTo = List.copyOf(defaultServiceExportTo);
    defaultVirtualServiceExportTo = List.copyOf(defaultVirtualServiceExportTo);
    defaultDestinationRuleExportTo = List.copyOf(defaultDestinationRuleExportTo);
    serviceSettings = List.copyOf(serviceSettings);
    caCertificates = List.copyOf(caCertificates);
  }

  /**
   * Another CA whose roots the mesh trusts (MeshConfig {@code caCertificates}): for the listed
   * trust domains, or all of them when none is listed, as Istio reads it.
   */
  /**
   * One {@code caCertificates} entry: roots as {@code pem}, or {@code spiffeBundleUrl}, the SPIFFE bundle
   * endpoint (https_web profile) of the one trust domain in {@code trustDomains}, followed by the control
   * plane. Exactly one of the two is set.
   */
  public record CaCertificate(String pem, List<String> trustDomains, String spiffeBundleUrl) {
    public CaCertificate {
      trustDomains = List.copyOf(trustDomains);
    }

    /** Roots given as PEM. */
    public CaCertificate(String pem, List<String> trustDomains) {
      this(pem, trustDomains, null);
    }
  }

  /** The external authorization provider named {@code name}, or null. */
  public ExtAuthzProvider extAuthzProvider(String name) {
    for (ExtAuthzProvider p : extAuthzProviders) {
      if (p.name().equals(name)) return p;
    }
    return null;
  }

  public static MeshConfig defaults() {
    return new MeshConfig("istio-system", "cluster.local", List.of(), List.of("*"), List.of("*"), List.of("*"),
        null, List.of(), "", List.of());
  }

  /**
   * The name of this mesh among federated meshes: {@code defaultConfig.meshId} when set, else the
   * trust domain (Istio's default). Imports from a peer are named {@code NAME.NS.svc.MESH_ID.SUFFIX}.
   */
  public String effectiveMeshId() {
    return meshId == null || meshId.isEmpty() ? trustDomain : meshId;
  }

  /** {@code hosts} may hold wildcards such as {@code *.svc.cluster.local}. */
  public record ServiceSettings(boolean clusterLocal, List<String> hosts) {
    public ServiceSettings {
      hosts = List.copyOf(hosts);
    }
  }
}
