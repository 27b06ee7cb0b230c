package weft.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import weft.model.ConfigProblem;
import weft.model.AuthorizationPolicy;
import weft.model.DestinationRule;
import weft.model.PeerAuthentication;
import weft.model.ResourceId;
import weft.model.TlsSecret;
import weft.model.Gateway;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.Sidecar;
import weft.model.VirtualService;

/**
 * One immutable, versioned view of the whole mesh. Generators read only this and the proxy, so
 * their output is a pure function of the two.
 *
 * <p>Consecutive snapshots share structure: the service map and the by-address index are
 * persistent trees, so a snapshot that changed one host shares every other host's nodes with the
 * one before it, and an earlier snapshot never sees a later change.
 */
public final class MeshSnapshot {
  private final long version;
  private final PersistentSortedMap<String, ServiceView> serviceTree;
  private final SortedMap<String, ServiceView> services;
  private final WorkloadIndex workloads;
  private final MeshConfiguration config;
  private final MeshConfig meshConfig;
  private final MeshNetworks meshNetworks;
  private final List<ConfigProblem> problems;
  private final Map<String, ClusterStatus> clusters;
  private final Map<String, List<NetworkGateway>> gateways;
  private final List<McsExportStatus> mcsExports;
  private final Map<ResourceId, TlsSecret> secrets;
  private final ProxyPolicies proxyPolicies;
  private final java.util.Set<String> gatewayCertificates;
  private final long createdNanos = System.nanoTime();

  MeshSnapshot(long version, PersistentSortedMap<String, ServiceView> services, WorkloadIndex workloads,
      MeshConfiguration config, MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways,
      List<McsExportStatus> mcsExports) {
    this(version, services, workloads, config, meshConfig, meshNetworks, problems, clusters, gateways, mcsExports,
        Map.of(), ProxyPolicies.EMPTY);
  }

  MeshSnapshot(long version, PersistentSortedMap<String, ServiceView> services, WorkloadIndex workloads,
      MeshConfiguration config, MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways,
      List<McsExportStatus> mcsExports, Map<ResourceId, TlsSecret> secrets) {
    this(version, services, workloads, config, meshConfig, meshNetworks, problems, clusters, gateways, mcsExports,
        secrets, ProxyPolicies.EMPTY);
  }

  MeshSnapshot(long version, PersistentSortedMap<String, ServiceView> services, WorkloadIndex workloads,
      MeshConfiguration config, MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways,
      List<McsExportStatus> mcsExports, ProxyPolicies proxyPolicies) {
    this(version, services, workloads, config, meshConfig, meshNetworks, problems, clusters, gateways, mcsExports,
        Map.of(), proxyPolicies);
  }

  MeshSnapshot(long version, PersistentSortedMap<String, ServiceView> services, WorkloadIndex workloads,
      MeshConfiguration config, MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways,
      List<McsExportStatus> mcsExports, Map<ResourceId, TlsSecret> secrets, ProxyPolicies proxyPolicies) {
    this(version, services, workloads, config, meshConfig, meshNetworks, problems, clusters, gateways, mcsExports,
        secrets, proxyPolicies, java.util.Set.of());
  }

  MeshSnapshot(long version, PersistentSortedMap<String, ServiceView> services, WorkloadIndex workloads,
      MeshConfiguration config, MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways,
      List<McsExportStatus> mcsExports, Map<ResourceId, TlsSecret> secrets, ProxyPolicies proxyPolicies,
      java.util.Set<String> gatewayCertificates) {
    this.gatewayCertificates = java.util.Set.copyOf(gatewayCertificates);
    this.proxyPolicies = proxyPolicies;
    this.version = version;
    this.serviceTree = services;
    this.services = services.asSortedMap();
    this.workloads = workloads;
    this.config = config;
    this.meshConfig = meshConfig;
    this.meshNetworks = meshNetworks;
    this.problems = List.copyOf(problems);
    this.clusters = Map.copyOf(clusters);
    this.gateways = Map.copyOf(gateways);
    this.mcsExports = List.copyOf(mcsExports);
    this.secrets = Map.copyOf(secrets);
  }

