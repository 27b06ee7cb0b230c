package weft.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import weft.model.DestinationRule;
import weft.model.EndpointSlice;
import weft.model.K8sService;
import weft.model.Labels;
import weft.model.Namespace;
import weft.model.Node;
import weft.model.Pod;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.ServiceEntry;
import weft.model.ServiceExport;
import weft.model.ServiceImport;
import weft.model.Sidecar;
import weft.model.VirtualService;
import weft.model.WorkloadEntry;

/**
 * Everything one cluster's source has told the registry, with the indexes needed to rebuild one
 * host at a time. Not thread-safe: owned by the registry's serialising executor.
 */
final class ClusterState {
  static final String DOMAIN_SUFFIX = "svc.cluster.local";

  final String clusterId;
  private final Map<ResourceId, Resource> resources = new HashMap<>();
  /** "ns/service" → EndpointSlices of that Service. */
  private final Map<String, Set<ResourceId>> slicesByService = new HashMap<>();
  /** host → ServiceEntries that declare it. */
  private final Map<String, Set<ResourceId>> entriesByHost = new HashMap<>();
  /** namespace → Pods and WorkloadEntries there (selector targets). */
  private final Map<String, Set<ResourceId>> workloadsByNamespace = new HashMap<>();
  /** pod IP → Pods (EndpointSlices without targetRef are matched to pods by address, as Istio does). */
  private final Map<String, Set<ResourceId>> podsByIp = new HashMap<>();
  /** address → EndpointSlices listing it, so a Pod change reaches services without selectors too. */
  private final Map<String, Set<ResourceId>> slicesByAddress = new HashMap<>();
  /**
   * Services and ServiceEntries with a selector, each filed under one label pair of it (its least
   * key): a workload can only be selected by owners filed under one of its own labels, so finding
   * the hosts a Pod change touches costs its labels, not the namespace's services.
   */
  private final Map<SelectorPair, Set<ResourceId>> selectorsByPair = new HashMap<>();
  /** namespace → ServiceEntries whose workloadSelector is empty: they select every workload there. */
  private final Map<String, Set<ResourceId>> selectAll = new HashMap<>();
  /** host → how many Services and ServiceEntries here declare it: the host count without a scan. */
  private final Map<String, Integer> hostDeclarations = new HashMap<>();
  /** Routing and security config by type, so that collecting it does not scan every endpoint. */
  private final Map<Class<?>, Map<ResourceId, Resource>> configByType = new HashMap<>();
  /** Services labelled with a network: this cluster's east-west gateway candidates, sorted. */
  private final Set<ResourceId> networkLabelled = new TreeSet<>();
  /** Namespace labels by name: Gateway API listeners admit routes by them ({@code allowedRoutes} selectors). */
  private final Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
  /** ServiceExports here (Multi-Cluster Services): the clusterset hosts a mesh-wide rebuild must redo. */
  private final Set<ResourceId> exports = new TreeSet<>();
  /** This cluster's TLS Secrets (read for credentialName), by id. */
  private final Map<ResourceId, weft.model.TlsSecret> secrets = new java.util.TreeMap<>();

  ClusterState(String clusterId) {
    this.clusterId = clusterId;
  }

  static String kubernetesHost(String name, String namespace) {
    return name + "." + namespace + "." + DOMAIN_SUFFIX;
  }

  Set<ResourceId> ids() {
    return Set.copyOf(resources.keySet());
  }

  Resource get(ResourceId id) {
    return resources.get(id);
  }

  /** Replaces (or with null removes) one resource; returns the hosts whose model may have changed. */
  Set<String> apply(ResourceId id, Resource next) {
    Resource prev = next == null ? resources.remove(id) : resources.put(id, next);
    if (prev != null) unindex(prev);
    if (next != null) index(next);
    Set<String> hosts = new HashSet<>();
    if (prev != null) hosts.addAll(hostsTouchedBy(prev));
    if (next != null) hosts.addAll(hostsTouchedBy(next));
    return hosts;
  }

  boolean isConfig(ResourceId id) {
    return switch (id.kind()) {
      case "VirtualService", "DestinationRule", "Sidecar", "Gateway", "PeerAuthentication", "AuthorizationPolicy" ->
          true;
      // Gateway API: translated into the kinds above whenever any of them changes.
      case "KubernetesGateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "ReferenceGrant" -> true;
      case "EnvoyFilter", "WasmPlugin" -> true;
      case "RequestAuthentication" -> true;
      case "Telemetry", "ProxyConfig", "WorkloadGroup" -> true;
      default -> false;
    };
  }

  /** This cluster's TLS Secrets, by id (read-only). */
  Map<ResourceId, weft.model.TlsSecret> secrets() {
    return java.util.Collections.unmodifiableMap(secrets);
  }

  /** Every host this cluster currently declares. */
  Set<String> hosts() {
    return new HashSet<>(hostDeclarations.keySet());
  }

  /** How many distinct hosts this cluster declares, kept up to date rather than counted. */
  int hostCount() {
    return hostDeclarations.size();
  }

