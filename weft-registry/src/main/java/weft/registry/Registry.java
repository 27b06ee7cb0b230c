package weft.registry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import weft.model.ConfigProblem;
import weft.model.AuthorizationPolicy;
import weft.model.DestinationRule;
import weft.model.PeerAuthentication;
import weft.model.Gateway;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.Sidecar;
import weft.model.VirtualService;

/**
 * Merges every cluster's state into one {@link MeshSnapshot} and tells listeners what changed.
 *
 * <p>All state changes run on one serialising executor, so sources may call from any thread and
 * listeners see snapshots in order. Only hosts touched by an update are rebuilt.
 */
public final class Registry implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Registry.class.getName());

  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-registry");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, ClusterState> clusters = new LinkedHashMap<>();
  private final Map<String, ClusterSettings> settings = new HashMap<>();
  private final Map<String, Boolean> synced = new HashMap<>();
  private final Map<String, Long> lastSync = new HashMap<>();
  /** cluster → why its state is stale (its source lost contact); absent when fresh. */
  private final Map<String, String> stale = new HashMap<>();
  /** Clusters whose Istio config (VirtualService, DestinationRule, Sidecar) the mesh uses. */
  private final Set<String> configClusters = new HashSet<>();
  private final Map<String, List<ConfigProblem>> problemsBySource = new TreeMap<>();
  private final List<BiConsumer<MeshSnapshot, ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
  /** cluster → endpoints it contributes, kept up to date per touched host rather than recounted. */
  private final Map<String, Integer> endpointCounts = new HashMap<>();
  private MeshConfig meshConfig = MeshConfig.defaults();
  private MeshNetworks meshNetworks = MeshNetworks.empty();
  private volatile MeshSnapshot current = MeshSnapshot.empty();

  public MeshSnapshot current() {
    return current;
  }

  /** Listeners run on the registry thread and must only hand work off. */
  public void addListener(BiConsumer<MeshSnapshot, ChangeEvent> listener) {
    listeners.add(listener);
  }

  public void addCluster(ClusterSettings cluster, boolean configSource) {
    run(() -> {
      clusters.putIfAbsent(cluster.clusterId(), new ClusterState(cluster.clusterId()));
      settings.put(cluster.clusterId(), cluster);
      synced.putIfAbsent(cluster.clusterId(), false);
      if (configSource) configClusters.add(cluster.clusterId());
    });
  }

  /** Removes a cluster and everything it declared (its remote secret was deleted). */
  public void removeCluster(String clusterId) {
    run(() -> {
      ClusterState state = clusters.remove(clusterId);
      if (state == null) return;
      Set<String> hosts = state.hosts();
      boolean hadConfig = configClusters.remove(clusterId);
      settings.remove(clusterId);
      synced.remove(clusterId);
      lastSync.remove(clusterId);
      stale.remove(clusterId);
      endpointCounts.remove(clusterId);
      publish(hosts, hadConfig ? Set.of(new ResourceId("Cluster", "", clusterId)) : Set.of(), false, true);
    });
  }

  /**
   * Replaces a cluster's whole state with a fresh listing (a relist after reconnecting): resources
   * not in {@code fullState} are deleted, the rest applied, and the cluster counts as synced.
   */
  public void resync(String clusterId, Map<ResourceId, Resource> fullState) {
    Map<ResourceId, Resource> copy = new HashMap<>(fullState);
    run(() -> {
      ClusterState state = clusters.get(clusterId);
      if (state == null) return;
      Map<ResourceId, Resource> changes = new HashMap<>(copy);
      for (ResourceId id : state.ids()) changes.putIfAbsent(id, null);
      applyChanges(clusterId, state, changes, true);
    });
  }

  /**
   * Marks a cluster's state as stale (its source lost contact) or fresh again. Stale state keeps
   * serving: an unreachable API server must never empty a cluster's endpoints.
   */
  public void setStale(String clusterId, String reason) {
    run(() -> {
      if (!clusters.containsKey(clusterId)) return;
      String before = stale.get(clusterId);
      if (java.util.Objects.equals(before, reason)) return;
      if (reason == null) stale.remove(clusterId); else stale.put(clusterId, reason);
      publish(Set.of(), Set.of(), false, true);
    });
  }

  /**
   * Applies one batch from a cluster source: each entry replaces a resource, a null value removes
   * it. {@code initialSync} marks the cluster as synced once applied.
   */
  public void update(String clusterId, Map<ResourceId, Resource> changes, boolean initialSync) {
    Map<ResourceId, Resource> copy = new HashMap<>(changes);
    run(() -> {
      ClusterState state = clusters.get(clusterId);
      if (state == null) {
        LOG.log(System.Logger.Level.WARNING, "update for unknown cluster " + clusterId + " ignored");
        return;
      }
      applyChanges(clusterId, state, copy, initialSync);
    });
  }

  private void applyChanges(String clusterId, ClusterState state, Map<ResourceId, Resource> changes, boolean sync) {
    Set<String> hosts = new HashSet<>();
    Set<ResourceId> configs = new HashSet<>();
    for (Map.Entry<ResourceId, Resource> e : changes.entrySet()) {
      Resource before = state.get(e.getKey());
      if (Objects.equals(before, e.getValue())) continue;
      hosts.addAll(state.apply(e.getKey(), e.getValue()));
      if (state.isConfig(e.getKey()) && configClusters.contains(clusterId)) configs.add(e.getKey());
    }
    if (sync) synced.put(clusterId, true);
    lastSync.put(clusterId, System.currentTimeMillis());
    publish(hosts, configs, false, sync);
  }

  /** Replaces the problems one source (a file, a cluster) reports; they show in every snapshot. */
  public void reportProblems(String source, List<ConfigProblem> problems) {
    List<ConfigProblem> copy = List.copyOf(problems);
    run(() -> {
      List<ConfigProblem> before = problemsBySource.get(source);
      if (copy.equals(before == null ? List.of() : before)) return;
      if (copy.isEmpty()) problemsBySource.remove(source); else problemsBySource.put(source, copy);
      publish(Set.of(), Set.of(), false, true);
    });
  }

  public void setMeshConfig(MeshConfig config) {
    run(() -> {
      meshConfig = config;
      publish(Set.of(), Set.of(), true, false);
    });
  }

  public void setMeshNetworks(MeshNetworks networks) {
    run(() -> {
      meshNetworks = networks;
      publish(Set.of(), Set.of(), true, false);
    });
  }

  /** Waits until every update submitted so far has been published (tests, start-up). */
  public void flush() {
    try {
      executor.submit(() -> { }).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("registry did not settle", e);
    }
  }

  private void run(Runnable task) {
    executor.execute(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "registry update failed; keeping the last snapshot", e);
      }
    });
  }

  private void publish(Set<String> touchedHosts, Set<ResourceId> configs, boolean full, boolean statusOnly) {
    MeshSnapshot prev = current;
    TreeMap<String, ServiceView> services;
    Set<String> endpointHosts = new HashSet<>();
    Set<String> serviceHosts = new HashSet<>();
    if (full) {
      services = new TreeMap<>();
      endpointCounts.clear();
      for (String host : allHosts()) {
        ServiceView view = buildHost(host);
        if (view != null) services.put(host, view);
        count(view, 1);
      }
    } else {
      services = new TreeMap<>(prev.services());
      for (String host : touchedHosts) {
        ServiceView before = prev.service(host);
        ServiceView after = buildHost(host);
        if (Objects.equals(before, after)) continue;
        if (after == null) services.remove(host); else services.put(host, after);
        reportAddressConflicts(host, after);
        count(before, -1);
        count(after, 1);
        if (before != null && after != null && before.service().equals(after.service())
            && identities(before).equals(identities(after))) {
          endpointHosts.add(host);
        } else {
          serviceHosts.add(host);
        }
      }
    }
    MeshSnapshot.MeshConfiguration config = configs.isEmpty() && !full ? prev.config() : collectConfig();
    // Gateways follow Services (labels, external addresses) and MeshNetworks: recomputed when any
    // host was touched, since those fields are not part of the service model.
    Map<String, List<NetworkGateway>> gateways = full || !touchedHosts.isEmpty()
        ? NetworkGateways.find(clusters.values(), meshNetworks) : prev.gateways();
    ChangeEvent change = full || !gateways.equals(prev.gateways()) ? ChangeEvent.FULL
        : new ChangeEvent(endpointHosts, serviceHosts, configs, false);
    if (change.isEmpty() && !statusOnly) return;
    List<ConfigProblem> problems = new ArrayList<>();
    problemsBySource.values().forEach(problems::addAll);
    MeshSnapshot next = new MeshSnapshot(prev.version() + 1, services, config, meshConfig, meshNetworks, problems,
        clusterStatuses(), gateways);
    current = next;
    for (BiConsumer<MeshSnapshot, ChangeEvent> l : listeners) {
      try {
        l.accept(next, change);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "snapshot listener failed", e);
      }
    }
  }

  /**
   * One address may be used in several networks (overlapping ranges), but twice in one network by
   * different clusters it cannot be told apart: reported against the host, both kept.
   */
  private void reportAddressConflicts(String host, ServiceView view) {
    List<ConfigProblem> problems = new ArrayList<>();
    if (view != null) {
      Map<String, String> owner = new HashMap<>();
      Set<String> reported = new HashSet<>();
      for (WorkloadEndpoint e : view.endpoints()) {
        String key = e.network() + "|" + e.address();
        String first = owner.putIfAbsent(key, e.clusterId());
        if (first != null && !first.equals(e.clusterId()) && reported.add(key)) {
          problems.add(ConfigProblem.warning("clusters " + first + " and " + e.clusterId(), null, null,
              "address " + e.address() + " of " + host + " is used by both clusters in network '" + e.network()
                  + "': clients cannot tell the two apart; give the clusters different networks or ranges"));
        }
      }
    }
    List<ConfigProblem> before = problemsBySource.get("conflict:" + host);
    if (problems.isEmpty()) problemsBySource.remove("conflict:" + host); else problemsBySource.put("conflict:" + host, problems);
    if (!problems.isEmpty() && !problems.equals(before)) problems.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
  }

  /**
   * Who serves a host and whether they take mTLS: clients' SAN lists and auto-mTLS choices (in
   * clusters, not endpoints) depend on it, so a change here is a service change, not endpoints only.
   */
  private static Set<String> identities(ServiceView view) {
    Set<String> out = new java.util.TreeSet<>();
    for (WorkloadEndpoint e : view.endpoints()) {
      out.add(e.serviceAccount() + "|" + e.labels().getOrDefault("security.istio.io/tlsMode", ""));
    }
    return out;
  }

  private Set<String> allHosts() {
    Set<String> hosts = new HashSet<>();
    clusters.values().forEach(c -> hosts.addAll(c.hosts()));
    return hosts;
  }

  /**
   * Namespace sameness: a host declared by several clusters is one service. The first cluster
   * added (the control plane's own) defines ports and visibility; endpoints and per-cluster
   * addresses are the union.
   */
  private ServiceView buildHost(String host) {
    MeshService service = null;
    Map<String, String> addresses = new TreeMap<>();
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    java.util.SortedSet<String> declaredIn = new java.util.TreeSet<>();
    for (ClusterState cluster : clusters.values()) {
      ServiceView view = new HostBuilder(cluster, settings.get(cluster.clusterId), meshConfig, meshNetworks).build(host);
      if (view == null) continue;
      declaredIn.add(cluster.clusterId);
      if (service == null) service = view.service();
      addresses.putAll(view.service().addresses());
      endpoints.addAll(view.endpoints());
    }
    if (service == null) return null;
    MeshService merged = new MeshService(service.hostname(), service.namespace(), service.name(), service.origin(),
        service.ports(), addresses, service.exportTo(), service.resolution(), service.meshExternal(), declaredIn);
    return new ServiceView(merged, endpoints);
  }

  private MeshSnapshot.MeshConfiguration collectConfig() {
    List<VirtualService> vs = new ArrayList<>();
    List<DestinationRule> dr = new ArrayList<>();
    List<Sidecar> sc = new ArrayList<>();
    List<Gateway> gw = new ArrayList<>();
    List<PeerAuthentication> pa = new ArrayList<>();
    List<AuthorizationPolicy> ap = new ArrayList<>();
    for (String id : configClusters) {
      ClusterState c = clusters.get(id);
      pa.addAll(c.all(PeerAuthentication.class));
      ap.addAll(c.all(AuthorizationPolicy.class));
      vs.addAll(c.all(VirtualService.class));
      dr.addAll(c.all(DestinationRule.class));
      sc.addAll(c.all(Sidecar.class));
      gw.addAll(c.all(Gateway.class));
    }
    Comparator<Resource> byId = Comparator.comparing(Resource::id);
    vs.sort(byId);
    dr.sort(byId);
    sc.sort(byId);
    gw.sort(byId);
    pa.sort(byId);
    ap.sort(byId);
    return MeshSnapshot.MeshConfiguration.of(vs, dr, sc, gw, pa, ap);
  }

  private void count(ServiceView view, int sign) {
    if (view == null) return;
    for (WorkloadEndpoint e : view.endpoints()) endpointCounts.merge(e.clusterId(), sign, Integer::sum);
  }

  private Map<String, MeshSnapshot.ClusterStatus> clusterStatuses() {
    Map<String, MeshSnapshot.ClusterStatus> out = new TreeMap<>();
    for (ClusterState c : clusters.values()) {
      ClusterSettings s = settings.get(c.clusterId);
      out.put(c.clusterId, new MeshSnapshot.ClusterStatus(c.clusterId, s.defaultNetwork(), synced.get(c.clusterId),
          lastSync.getOrDefault(c.clusterId, 0L), c.hostCount(), endpointCounts.getOrDefault(c.clusterId, 0),
          stale.get(c.clusterId)));
    }
    return out;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