  /**
   * The TLS Secrets of the config clusters (Kubernetes API or {@code --config-dir}), by id: what SDS
   * serves for {@code credentialName}. Holds private keys: never print it; status shows only
   * {@link TlsSecret#id()}, what it holds and its validity.
   */
  public Map<ResourceId, TlsSecret> secrets() {
    return secrets;
  }

  /**
   * Every ServiceExport's status as KEP-1645 defines it (Valid, Conflict), sorted by namespace, name
   * and cluster; empty while Multi-Cluster Services are off.
   */
  public List<McsExportStatus> mcsExports() {
    return mcsExports;
  }

  /**
   * The certificate references of Gateway API listeners that the translation verified (the Secret
   * in the Gateway's namespace, or a ReferenceGrant allowing it), as {@code "GATEWAY_NAMESPACE
   * kubernetes-gateway://NS/NAME"}: the Secrets SDS may send a gateway of that namespace without
   * asking Kubernetes RBAC, as Istio's VerifiedCertificateReferences. Only the translation's own
   * output counts, never an Istio Gateway a user wrote with such a name.
   */
  public java.util.Set<String> gatewayCertificates() {
    return gatewayCertificates;
  }

  /** Telemetry, ProxyConfig and WorkloadGroup resources of the config clusters. */
  public ProxyPolicies proxyPolicies() {
    return proxyPolicies;
  }

  /** network → its east-west gateways, sorted. */
  public Map<String, List<NetworkGateway>> gateways() {
    return gateways;
  }

  public static MeshSnapshot empty() {
    return new MeshSnapshot(0, PersistentSortedMap.empty(), WorkloadIndex.EMPTY, MeshConfiguration.EMPTY,
        MeshConfig.defaults(),
        MeshNetworks.empty(), List.of(), Map.of(), Map.of(), List.of(), Map.of());
  }

  public long version() {
    return version;
  }

  /** {@link System#nanoTime()} when this snapshot was published: the start of convergence for its change. */
  public long createdNanos() {
    return createdNanos;
  }

  /** Every service by hostname, sorted; read-only, O(log n) per lookup. */
  public SortedMap<String, ServiceView> services() {
    return services;
  }

  public ServiceView service(String host) {
    return services.get(host);
  }

  /**
   * A workload's own endpoints: every service port it serves, found by its address in its cluster;
   * in host order, then the host's endpoint order. The index is kept up to date by the registry per
   * touched host, so asking costs O(log n) on every snapshot.
   */
  public List<WorkloadAt> endpointsAt(String clusterId, String address) {
    return workloads.at(clusterId, address);
  }

  /** The persistent service map, for the registry's next update. */
  PersistentSortedMap<String, ServiceView> serviceTree() {
    return serviceTree;
  }

  /** The persistent by-address index, for the registry's next update. */
  WorkloadIndex workloads() {
    return workloads;
  }

  /** One service port a workload serves. */
  public record WorkloadAt(ServiceView service, WorkloadEndpoint endpoint) {}

  public MeshConfiguration config() {
    return config;
  }

  public MeshConfig meshConfig() {
    return meshConfig;
  }

  public MeshNetworks meshNetworks() {
    return meshNetworks;
  }

  public List<ConfigProblem> problems() {
    return problems;
  }

  public Map<String, ClusterStatus> clusters() {
    return clusters;
  }