  /** Every resource of one config type ({@link #isConfig}); unsorted. */
  <T extends Resource> List<T> all(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Resource r : configByType.getOrDefault(type, Map.of()).values()) out.add(type.cast(r));
    return out;
  }

  /** Every Namespace's labels, by name (a copy). */
  Map<String, Map<String, String>> namespaceLabels() {
    return Map.copyOf(namespaceLabels);
  }

  /** The Services labelled with a network, sorted by id. */
  List<K8sService> networkLabelledServices() {
    List<K8sService> out = new ArrayList<>();
    for (ResourceId id : networkLabelled) out.add((K8sService) resources.get(id));
    return out;
  }

  /** This cluster's ServiceExport of {@code namespace/name}, or null. */
  ServiceExport serviceExport(String namespace, String name) {
    return resources.get(new ResourceId("ServiceExport", namespace, name)) instanceof ServiceExport e ? e : null;
  }

  /** This cluster's ServiceImport of {@code namespace/name}, or null. */
  ServiceImport serviceImport(String namespace, String name) {
    return resources.get(new ResourceId("ServiceImport", namespace, name)) instanceof ServiceImport i ? i : null;
  }

  /** The clusterset hosts of this cluster's ServiceExports. */
  Set<String> exportedHosts() {
    Set<String> out = new HashSet<>();
    for (ResourceId id : exports) out.add(McsSettings.clustersetHost(id.name(), id.namespace()));
    return out;
  }

  /** The Kubernetes Service behind {@code NAME.NAMESPACE.svc.cluster.local}, or null. */
  K8sService kubernetesService(String host) {
    if (!host.endsWith("." + DOMAIN_SUFFIX)) return null;
    String[] parts = host.substring(0, host.length() - DOMAIN_SUFFIX.length() - 1).split("\\.");
    if (parts.length != 2) return null;
    return resources.get(new ResourceId("Service", parts[1], parts[0])) instanceof K8sService s ? s : null;
  }

  Set<ResourceId> entriesFor(String host) {
    return entriesByHost.getOrDefault(host, Set.of());
  }

  Set<ResourceId> slicesFor(String namespace, String service) {
    return slicesByService.getOrDefault(namespace + "/" + service, Set.of());
  }

  /** The pod in {@code namespace} with this IP, or null. */
  Pod podByIp(String namespace, String ip) {
    for (ResourceId id : podsByIp.getOrDefault(ip, Set.of())) {
      if (id.namespace().equals(namespace) && resources.get(id) instanceof Pod p) return p;
    }
    return null;
  }

  Set<ResourceId> workloadsIn(String namespace) {
    return workloadsByNamespace.getOrDefault(namespace, Set.of());
  }

  private void index(Resource r) {
    if (isConfig(r.id())) configByType.computeIfAbsent(r.getClass(), k -> new HashMap<>()).put(r.id(), r);
    if (r instanceof EndpointSlice s) {
      slicesByService.computeIfAbsent(key(s), k -> new TreeSet<>()).add(s.id());
      for (EndpointSlice.Endpoint e : s.endpoints()) {
        e.addresses().forEach(a -> slicesByAddress.computeIfAbsent(a, k -> new TreeSet<>()).add(s.id()));
      }
    } else if (r instanceof K8sService s) {
      fileSelector(s.id(), s.selector().isEmpty() ? null : s.selector(), true);
      hostDeclarations.merge(kubernetesHost(s.id().name(), s.id().namespace()), 1, Integer::sum);
      if (NetworkGateways.networkOf(s) != null) networkLabelled.add(s.id());
    } else if (r instanceof ServiceEntry e) {
      e.hosts().forEach(h -> entriesByHost.computeIfAbsent(h, k -> new TreeSet<>()).add(e.id()));
      Set.copyOf(e.hosts()).forEach(h -> hostDeclarations.merge(h, 1, Integer::sum));
      fileSelector(e.id(), e.workloadSelector(), true);
    } else if (r instanceof ServiceExport) {
      exports.add(r.id());
    } else if (r instanceof Namespace n) {
      namespaceLabels.put(n.id().name(), n.labels());
    } else if (r instanceof weft.model.TlsSecret t) {
      secrets.put(t.id(), t);
    } else if (r instanceof Pod || r instanceof WorkloadEntry) {
      workloadsByNamespace.computeIfAbsent(r.id().namespace(), k -> new TreeSet<>()).add(r.id());
      if (r instanceof Pod p && p.podIp() != null) podsByIp.computeIfAbsent(p.podIp(), k -> new TreeSet<>()).add(p.id());
    }
  }

  private void unindex(Resource r) {
    Map<ResourceId, Resource> sameType = configByType.get(r.getClass());
    if (sameType != null) {
      sameType.remove(r.id());
      if (sameType.isEmpty()) configByType.remove(r.getClass());
    }
    if (r instanceof EndpointSlice s) {
      removeFrom(slicesByService, key(s), s.id());
      for (EndpointSlice.Endpoint e : s.endpoints()) e.addresses().forEach(a -> removeFrom(slicesByAddress, a, s.id()));
    } else if (r instanceof K8sService s) {
      fileSelector(s.id(), s.selector().isEmpty() ? null : s.selector(), false);
      undeclare(kubernetesHost(s.id().name(), s.id().namespace()));
      networkLabelled.remove(s.id());
    } else if (r instanceof ServiceEntry e) {
      e.hosts().forEach(h -> removeFrom(entriesByHost, h, e.id()));
      Set.copyOf(e.hosts()).forEach(this::undeclare);
      fileSelector(e.id(), e.workloadSelector(), false);
    } else if (r instanceof ServiceExport) {
      exports.remove(r.id());
    } else if (r instanceof Namespace n) {
      namespaceLabels.remove(n.id().name());
    } else if (r instanceof weft.model.TlsSecret) {
      secrets.remove(r.id());
    } else if (r instanceof Pod || r instanceof WorkloadEntry) {
      removeFrom(workloadsByNamespace, r.id().namespace(), r.id());
      if (r instanceof Pod p && p.podIp() != null) removeFrom(podsByIp, p.podIp(), p.id());
    }
  }

  private static String key(EndpointSlice s) {
    return s.id().namespace() + "/" + s.serviceName();
  }

  /** A selector's filing key: namespace and one label pair. */
  private record SelectorPair(String namespace, String key, String value) {}

  /** Files (or with {@code add} false, unfiles) a selector owner; a null selector selects nothing. */
  private void fileSelector(ResourceId owner, Map<String, String> selector, boolean add) {
    if (selector == null) return;
    if (selector.isEmpty()) {
      if (add) selectAll.computeIfAbsent(owner.namespace(), k -> new TreeSet<>()).add(owner);
      else removeFrom(selectAll, owner.namespace(), owner);
      return;
    }
    String key = java.util.Collections.min(selector.keySet());
    SelectorPair pair = new SelectorPair(owner.namespace(), key, selector.get(key));
    if (add) {
      selectorsByPair.computeIfAbsent(pair, k -> new TreeSet<>()).add(owner);
    } else {
      removeFrom(selectorsByPair, pair, owner);
    }
  }

  private void undeclare(String host) {
    hostDeclarations.computeIfPresent(host, (h, n) -> n == 1 ? null : n - 1);
  }

  private static <K> void removeFrom(Map<K, Set<ResourceId>> index, K key, ResourceId id) {
    Set<ResourceId> ids = index.get(key);
    if (ids == null) return;
    ids.remove(id);
    if (ids.isEmpty()) index.remove(key);
  }

  private Set<String> hostsTouchedBy(Resource r) {
    if (r instanceof K8sService s) return Set.of(kubernetesHost(s.id().name(), s.id().namespace()));
    if (r instanceof EndpointSlice s) return Set.of(kubernetesHost(s.serviceName(), s.id().namespace()));
    if (r instanceof ServiceEntry e) return Set.copyOf(e.hosts());
    if (r instanceof Pod p) {
      Set<String> hosts = hostsSelecting(p.id().namespace(), p.labels());
      if (p.podIp() != null) {
        for (ResourceId slice : slicesByAddress.getOrDefault(p.podIp(), Set.of())) {
          if (resources.get(slice) instanceof EndpointSlice s) hosts.add(kubernetesHost(s.serviceName(), s.id().namespace()));
        }
      }
      return hosts;
    }
    // An export changes who may see the cluster.local host's endpoints, and the clusterset host.
    if (r instanceof ServiceExport e) {
      return Set.of(kubernetesHost(e.id().name(), e.id().namespace()),
          McsSettings.clustersetHost(e.id().name(), e.id().namespace()));
    }
    if (r instanceof ServiceImport i) return Set.of(McsSettings.clustersetHost(i.id().name(), i.id().namespace()));
    if (r instanceof WorkloadEntry w) return hostsSelecting(w.id().namespace(), w.spec().labels());
    // Locality and network come from Nodes and Namespaces: rare changes that may touch anything.
    if (r instanceof Node || r instanceof Namespace) return hosts();
    return Set.of(); // routing config changes no service model
  }

  private Set<String> hostsSelecting(String namespace, Map<String, String> labels) {
    Set<String> hosts = new HashSet<>();
    Set<ResourceId> candidates = new TreeSet<>(selectAll.getOrDefault(namespace, Set.of()));
    labels.forEach((k, v) -> candidates.addAll(selectorsByPair.getOrDefault(new SelectorPair(namespace, k, v), Set.of())));
    for (ResourceId id : candidates) {
      Resource r = resources.get(id);
      if (r instanceof K8sService s && !s.selector().isEmpty() && Labels.matches(s.selector(), labels)) {
        hosts.add(kubernetesHost(s.id().name(), namespace));
      } else if (r instanceof ServiceEntry e && e.workloadSelector() != null
          && Labels.matches(e.workloadSelector(), labels)) {
        hosts.addAll(e.hosts());
      }
    }
    return hosts;
  }
}
