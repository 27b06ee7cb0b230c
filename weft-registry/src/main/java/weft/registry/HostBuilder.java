package weft.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.EndpointSlice;
import weft.model.K8sService;
import weft.model.Labels;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.Namespace;
import weft.model.Node;
import weft.model.Pod;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.ServiceEntry;
import weft.model.WorkloadEntry;
import weft.registry.WorkloadEndpoint.Health;

/** Builds the model of one host as one cluster declares it: a pure function of the cluster's state. */
final class HostBuilder {
  static final String NETWORK_LABEL = "topology.istio.io/network";
  static final String CLUSTER_LABEL = "topology.istio.io/cluster";
  static final String EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";
  static final String REGION_LABEL = "topology.kubernetes.io/region";
  static final String ZONE_LABEL = "topology.kubernetes.io/zone";
  static final String SUBZONE_LABEL = "topology.istio.io/subzone";
  static final String LOCALITY_LABEL = "istio-locality";

  private final ClusterState state;
  private final ClusterSettings settings;
  private final MeshConfig mesh;
  /** MeshNetworks' networks by name: the order in which an endpoint's network is looked up. */
  private final List<Map.Entry<String, MeshNetworks.Network>> networks;

  /**
   * Made once per cluster and mesh configuration (the registry keeps it), not per host: the sorted
   * network list would otherwise be rebuilt for every endpoint.
   */
  HostBuilder(ClusterState state, ClusterSettings settings, MeshConfig mesh, MeshNetworks meshNetworks) {
    this.state = state;
    this.settings = settings;
    this.mesh = mesh;
    this.networks = List.copyOf(new java.util.TreeMap<>(meshNetworks.networks()).entrySet());
  }

  /** The host's service and endpoints in this cluster, or null when this cluster does not declare it. */
  ServiceView build(String host) {
    K8sService k8s = state.kubernetesService(host);
    if (k8s != null) return fromKubernetes(host, k8s);
    Set<ResourceId> entries = state.entriesFor(host);
    if (entries.isEmpty()) return null;
    // Several ServiceEntries may declare one host; the oldest name wins, as a stable rule.
    ServiceEntry entry = (ServiceEntry) state.get(entries.iterator().next());
    return fromServiceEntry(host, entry);
  }

  private ServiceView fromKubernetes(String host, K8sService svc) {
    String ns = svc.id().namespace();
    List<MeshService.Port> ports = svc.ports().stream()
        .map(p -> new MeshService.Port(p.name() == null ? "" : p.name(), p.port(), protocolOf(p)))
        .toList();
    Map<String, String> addresses = svc.clusterIp() == null ? Map.of() : Map.of(settings.clusterId(), svc.clusterIp());
    Set<String> exportTo = exportTo(parseList(svc.annotations().get(EXPORT_TO_ANNOTATION)), ns,
        mesh.defaultServiceExportTo());
    MeshService service = new MeshService(host, ns, svc.id().name(), MeshService.Origin.KUBERNETES, ports,
        addresses, exportTo, "STATIC", false, new java.util.TreeSet<>(Set.of(settings.clusterId())), null, svc.labels());
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    for (ResourceId sliceId : state.slicesFor(ns, svc.id().name())) {
      EndpointSlice slice = (EndpointSlice) state.get(sliceId);
      for (K8sService.Port sp : svc.ports()) {
        String name = sp.name() == null ? "" : sp.name();
        EndpointSlice.Port match = slice.ports().stream()
            .filter(p -> (p.name() == null ? "" : p.name()).equals(name)).findFirst().orElse(null);
        if (match == null) continue;
        for (EndpointSlice.Endpoint e : slice.endpoints()) {
          Pod byRef = e.podName() == null ? null : (Pod) state.get(new ResourceId("Pod", ns, e.podName()));
          for (String address : e.addresses()) {
            Pod pod = byRef != null ? byRef : state.podByIp(ns, address);
            endpoints.add(sliceEndpoint(address, sp.port(), match.port(), e, pod));
          }
        }
      }
    }
    endpoints.addAll(selectedWorkloadEntries(svc));
    return new ServiceView(service, endpoints);
  }

