package weft.registry;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import weft.model.ConfigProblem;
import weft.model.AuthorizationPolicy;
import weft.model.DestinationRule;
import weft.model.PeerAuthentication;
import weft.model.Gateway;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.Sidecar;
import weft.model.VirtualService;

/**
 * One immutable, versioned view of the whole mesh. Generators read only this and the proxy, so
 * their output is a pure function of the two.
 */
public final class MeshSnapshot {
  private final long version;
  private final SortedMap<String, ServiceView> services;
  private final MeshConfiguration config;
  private final MeshConfig meshConfig;
  private final MeshNetworks meshNetworks;
  private final List<ConfigProblem> problems;
  private final Map<String, ClusterStatus> clusters;
  private final Map<String, List<NetworkGateway>> gateways;
  private final long createdNanos = System.nanoTime();
  private volatile Map<String, List<WorkloadAt>> byAddress;

  MeshSnapshot(long version, SortedMap<String, ServiceView> services, MeshConfiguration config,
      MeshConfig meshConfig, MeshNetworks meshNetworks, List<ConfigProblem> problems,
      Map<String, ClusterStatus> clusters, Map<String, List<NetworkGateway>> gateways) {
    this.version = version;
    this.services = Collections.unmodifiableSortedMap(services);
    this.config = config;
    this.meshConfig = meshConfig;
    this.meshNetworks = meshNetworks;
    this.problems = List.copyOf(problems);
    this.clusters = Map.copyOf(clusters);
    this.gateways = Map.copyOf(gateways);
  }

  /** network → its east-west gateways, sorted. */
  public Map<String, List<NetworkGateway>> gateways() {
    return gateways;
  }

  public static MeshSnapshot empty() {
    return new MeshSnapshot(0, new java.util.TreeMap<>(), MeshConfiguration.EMPTY, MeshConfig.defaults(),
        MeshNetworks.empty(), List.of(), Map.of(), Map.of());
  }

  public long version() {
    return version;
  }

  /** {@link System#nanoTime()} when this snapshot was published: the start of convergence for its change. */
  public long createdNanos() {
    return createdNanos;
  }

  /** Every service by hostname, sorted. */
  public SortedMap<String, ServiceView> services() {
    return services;
  }

  public ServiceView service(String host) {
    return services.get(host);
  }

  /** A workload's own endpoints: every service port it serves, found by its address in its cluster. */
  public List<WorkloadAt> endpointsAt(String clusterId, String address) {
    Map<String, List<WorkloadAt>> index = byAddress;
    if (index == null) {
      // Built once per snapshot on first use: only sidecars (inbound config) ask.
      Map<String, List<WorkloadAt>> built = new HashMap<>();
      for (ServiceView v : services.values()) {
        for (WorkloadEndpoint e : v.endpoints()) {
          built.computeIfAbsent(e.clusterId() + "/" + e.address(), k -> new ArrayList<>()).add(new WorkloadAt(v, e));
        }
      }
      byAddress = index = built;
    }
    return index.getOrDefault(clusterId + "/" + address, List.of());
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
      Map<String, List<DestinationRule>> destinationRulesByHost) {
    static final MeshConfiguration EMPTY = of(List.of(), List.of(), List.of(), List.of(), List.of(), List.of());

    static MeshConfiguration of(List<VirtualService> vs, List<DestinationRule> dr, List<Sidecar> sidecars,
        List<Gateway> gateways, List<PeerAuthentication> peerAuthentications,
        List<AuthorizationPolicy> authorizationPolicies) {
      Map<String, List<VirtualService>> vsByHost = new HashMap<>();
      for (VirtualService v : vs) {
        for (String h : v.hosts()) vsByHost.computeIfAbsent(h, k -> new ArrayList<>()).add(v);
      }
      Map<String, List<DestinationRule>> drByHost = new HashMap<>();
      for (DestinationRule d : dr) drByHost.computeIfAbsent(d.host(), k -> new ArrayList<>()).add(d);
      return new MeshConfiguration(List.copyOf(vs), List.copyOf(dr), List.copyOf(sidecars), List.copyOf(gateways),
          List.copyOf(peerAuthentications), List.copyOf(authorizationPolicies), freeze(vsByHost), freeze(drByHost));
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