  /** Routing and visibility config, sorted by resource id, indexed by the host each names. */
  public record MeshConfiguration(List<VirtualService> virtualServices, List<DestinationRule> destinationRules,
      List<Sidecar> sidecars, List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
      List<AuthorizationPolicy> authorizationPolicies, Map<String, List<VirtualService>> virtualServicesByHost,
      Map<String, List<DestinationRule>> destinationRulesByHost,
      List<weft.model.EnvoyFilter> envoyFilters, List<weft.model.WasmPlugin> wasmPlugins,
      List<weft.model.RequestAuthentication> requestAuthentications) {
    static final MeshConfiguration EMPTY = of(List.of(), List.of(), List.of(), List.of(), List.of(), List.of());

    public MeshConfiguration {
      envoyFilters = List.copyOf(envoyFilters);
      wasmPlugins = List.copyOf(wasmPlugins);
      requestAuthentications = List.copyOf(requestAuthentications);
    }

    /** Without proxy extensions or RequestAuthentications. */
    public MeshConfiguration(List<VirtualService> virtualServices, List<DestinationRule> destinationRules,
        List<Sidecar> sidecars, List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies, Map<String, List<VirtualService>> virtualServicesByHost,
        Map<String, List<DestinationRule>> destinationRulesByHost) {
      this(virtualServices, destinationRules, sidecars, gateways, peerAuthentications, authorizationPolicies,
          virtualServicesByHost, destinationRulesByHost, List.of(), List.of(), List.of());
    }

    static MeshConfiguration of(List<VirtualService> vs, List<DestinationRule> dr, List<Sidecar> sidecars,
        List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies) {
      return of(vs, dr, sidecars, gateways, peerAuthentications, authorizationPolicies, List.of(), List.of(), List.of());
    }

    /** With RequestAuthentications, without proxy extensions. */
    static MeshConfiguration of(List<VirtualService> vs, List<DestinationRule> dr, List<Sidecar> sidecars,
        List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies, List<weft.model.RequestAuthentication> requestAuthentications) {
      return of(vs, dr, sidecars, gateways, peerAuthentications, authorizationPolicies, List.of(), List.of(),
          requestAuthentications);
    }

    /** With the proxy extensions (EnvoyFilters and WasmPlugins), without RequestAuthentications. */
    static MeshConfiguration of(List<VirtualService> vs, List<DestinationRule> dr, List<Sidecar> sidecars,
        List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies, List<weft.model.EnvoyFilter> envoyFilters,
        List<weft.model.WasmPlugin> wasmPlugins) {
      return of(vs, dr, sidecars, gateways, peerAuthentications, authorizationPolicies, envoyFilters, wasmPlugins,
          List.of());
    }

    /** Everything, each list sorted by id. */
    static MeshConfiguration of(List<VirtualService> vs, List<DestinationRule> dr, List<Sidecar> sidecars,
        List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies, List<weft.model.EnvoyFilter> envoyFilters,
        List<weft.model.WasmPlugin> wasmPlugins, List<weft.model.RequestAuthentication> requestAuthentications) {
      Map<String, List<VirtualService>> vsByHost = new HashMap<>();
      for (VirtualService v : vs) {
        for (String h : v.hosts()) vsByHost.computeIfAbsent(h, k -> new ArrayList<>()).add(v);
      }
      Map<String, List<DestinationRule>> drByHost = new HashMap<>();
      for (DestinationRule d : dr) drByHost.computeIfAbsent(d.host(), k -> new ArrayList<>()).add(d);
      return new MeshConfiguration(List.copyOf(vs), List.copyOf(dr), List.copyOf(sidecars), List.copyOf(gateways),
          List.copyOf(peerAuthentications), List.copyOf(authorizationPolicies), freeze(vsByHost), freeze(drByHost),
          envoyFilters, wasmPlugins, requestAuthentications);
    }

    private static <T> Map<String, List<T>> freeze(Map<String, List<T>> m) {
      Map<String, List<T>> out = new HashMap<>();
      m.forEach((k, v) -> out.put(k, List.copyOf(v)));
      return Map.copyOf(out);
    }
  }

  /**
   * A cluster as the registry last saw it. {@code staleReason} is null while its source is in
   * contact; otherwise its last known state is serving and this says why it may be out of date.
   */
  public record ClusterStatus(String clusterId, String network, boolean synced, long lastSyncMillis, int services,
      int endpoints, String staleReason) {
    public boolean stale() {
      return staleReason != null;
    }
  }
}