  private WorkloadEndpoint sliceEndpoint(String address, int servicePort, int port, EndpointSlice.Endpoint e, Pod pod) {
    Map<String, String> labels = pod == null ? Map.of() : pod.labels();
    Locality locality = locality(labels, e.nodeName(), e.zone());
    String network = network(labels.get(NETWORK_LABEL), address);
    String sa = pod == null ? "" : pod.serviceAccount();
    return new WorkloadEndpoint(address, servicePort, port, augment(labels, network, locality), settings.clusterId(),
        network, locality, sa,
        health(e), 0, pod == null ? "" : pod.id().name(), e.hostname());
  }

  /** Kubernetes conditions: ready unset means ready; terminating endpoints drain, never serve as healthy. */
  private static Health health(EndpointSlice.Endpoint e) {
    if (Boolean.TRUE.equals(e.terminating())) return Health.DRAINING;
    return e.ready() == null || e.ready() ? Health.HEALTHY : Health.UNHEALTHY;
  }

  private ServiceView fromServiceEntry(String host, ServiceEntry entry) {
    String ns = entry.id().namespace();
    List<MeshService.Port> ports = entry.ports().stream()
        .map(p -> new MeshService.Port(p.name(), p.number(), p.protocol())).toList();
    Map<String, String> addresses = entry.addresses().isEmpty() ? Map.of()
        : Map.of(settings.clusterId(), entry.addresses().get(0));
    Set<String> exportTo = exportTo(entry.exportTo(), ns, mesh.defaultServiceExportTo());
    MeshService service = new MeshService(host, ns, entry.id().name(), MeshService.Origin.SERVICE_ENTRY, ports,
        addresses, exportTo, entry.resolution(), "MESH_EXTERNAL".equals(entry.location()),
        new java.util.TreeSet<>(Set.of(settings.clusterId())), entry);
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    if (entry.workloadSelector() == null) {
      for (ServiceEntry.Port port : entry.ports()) {
        for (WorkloadEntry.Spec spec : entry.endpoints()) {
          endpoints.add(specEndpoint(spec, port, ""));
        }
      }
    } else {
      for (ResourceId id : state.workloadsIn(ns)) {
        Resource r = state.get(id);
        for (ServiceEntry.Port port : entry.ports()) {
          if (r instanceof WorkloadEntry w && Labels.matches(entry.workloadSelector(), w.spec().labels())) {
            endpoints.add(specEndpoint(w.spec(), port, w.id().name()));
          } else if (r instanceof Pod p && p.podIp() != null && Labels.matches(entry.workloadSelector(), p.labels())) {
            int target = port.targetPort() > 0 ? port.targetPort() : port.number();
            String network = network(p.labels().get(NETWORK_LABEL), p.podIp());
            Locality locality = locality(p.labels(), p.nodeName(), null);
            endpoints.add(new WorkloadEndpoint(p.podIp(), port.number(), target, augment(p.labels(), network, locality),
                settings.clusterId(), network, locality, p.serviceAccount(),
                p.ready() ? Health.HEALTHY : Health.UNHEALTHY, 0, p.id().name()));
          }
        }
      }
    }
    return new ServiceView(service, endpoints);
  }

  /**
   * WorkloadEntries a Kubernetes Service's selector picks (VMs, auto-registered workloads), as Istio
   * adds them: per service port, the entry's port of that name, else a numeric targetPort, else the port.
   */
  private List<WorkloadEndpoint> selectedWorkloadEntries(K8sService svc) {
    List<WorkloadEndpoint> out = new ArrayList<>();
    if (svc.selector().isEmpty()) return out;
    for (ResourceId id : state.workloadsIn(svc.id().namespace())) {
      if (!(state.get(id) instanceof WorkloadEntry w) || w.spec().address() == null
          || !Labels.matches(svc.selector(), w.spec().labels())) {
        continue;
      }
      for (K8sService.Port sp : svc.ports()) {
        String name = sp.name() == null ? "" : sp.name();
        int target = sp.targetPort() != null && sp.targetPort().matches("[0-9]{1,5}")
            ? Integer.parseInt(sp.targetPort()) : sp.port();
        out.add(specEndpoint(w.spec(), new ServiceEntry.Port(sp.port(), protocolOf(sp), name, target), w.id().name()));
      }
    }
    return out;
  }

