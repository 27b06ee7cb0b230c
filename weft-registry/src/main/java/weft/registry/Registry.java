package weft.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
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
import weft.model.TlsSecret;
import weft.model.Sidecar;
import weft.model.VirtualService;

/**
 * Merges every cluster's state into one {@link MeshSnapshot} and tells listeners what changed.
 *
 * <p>All state below is owned by one serialising executor (the "weft-registry" thread): sources
 * may call from any thread, listeners see snapshots in order, and only {@link #current} is read
 * from other threads. An update costs in proportion to the hosts and clusters it touches (see
 * {@link #publish}); status that no proxy can see is published with {@link ChangeEvent#NONE}.
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
  /**
   * cluster → feed → why that feed's state is stale (its source lost contact); absent when fresh. A
   * cluster has one feed ("") but for an external control plane's config cluster that also runs
   * workloads: its Istio config and its workloads come through two connections that fail alone.
   */
  private final Map<String, Map<String, String>> stale = new HashMap<>();
  /** Clusters whose Istio config (VirtualService, DestinationRule, Sidecar) the mesh uses. */
  private final Set<String> configClusters = new HashSet<>();
  private final Map<String, List<ConfigProblem>> problemsBySource = new TreeMap<>();
  /** The last Gateway API translation: its problems are reported after each config rebuild. */
  /** The certificate references the last Gateway API translation verified, for SDS (see MeshSnapshot). */
  private Set<String> gatewayCertificates = Set.of();
  private volatile weft.model.gatewayapi.GatewayApiTranslation.Result gatewayApi =
      weft.model.gatewayapi.GatewayApiTranslation.Result.EMPTY;
  private final List<BiConsumer<MeshSnapshot, ChangeEvent>> listeners = new CopyOnWriteArrayList<>();
  /** cluster → endpoints it contributes, kept up to date per touched host rather than recounted. */
  private final Map<String, Integer> endpointCounts = new HashMap<>();
  /** cluster → its host builder for the current settings, mesh config and MeshNetworks. */
  private final Map<String, HostBuilder> builders = new HashMap<>();
  /** cluster → the gateways its Services provide, redone only when a gateway Service there changes. */
  private final Map<String, List<NetworkGateway>> gatewaysByCluster = new HashMap<>();
  /** MeshNetworks gateways given by address (no cluster), redone when MeshNetworks changes. */
  private List<NetworkGateway> addressGateways = List.of();
  /** Every source's problems as one list, or null after one changed (rebuilt on the next publish). */
  private List<ConfigProblem> problems = List.of();
  private MeshConfig meshConfig = MeshConfig.defaults();
  private MeshNetworks meshNetworks = MeshNetworks.empty();
  /** Multi-Cluster Services: read by sources when they start (which kinds to watch), so volatile. */
  private volatile McsSettings mcs = McsSettings.OFF;
  /** clusterset host → the status of each of its ServiceExports, redone with the host. */
  private final Map<String, List<McsExportStatus>> mcsStatusByHost = new TreeMap<>();
  /** Every ServiceExport's status as one sorted list, or null after one changed. */
  private List<McsExportStatus> mcsStatuses = List.of();
  private volatile MeshSnapshot current = MeshSnapshot.empty();

  public MeshSnapshot current() {
    return current;
  }

  /** Listeners run on the registry thread and must only hand work off. */
  /** Where API-server events are counted (Istio's pilot_k8s_reg_events and pilot_k8s_cfg_events). */
  public interface ApiEvents {
    ApiEvents NONE = (config, type, event) -> { };

    /** One informer event: {@code config} for Istio kinds; event is add, update or delete. */
    void event(boolean config, String type, String event);
  }

  private volatile ApiEvents apiEvents = ApiEvents.NONE;

  /** Counts the API-server events of every cluster source from now on (the control plane's metrics). */
  public void countApiEvents(ApiEvents counter) {
    apiEvents = java.util.Objects.requireNonNull(counter);
  }

  public ApiEvents apiEvents() {
    return apiEvents;
  }

  public void addListener(BiConsumer<MeshSnapshot, ChangeEvent> listener) {
    listeners.add(listener);
  }

  /**
   * Turns Multi-Cluster Services on or off (see {@link McsSettings}). Call before sources start:
   * they read ServiceExport and ServiceImport only when {@link McsSettings#reads} was true then.
   */
  public void setMcs(McsSettings settings) {
    mcs = settings;
    run(() -> publish(Update.MESH_WIDE));
  }

  public McsSettings mcs() {
    return mcs;
  }

  public void addCluster(ClusterSettings cluster, boolean configSource) {
    run(() -> {
      clusters.putIfAbsent(cluster.clusterId(), new ClusterState(cluster.clusterId()));
      settings.put(cluster.clusterId(), cluster);
      builders.remove(cluster.clusterId());
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
      hosts.addAll(state.exportedHosts()); // an export without its Service has a status to drop
      boolean hadConfig = configClusters.remove(clusterId);
      settings.remove(clusterId);
      synced.remove(clusterId);
      lastSync.remove(clusterId);
      stale.remove(clusterId);
      builders.remove(clusterId);
      publish(new Update(mcs.reads() ? withMcsTwins(hosts) : hosts, hadConfig ? Set.of(new ResourceId("Cluster", "", clusterId)) : Set.of(),
          Set.of(clusterId), false, true));
      // Rebuilding its hosts took its endpoints off its count; the emptied entry goes last.
      endpointCounts.remove(clusterId);
    });
  }

  /**
   * Replaces a cluster's whole state with a fresh listing (a relist after reconnecting): resources
   * not in {@code fullState} are deleted, the rest applied, and the cluster counts as synced.
   */
  public void resync(String clusterId, Map<ResourceId, Resource> fullState) {
    resync(clusterId, fullState, id -> true);
  }

  /**
   * As {@link #resync(String, Map)}, for a source that gives only part of a cluster's state: only
   * resources in {@code scope} (the kinds the source reads) that are not in {@code fullState} are
   * deleted, so two sources of one cluster (its config and its workloads) never delete each other's.
   */
  public void resync(String clusterId, Map<ResourceId, Resource> fullState,
      java.util.function.Predicate<ResourceId> scope) {
    Map<ResourceId, Resource> copy = new HashMap<>(fullState);
    run(() -> {
      ClusterState state = clusters.get(clusterId);
      if (state == null) return;
      Map<ResourceId, Resource> changes = new HashMap<>(copy);
      for (ResourceId id : state.ids()) {
        if (scope.test(id)) changes.putIfAbsent(id, null);
      }
      applyChanges(clusterId, state, changes, true);
    });
  }

  /**
   * Marks a cluster's state as stale (its source lost contact) or fresh again. Stale state keeps
   * serving: an unreachable API server must never empty a cluster's endpoints.
   */
  public void setStale(String clusterId, String reason) {
    setStale(clusterId, "", reason);
  }

  /**
   * As {@link #setStale(String, String)}, for one of a cluster's feeds (see {@link #resync(String,
   * Map, java.util.function.Predicate)}); the cluster is stale while any of its feeds is.
   */
  public void setStale(String clusterId, String feed, String reason) {
    run(() -> {
      if (!clusters.containsKey(clusterId)) return;
      Map<String, String> feeds = stale.computeIfAbsent(clusterId, id -> new TreeMap<>());
      String before = feeds.get(feed);
      if (java.util.Objects.equals(before, reason)) return;
      if (reason == null) feeds.remove(feed); else feeds.put(feed, reason);
      if (feeds.isEmpty()) stale.remove(clusterId);
      publish(Update.STATUS);
    });
  }

  /** A cluster's stale reasons as one line, each feed but the default one named; null when fresh. */
  private String staleReason(String clusterId) {
    Map<String, String> feeds = stale.get(clusterId);
    if (feeds == null || feeds.isEmpty()) return null;
    List<String> parts = new ArrayList<>();
    feeds.forEach((feed, reason) -> parts.add(feed.isEmpty() ? reason : feed + ": " + reason));
    return String.join("; ", parts);
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
    Set<ResourceId> secrets = new HashSet<>();
    boolean gateways = false;
    for (Map.Entry<ResourceId, Resource> e : changes.entrySet()) {
      Resource before = state.get(e.getKey());
      if (Objects.equals(before, e.getValue())) continue;
      gateways |= NetworkGateways.canChange(before) || NetworkGateways.canChange(e.getValue());
      hosts.addAll(state.apply(e.getKey(), e.getValue()));
      if (state.isConfig(e.getKey()) && configClusters.contains(clusterId)) configs.add(e.getKey());
      // A namespace's labels decide which Gateway API listeners admit its routes.
      if (e.getKey().kind().equals("Namespace") && configClusters.contains(clusterId)
          && !state.all(weft.model.KubernetesGateway.class).isEmpty()) {
        configs.add(e.getKey());
      }
      // credentialName Secrets are read from the config clusters, as Istio reads its config.
      if (e.getKey().kind().equals("Secret") && configClusters.contains(clusterId)) secrets.add(e.getKey());
    }
    if (sync) synced.put(clusterId, true);
    lastSync.put(clusterId, System.currentTimeMillis());
    if (mcs.reads()) hosts = withMcsTwins(hosts);
    publish(new Update(hosts, configs, gateways ? Set.of(clusterId) : Set.of(), false, sync, secrets));
  }

  /** Replaces the problems one source (a file, a cluster) reports; they show in every snapshot. */
  public void reportProblems(String source, List<ConfigProblem> problems) {
    List<ConfigProblem> copy = List.copyOf(problems);
    run(() -> {
      List<ConfigProblem> before = problemsBySource.get(source);
      if (copy.equals(before == null ? List.of() : before)) return;
      if (copy.isEmpty()) problemsBySource.remove(source); else problemsBySource.put(source, copy);
      this.problems = null;
      publish(Update.STATUS);
    });
  }

  public void setMeshConfig(MeshConfig config) {
    run(() -> {
      meshConfig = config;
      builders.clear();
      publish(Update.MESH_WIDE);
    });
  }

  /**
   * Publishes the same state again as a mesh-wide change, so every proxy's config is generated
   * afresh: for inputs that generation reads from outside the registry (a federated peer's trust
   * bundle). Queued behind every change handed over before it, so it never reverts one.
   */
  public void republish() {
    run(() -> publish(Update.MESH_WIDE));
  }

  public void setMeshNetworks(MeshNetworks networks) {
    run(() -> {
      meshNetworks = networks;
      builders.clear();
      publish(Update.MESH_WIDE);
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

  /**
   * What one registry task changed on its inputs, for {@link #publish} to carry into a snapshot.
   *
   * @param hosts hosts whose model may have changed (rebuilt one by one)
   * @param configs routing and security config that changed
   * @param gatewayClusters clusters whose gateways may have changed (redone one by one)
   * @param meshWide mesh config or MeshNetworks changed: every host and gateway is redone
   * @param statusChanged status that proxies never see changed (sync, staleness, problems, clusters):
   *     a snapshot is published for /debug/status and /ready even when nothing else changed
   */
  private record Update(Set<String> hosts, Set<ResourceId> configs, Set<String> gatewayClusters, boolean meshWide,
      boolean statusChanged, Set<ResourceId> secrets) {
    static final Update STATUS = new Update(Set.of(), Set.of(), Set.of(), false, true);
    static final Update MESH_WIDE = new Update(Set.of(), Set.of(), Set.of(), true, false);

    /** An update of no Secret. */
    Update(Set<String> hosts, Set<ResourceId> configs, Set<String> gatewayClusters, boolean meshWide,
        boolean statusChanged) {
      this(hosts, configs, gatewayClusters, meshWide, statusChanged, Set.of());
    }
  }

  /** One host's model before and after a rebuild; null where the host does not exist. */
  private record HostChange(String host, ServiceView before, ServiceView after) {
    /**
     * Who serves a host and whether they take mTLS: clients' SAN lists and auto-mTLS choices (in
     * clusters, not endpoints) depend on it, so a change here is a service change, not endpoints only.
     */
    boolean endpointsOnly() {
      return before != null && after != null && before.service().equals(after.service())
          && identities(before).equals(identities(after));
    }

    private static Set<String> identities(ServiceView view) {
      Set<String> out = new TreeSet<>();
      for (WorkloadEndpoint e : view.endpoints()) {
        out.add(e.serviceAccount() + "|" + e.labels().getOrDefault("security.istio.io/tlsMode", ""));
      }
      return out;
    }
  }

  /**
   * Turns one update into the next snapshot, in steps whose cost follows what changed: only the
   * touched hosts are rebuilt, re-indexed, recounted and checked for conflicts, only the touched
   * clusters' gateways are redone, and the rest of the previous snapshot is shared. Only a
   * mesh-wide change (mesh config, MeshNetworks) costs in proportion to the mesh.
   */
  private void publish(Update update) {
    MeshSnapshot prev = current;
    Collection<String> touched = update.meshWide() ? everyHost(prev) : update.hosts();
    List<HostChange> hosts = rebuildHosts(prev.serviceTree(), touched);
    PersistentSortedMap<String, ServiceView> services = withHosts(prev.serviceTree(), hosts);
    WorkloadIndex workloads = reindex(prev.workloads(), hosts);
    MeshSnapshot.MeshConfiguration config =
        update.configs().isEmpty() && !update.meshWide() ? prev.config() : collectConfig();
    ProxyPolicies proxyPolicies =
        update.configs().isEmpty() && !update.meshWide() ? prev.proxyPolicies() : collectProxyPolicies();
    Map<String, List<NetworkGateway>> redone = redoGateways(update.gatewayClusters(), update.meshWide());
    // Up to here nothing changed the registry's own bookkeeping, so a step that throws leaves it
    // agreeing with the last snapshot; from here on nothing is expected to throw.
    countEndpoints(hosts);
    reportAddressConflicts(hosts);
    boolean mcsStatusChanged = updateMcsStatus(touched);
    if (config != prev.config() || update.meshWide()) reportDelegation(config);
    if (config != prev.config() || update.meshWide()) reportGatewayApi();
    Map<String, List<NetworkGateway>> gateways = updateGateways(prev.gateways(), redone, update.meshWide());
    // Secrets are few; a change of one (or of a whole config cluster) collects them afresh.
    Map<ResourceId, TlsSecret> secrets = update.secrets().isEmpty() && update.configs().isEmpty()
        && !update.meshWide() ? prev.secrets() : collectSecrets();
    Set<ResourceId> secretsChanged = secretsChanged(prev.secrets(), secrets);
    ChangeEvent change = decideChange(hosts, update.configs(), gateways != prev.gateways(), update.meshWide())
        .withSecrets(secretsChanged);
    if (change.isEmpty() && !update.statusChanged() && !mcsStatusChanged) return;
    announce(new MeshSnapshot(prev.version() + 1, services, workloads, config, meshConfig, meshNetworks, problems(),
        clusterStatuses(), gateways, mcsStatuses(), secrets, proxyPolicies, gatewayCertificates), change);
  }

  /** Rebuilds each host from every cluster's state; only hosts whose model changed are returned. */
  private List<HostChange> rebuildHosts(PersistentSortedMap<String, ServiceView> services, Collection<String> hosts) {
    List<HostChange> changed = new ArrayList<>();
    for (String host : hosts) {
      ServiceView before = services.get(host);
      ServiceView after = buildHost(host);
      if (!Objects.equals(before, after)) changed.add(new HostChange(host, before, after));
    }
    return changed;
  }

  /** The service map with the changed hosts replaced: O(log n) per host, the rest shared. */
  private static PersistentSortedMap<String, ServiceView> withHosts(PersistentSortedMap<String, ServiceView> services,
      List<HostChange> changes) {
    for (HostChange c : changes) services = c.after() == null ? services.without(c.host()) : services.with(c.host(), c.after());
    return services;
  }

  /** The by-address index with the changed hosts' entries replaced. */
  private static WorkloadIndex reindex(WorkloadIndex index, List<HostChange> changes) {
    for (HostChange c : changes) index = index.replace(c.host(), c.before(), c.after());
    return index;
  }

  /** Keeps each cluster's endpoint count up to date from the changed hosts alone. */
  private void countEndpoints(List<HostChange> changes) {
    for (HostChange c : changes) {
      count(c.before(), -1);
      count(c.after(), 1);
    }
  }

  private void count(ServiceView view, int sign) {
    if (view == null) return;
    for (WorkloadEndpoint e : view.endpoints()) endpointCounts.merge(e.clusterId(), sign, Integer::sum);
  }

  /**
   * One address may be used in several networks (overlapping ranges), but twice in one network by
   * different clusters it cannot be told apart: reported against the host, both kept. Only the
   * changed hosts are checked; each keeps its own problem source.
   */
  private void reportAddressConflicts(List<HostChange> changes) {
    for (HostChange c : changes) {
      List<ConfigProblem> found = addressConflicts(c.host(), c.after());
      String source = "conflict:" + c.host();
      List<ConfigProblem> before = found.isEmpty() ? problemsBySource.remove(source) : problemsBySource.put(source, found);
      if (Objects.equals(before, found.isEmpty() ? null : found)) continue;
      problems = null;
      if (!found.isEmpty()) found.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
    }
  }

  /**
   * A delegate that is missing, has hosts, or is not exported to its root: a warning against the root
   * VirtualService, rebuilt whenever the configuration changes (both sides may change independently).
   */
  private void reportDelegation(MeshSnapshot.MeshConfiguration config) {
    List<ConfigProblem> found = new ArrayList<>();
    for (weft.model.Delegation.Problem p : weft.model.Delegation.merge(config.virtualServices(),
        meshConfig.defaultVirtualServiceExportTo()).problems()) {
      found.add(ConfigProblem.warning(null, p.root(), p.field(), p.message()));
    }
    String source = "delegation";
    List<ConfigProblem> before = found.isEmpty() ? problemsBySource.remove(source)
        : problemsBySource.put(source, List.copyOf(found));
    if (Objects.equals(before, found.isEmpty() ? null : found)) return;
    problems = null;
    found.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
  }

  /**
   * What the last Gateway API translation found (routes not attached, references not allowed):
   * warnings against the routes and Gateways, as Istio's status conditions say.
   */
  private void reportGatewayApi() {
    List<ConfigProblem> found = gatewayApi.problems();
    String source = "gateway-api";
    List<ConfigProblem> before = found.isEmpty() ? problemsBySource.remove(source) : problemsBySource.put(source, found);
    if (Objects.equals(before, found.isEmpty() ? null : found)) return;
    problems = null;
    found.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
  }

  private static List<ConfigProblem> addressConflicts(String host, ServiceView view) {
    if (view == null) return List.of();
    List<ConfigProblem> problems = new ArrayList<>();
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
    return List.copyOf(problems);
  }

  /** The gateways of the clusters named (of every cluster on a mesh-wide change), redone; empty for a gone cluster. */
  private Map<String, List<NetworkGateway>> redoGateways(Set<String> clusterIds, boolean meshWide) {
    Map<String, List<NetworkGateway>> redone = new HashMap<>();
    for (String clusterId : meshWide ? clusters.keySet() : clusterIds) {
      ClusterState cluster = clusters.get(clusterId);
      redone.put(clusterId, cluster == null ? List.of() : NetworkGateways.ofCluster(cluster, meshNetworks));
    }
    return redone;
  }

  /**
   * Keeps the redone clusters' gateways and merges every cluster's part; returns {@code prev}
   * itself when nothing changed, so a caller can compare by identity.
   */
  private Map<String, List<NetworkGateway>> updateGateways(Map<String, List<NetworkGateway>> prev,
      Map<String, List<NetworkGateway>> redone, boolean meshWide) {
    boolean changed = meshWide;
    if (meshWide) {
      gatewaysByCluster.clear();
      addressGateways = NetworkGateways.byAddress(meshNetworks);
    }
    for (Map.Entry<String, List<NetworkGateway>> e : redone.entrySet()) {
      List<NetworkGateway> before = e.getValue().isEmpty() ? gatewaysByCluster.remove(e.getKey())
          : gatewaysByCluster.put(e.getKey(), e.getValue());
      changed |= !e.getValue().equals(before == null ? List.of() : before);
    }
    if (!changed) return prev;
    List<List<NetworkGateway>> parts = new ArrayList<>(gatewaysByCluster.values());
    parts.add(addressGateways);
    Map<String, List<NetworkGateway>> merged = NetworkGateways.merge(parts);
    return merged.equals(prev) ? prev : merged;
  }

  /**
   * What proxies must be told. A gateway change goes out as FULL: gateways are not per host, a
   * proxy's endpoints of any host in another network are replaced by that network's gateways, so
   * which hosts' assignments change depends on every host's endpoints; naming them would be the
   * mesh-wide scan this registry avoids, and gateways change rarely (a load balancer's address).
   * Status alone (sync, staleness, problems) is {@link ChangeEvent#NONE}: no proxy can see it.
   */
  private static ChangeEvent decideChange(List<HostChange> hosts, Set<ResourceId> configs, boolean gatewaysChanged,
      boolean meshWide) {
    if (meshWide || gatewaysChanged) return ChangeEvent.FULL;
    if (hosts.isEmpty() && configs.isEmpty()) return ChangeEvent.NONE;
    Set<String> endpointHosts = new HashSet<>();
    Set<String> serviceHosts = new HashSet<>();
    for (HostChange c : hosts) (c.endpointsOnly() ? endpointHosts : serviceHosts).add(c.host());
    return new ChangeEvent(endpointHosts, serviceHosts, configs, false);
  }

  private void announce(MeshSnapshot next, ChangeEvent change) {
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
   * The status Istio's gateway controller would write for the Gateway API objects of the newest
   * configuration (see {@link weft.model.gatewayapi.GatewayApiStatus}); written back by the leader.
   */
  public weft.model.gatewayapi.GatewayApiStatus gatewayApiStatus() {
    return gatewayApi.status();
  }

  /** Every host any cluster declares, and every host the last snapshot had (a mesh-wide rebuild). */
  private Set<String> everyHost(MeshSnapshot prev) {
    Set<String> hosts = new HashSet<>(prev.services().keySet());
    clusters.values().forEach(c -> hosts.addAll(c.hosts()));
    clusters.values().forEach(c -> hosts.addAll(c.exportedHosts()));
    hosts.addAll(mcsStatusByHost.keySet());
    return hosts;
  }

  /**
   * The hosts plus their other MCS name: a change to {@code NAME.NS.svc.cluster.local} in a cluster
   * (its Service, endpoints, pods) may change {@code NAME.NS.svc.clusterset.local}, and the other way round.
   */
  private static Set<String> withMcsTwins(Set<String> hosts) {
    Set<String> out = new HashSet<>(hosts);
    for (String h : hosts) {
      String[] nameNs = McsHosts.nameAndNamespace(h);
      if (nameNs == null) continue;
      out.add(ClusterState.kubernetesHost(nameNs[0], nameNs[1]));
      out.add(McsSettings.clustersetHost(nameNs[0], nameNs[1]));
    }
    return out;
  }

  /** Redoes the export statuses of the clusterset hosts among {@code hosts}; true when any changed. */
  private boolean updateMcsStatus(Collection<String> hosts) {
    boolean changed = false;
    for (String host : hosts) {
      if (!McsSettings.isClustersetHost(host)) continue;
      McsHosts.Clusterset set = mcs.reads() ? clusterset(host) : null;
      List<McsExportStatus> statuses = set == null ? List.of() : set.statuses();
      List<McsExportStatus> before = statuses.isEmpty() ? mcsStatusByHost.remove(host)
          : mcsStatusByHost.put(host, statuses);
      if (!Objects.equals(before == null ? List.of() : before, statuses)) {
        changed = true;
        mcsStatuses = null;
      }
      List<ConfigProblem> found = set == null ? List.of() : set.problems();
      String source = "mcs:" + host;
      List<ConfigProblem> was = found.isEmpty() ? problemsBySource.remove(source) : problemsBySource.put(source, found);
      if (!Objects.equals(was == null ? List.of() : was, found)) {
        problems = null;
        changed = true;
        found.forEach(p -> LOG.log(System.Logger.Level.WARNING, p.describe()));
      }
    }
    return changed;
  }

  private List<McsExportStatus> mcsStatuses() {
    if (mcsStatuses == null) {
      List<McsExportStatus> all = new ArrayList<>();
      mcsStatusByHost.values().forEach(all::addAll);
      all.sort(null);
      mcsStatuses = List.copyOf(all);
    }
    return mcsStatuses;
  }

  /** The clusterset host as every cluster's ServiceExports, Services and ServiceImports make it. */
  private McsHosts.Clusterset clusterset(String host) {
    String[] nameNs = McsHosts.nameAndNamespace(host);
    List<McsHosts.Member> members = new ArrayList<>();
    for (ClusterState cluster : clusters.values()) {
      String name = nameNs[0];
      String ns = nameNs[1];
      ServiceView local = cluster.serviceExport(ns, name) == null ? null
          : builder(cluster).build(ClusterState.kubernetesHost(name, ns));
      members.add(new McsHosts.Member(cluster.clusterId, cluster.serviceExport(ns, name),
          cluster.kubernetesService(ClusterState.kubernetesHost(name, ns)), local, cluster.serviceImport(ns, name)));
    }
    return McsHosts.clusterset(host, nameNs[0], nameNs[1], members, mcs.host());
  }

  /**
   * Namespace sameness: a host declared by several clusters is one service. The first cluster
   * added (the control plane's own) defines ports and visibility; endpoints and per-cluster
   * addresses are the union.
   */
  private ServiceView buildHost(String host) {
    if (McsSettings.isClustersetHost(host)) {
      return mcs.host() && McsHosts.nameAndNamespace(host) != null ? clusterset(host).view() : null;
    }
    MeshService service = null;
    Map<String, String> addresses = new TreeMap<>();
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    SortedSet<String> declaredIn = new TreeSet<>();
    for (ClusterState cluster : clusters.values()) {
      ServiceView view = builder(cluster).build(host);
      if (view == null) continue;
      declaredIn.add(cluster.clusterId);
      if (service == null) service = view.service();
      addresses.putAll(view.service().addresses());
      endpoints.addAll(view.endpoints());
    }
    if (service == null) return null;
    MeshService merged = new MeshService(service.hostname(), service.namespace(), service.name(), service.origin(),
        service.ports(), addresses, service.exportTo(), service.resolution(), service.meshExternal(), declaredIn,
        service.serviceEntry(), service.labels(), clusterLocalMcs(service));
    return new ServiceView(merged, endpoints);
  }

  /**
   * With {@code --mcs} or {@code --mcs-cluster-local}, which clusters export a Kubernetes host: only
   * their endpoints cross to other clusters (none with {@code --mcs-cluster-local}). Null otherwise.
   */
  private MeshService.Mcs clusterLocalMcs(MeshService service) {
    if (!(mcs.discovery() || mcs.clusterLocal()) || service.origin() != MeshService.Origin.KUBERNETES) return null;
    SortedSet<String> exporters = new TreeSet<>();
    for (ClusterState cluster : clusters.values()) {
      if (cluster.serviceExport(service.namespace(), service.name()) != null) exporters.add(cluster.clusterId);
    }
    return new MeshService.Mcs(false, exporters, mcs.clusterLocal(), false);
  }

  private HostBuilder builder(ClusterState cluster) {
    return builders.computeIfAbsent(cluster.clusterId,
        id -> new HostBuilder(cluster, settings.get(id), meshConfig, meshNetworks));
  }

  /** The TLS Secrets of every config cluster; of one id in two, the one of the cluster id first in order (so every control plane picks the same). */
  private Map<ResourceId, TlsSecret> collectSecrets() {
    Map<ResourceId, TlsSecret> out = new HashMap<>();
    for (String id : new TreeSet<>(configClusters)) {
      ClusterState c = clusters.get(id);
      if (c != null) c.secrets().forEach(out::putIfAbsent);
    }
    return out;
  }

  /** The ids whose Secret differs between the two maps (added, removed or changed). */
  private static Set<ResourceId> secretsChanged(Map<ResourceId, TlsSecret> before, Map<ResourceId, TlsSecret> after) {
    if (before == after) return Set.of();
    Set<ResourceId> out = new HashSet<>();
    for (Map.Entry<ResourceId, TlsSecret> e : after.entrySet()) {
      if (!e.getValue().equals(before.get(e.getKey()))) out.add(e.getKey());
    }
    for (ResourceId id : before.keySet()) if (!after.containsKey(id)) out.add(id);
    return out;
  }

  private MeshSnapshot.MeshConfiguration collectConfig() {
    List<VirtualService> vs = new ArrayList<>();
    List<DestinationRule> dr = new ArrayList<>();
    List<Sidecar> sc = new ArrayList<>();
    List<Gateway> gw = new ArrayList<>();
    List<PeerAuthentication> pa = new ArrayList<>();
    List<AuthorizationPolicy> ap = new ArrayList<>();
    List<weft.model.KubernetesGateway> kubeGateways = new ArrayList<>();
    List<weft.model.GatewayRoute> gatewayRoutes = new ArrayList<>();
    List<weft.model.ReferenceGrant> referenceGrants = new ArrayList<>();
    Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
    List<weft.model.EnvoyFilter> ef = new ArrayList<>();
    List<weft.model.WasmPlugin> wp = new ArrayList<>();
    List<weft.model.RequestAuthentication> ra = new ArrayList<>();
    for (String id : configClusters) {
      ClusterState c = clusters.get(id);
      ef.addAll(c.all(weft.model.EnvoyFilter.class));
      wp.addAll(c.all(weft.model.WasmPlugin.class));
      pa.addAll(c.all(PeerAuthentication.class));
      ap.addAll(c.all(AuthorizationPolicy.class));
      ra.addAll(c.all(weft.model.RequestAuthentication.class));
      vs.addAll(c.all(VirtualService.class));
      dr.addAll(c.all(DestinationRule.class));
      sc.addAll(c.all(Sidecar.class));
      gw.addAll(c.all(Gateway.class));
      kubeGateways.addAll(c.all(weft.model.KubernetesGateway.class));
      gatewayRoutes.addAll(c.all(weft.model.GatewayRoute.class));
      referenceGrants.addAll(c.all(weft.model.ReferenceGrant.class));
      if (!kubeGateways.isEmpty()) c.namespaceLabels().forEach(namespaceLabels::putIfAbsent);
    }
    // Gateway API objects become VirtualServices and Gateways, as Istio's gateway controller makes them.
    Comparator<Resource> sameOrder = Comparator.comparing(Resource::id);
    kubeGateways.sort(sameOrder);
    referenceGrants.sort(sameOrder);
    gatewayApi = weft.model.gatewayapi.GatewayApiTranslation.translate(kubeGateways, gatewayRoutes,
        referenceGrants, namespaceLabels, ClusterState.DOMAIN_SUFFIX);
    vs.addAll(gatewayApi.virtualServices());
    gw.addAll(gatewayApi.gateways());
    Set<String> certificates = new HashSet<>();
    for (Gateway g : gatewayApi.gateways()) {
      for (Gateway.Server server : g.servers()) {
        String credential = server.tls() == null ? null : server.tls().credentialName();
        if (credential != null) certificates.add(g.id().namespace() + " " + credential);
      }
    }
    gatewayCertificates = Set.copyOf(certificates);
    Comparator<Resource> byId = Comparator.comparing(Resource::id);
    vs.sort(byId);
    dr.sort(byId);
    sc.sort(byId);
    gw.sort(byId);
    pa.sort(byId);
    ap.sort(byId);
    ef.sort(byId);
    wp.sort(byId);
    ra.sort(byId);
    return MeshSnapshot.MeshConfiguration.of(vs, dr, sc, gw, pa, ap, ef, wp, ra);
  }

  /** Telemetry, ProxyConfig and WorkloadGroup of the config clusters, each sorted by id. */
  private ProxyPolicies collectProxyPolicies() {
    List<weft.model.Telemetry> telemetries = new ArrayList<>();
    List<weft.model.ProxyConfig> proxyConfigs = new ArrayList<>();
    List<weft.model.WorkloadGroup> groups = new ArrayList<>();
    for (String id : configClusters) {
      ClusterState c = clusters.get(id);
      telemetries.addAll(c.all(weft.model.Telemetry.class));
      proxyConfigs.addAll(c.all(weft.model.ProxyConfig.class));
      groups.addAll(c.all(weft.model.WorkloadGroup.class));
    }
    Comparator<Resource> byId = Comparator.comparing(Resource::id);
    telemetries.sort(byId);
    proxyConfigs.sort(byId);
    groups.sort(byId);
    return new ProxyPolicies(telemetries, proxyConfigs, groups);
  }

  /** Every source's problems in source order; rebuilt only after a source's problems changed. */
  private List<ConfigProblem> problems() {
    if (problems == null) {
      List<ConfigProblem> all = new ArrayList<>();
      problemsBySource.values().forEach(all::addAll);
      problems = List.copyOf(all);
    }
    return problems;
  }

  private Map<String, MeshSnapshot.ClusterStatus> clusterStatuses() {
    Map<String, MeshSnapshot.ClusterStatus> out = new TreeMap<>();
    for (ClusterState c : clusters.values()) {
      ClusterSettings s = settings.get(c.clusterId);
      out.put(c.clusterId, new MeshSnapshot.ClusterStatus(c.clusterId, s.defaultNetwork(), synced.get(c.clusterId),
          lastSync.getOrDefault(c.clusterId, 0L), c.hostCount(), endpointCounts.getOrDefault(c.clusterId, 0),
          staleReason(c.clusterId)));
    }
    return out;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