  private WorkloadEndpoint specEndpoint(WorkloadEntry.Spec spec, ServiceEntry.Port port, String name) {
    Integer named = spec.ports().get(port.name());
    int target = named != null ? named : port.targetPort() > 0 ? port.targetPort() : port.number();
    String network = spec.network() != null && !spec.network().isEmpty() ? spec.network()
        : network(spec.labels().get(NETWORK_LABEL), spec.address());
    Locality locality = spec.locality() != null && !spec.locality().isEmpty() ? Locality.parse(spec.locality())
        : locality(spec.labels(), null, null);
    return new WorkloadEndpoint(spec.address(), port.number(), target, augment(spec.labels(), network, locality),
        settings.clusterId(), network,
        locality, spec.serviceAccount() == null ? "" : spec.serviceAccount(), Health.HEALTHY, spec.weight(), name);
  }

  /**
   * The workload's labels plus where it runs, as Istio adds them: so that DestinationRule subsets
   * can select by cluster (blue/green across clusters) and failoverPriority can name topology.
   */
  private Map<String, String> augment(Map<String, String> labels, String network, Locality locality) {
    Map<String, String> out = new HashMap<>(labels);
    out.put(CLUSTER_LABEL, settings.clusterId());
    if (!network.isEmpty()) out.putIfAbsent(NETWORK_LABEL, network);
    if (!locality.region().isEmpty()) out.putIfAbsent(REGION_LABEL, locality.region());
    if (!locality.zone().isEmpty()) out.putIfAbsent(ZONE_LABEL, locality.zone());
    if (!locality.subzone().isEmpty()) out.putIfAbsent(SUBZONE_LABEL, locality.subzone());
    return out;
  }

  /**
   * Network precedence as Istio: the workload's label (or WorkloadEntry field), the system
   * namespace's label, MeshNetworks ({@code fromCidr} by address, {@code fromRegistry} by
   * cluster), then the {@code --network} flag.
   */
  private String network(String labelled, String address) {
    if (labelled != null && !labelled.isEmpty()) return labelled;
    if (state.get(new ResourceId("Namespace", "", settings.systemNamespace())) instanceof Namespace ns) {
      String n = ns.labels().get(NETWORK_LABEL);
      if (n != null && !n.isEmpty()) return n;
    }
    for (Map.Entry<String, MeshNetworks.Network> e : networks) {
      for (MeshNetworks.EndpointSource source : e.getValue().endpoints()) {
        if (source.fromCidr() != null && address != null && Cidrs.contains(source.fromCidr(), address)) return e.getKey();
        if (settings.clusterId().equals(source.fromRegistry())) return e.getKey();
      }
    }
    return settings.defaultNetwork();
  }

  /** Locality precedence: the {@code istio-locality} label, then the Node's topology labels, then the slice zone. */
  private Locality locality(Map<String, String> labels, String nodeName, String zone) {
    String label = labels.get(LOCALITY_LABEL);
    if (label != null && !label.isEmpty()) return Locality.parse(label);
    if (nodeName != null && state.get(new ResourceId("Node", "", nodeName)) instanceof Node node) {
      return new Locality(node.labels().get(REGION_LABEL), node.labels().get(ZONE_LABEL),
          node.labels().get(SUBZONE_LABEL));
    }
    return zone == null ? Locality.UNKNOWN : new Locality("", zone, "");
  }

  private static String protocolOf(K8sService.Port p) {
    if (p.appProtocol() != null && !p.appProtocol().isEmpty()) return p.appProtocol().toUpperCase();
    String name = p.name() == null ? "" : p.name().toLowerCase();
    for (String proto : List.of("grpc", "http2", "http", "https", "tcp", "tls", "mongo", "redis", "mysql")) {
      if (name.equals(proto) || name.startsWith(proto + "-")) return proto.toUpperCase();
    }
    return p.protocol() == null ? "TCP" : p.protocol();
  }

  /** Resolves Istio's exportTo list: empty takes the mesh default; {@code .} means the owner's namespace. */
  static Set<String> exportTo(List<String> declared, String ownNamespace, List<String> meshDefault) {
    List<String> list = declared.isEmpty() ? meshDefault : declared;
    Set<String> out = new LinkedHashSet<>();
    for (String e : list) out.add(e.equals(".") ? ownNamespace : e);
    return out;
  }

  private static List<String> parseList(String csv) {
    if (csv == null || csv.isBlank()) return List.of();
    List<String> out = new ArrayList<>();
    for (String s : csv.split(",")) if (!s.isBlank()) out.add(s.trim());
    return out;
  }

  static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
    Map<String, String> m = new HashMap<>(a);
    m.putAll(b);
    return m;
  }
}
