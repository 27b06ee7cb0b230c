package weft.controlplane;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import weft.model.MeshConfig;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.security.meshes.ExportClient;
import weft.security.meshes.ExportDocument;
import weft.security.meshes.ExportEndpoint;
import weft.security.meshes.MeshPeer;
import weft.security.meshes.MeshTls;

/**
 * Several meshes: the peers that {@code MeshFederation} resources declare, what we export to each
 * (served on the bundle port by {@link ExportEndpoint}), and what each exports to us, fetched over
 * mutual {@code https_spiffe} TLS every refresh interval and turned into config of the cluster
 * {@value #IMPORT_CLUSTER} ({@link MeshImports}). A failed fetch keeps the last good list; a peer
 * that is no longer declared takes its imports with it.
 *
 * <p>All state changes run on one thread ({@code weft-meshes}); readers see immutable maps through
 * volatile fields.
 */
final class ControlPlaneMeshes implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ControlPlaneMeshes.class.getName());
  /** The registry cluster that holds the imports: config only, never a real cluster. */
  static final String IMPORT_CLUSTER = "mesh-imports";
  // The declarations are reread this often (as TrustDomainFederation's are).
  private static final Duration DECLARATION_PERIOD = Duration.ofSeconds(2);
  // A peer that has not sent its whole list within this is down (or stalling us); the last list stays.
  private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);

  /** What is known of one peer: its declaration, its last good list and when, the last error. */
  record PeerState(MeshPeer peer, ExportDocument exports, Instant fetchedAt, String lastError,
      List<String> problems) {
    boolean stale() {
      return lastError != null;
    }
  }

  private final Registry registry;
  private final Supplier<MeshConfig> mesh;
  private final Supplier<Map<String, List<X509Certificate>>> peerRoots;
  private final KeyManager ours;
  private final Duration refresh;
  private final String suffix;
  private final String systemNamespace;
  private final ExportClient client = new ExportClient(FETCH_TIMEOUT);
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-meshes");
    t.setDaemon(true);
    return t;
  });
  private volatile MeshFederationPeers.Declared declared = MeshFederationPeers.Declared.NONE;
  private volatile List<String> refused = List.of();
  /** The declared peers that were accepted, as of the last declarations read. */
  private volatile List<MeshPeer> peers = List.of();
  private volatile Map<String, PeerState> states = Map.of();
  private volatile Map<String, List<MeshImports.Import>> imports = Map.of();
  // Owned by the scheduler thread; null until the import cluster exists.
  private Map<ResourceId, Resource> lastResources = null;
  private MultiGauge imported;

  /**
   * @param peerRoots each federated trust domain's roots in force (TrustDomainFederation)
   * @param ours this control plane's X.509-SVID, presented to peers
   */
  ControlPlaneMeshes(Registry registry, Supplier<MeshConfig> mesh, Supplier<Map<String, List<X509Certificate>>> peerRoots,
      KeyManager ours, Duration refresh, String suffix, String systemNamespace) {
    this.registry = registry;
    this.mesh = mesh;
    this.peerRoots = peerRoots;
    this.ours = ours;
    this.refresh = refresh;
    this.suffix = suffix;
    this.systemNamespace = systemNamespace;
  }

  /** {@code weft_mesh_imported_services{peer_mesh_id}}. */
  void registerMetrics(MeterRegistry metrics) {
    imported = MultiGauge.builder("weft_mesh_imported_services")
        .description("services imported from each peer mesh (MeshFederation)").register(metrics);
    updateMetrics();
  }

  private void updateMetrics() {
    if (imported == null) return;
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    imports.forEach((peer, list) -> rows.add(MultiGauge.Row.of(Tags.of("peer_mesh_id", peer),
        list.stream().filter(i -> i.leftOut() == null).count())));
    imported.register(rows, true);
  }

  /** The handler of the export list on the bundle port. */
  ExportEndpoint endpoint() {
    return new ExportEndpoint(this::exportsFor);
  }

  /** What we export to the mesh of this trust domain, if a MeshFederation names it. */
  Optional<ExportDocument> exportsFor(String trustDomain) {
    for (MeshPeer p : peers) {
      if (p.trustDomain().equals(trustDomain)) {
        return Optional.of(MeshExports.document(registry.current(), p.meshId()));
      }
    }
    return Optional.empty();
  }

  /** Reads MeshFederation resources from the config folder every two seconds. */
  void watchFolder(Path dir) {
    scheduler.scheduleWithFixedDelay(() -> {
      // Files are read again only when one changed: a config folder may hold thousands of them.
      String stamp = FederationPeers.folderStamp(dir);
      if (stamp.equals(folderStamp)) return;
      folderStamp = stamp;
      declare(MeshFederationPeers.fromFolder(dir, systemNamespace));
    }, 0, DECLARATION_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    startPolling();
  }

  /** Names, sizes and times of the folder's files when they were last read; the scheduler's alone. */
  private String folderStamp;

  /** Reads MeshFederation resources of the config cluster's system namespace every two seconds. */
  void watchConfigCluster(io.fabric8.kubernetes.client.KubernetesClient kube) {
    scheduler.scheduleWithFixedDelay(() -> {
      try {
        declare(MeshFederationPeers.fromCluster(kube, systemNamespace));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "config cluster: cannot list MeshFederation in " + systemNamespace
            + " (" + e.getMessage() + "); the last list stays");
      }
    }, 0, DECLARATION_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    startPolling();
  }

  private void startPolling() {
    scheduler.scheduleWithFixedDelay(this::fetchAll, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** New declarations: peers added or changed are fetched at once, removed ones dropped. */
  private void declare(MeshFederationPeers.Declared read) {
    if (read.equals(declared)) return;
    if (!read.problems().equals(declared.problems())) {
      read.problems().forEach(p -> LOG.log(System.Logger.Level.WARNING, p));
    }
    declared = read;
    List<MeshPeer> accepted = accepted();
    peers = accepted;
    Map<String, PeerState> next = new TreeMap<>();
    boolean fetch = false;
    for (MeshPeer p : accepted) {
      PeerState old = states.get(p.meshId());
      if (old != null && old.peer().equals(p)) {
        next.put(p.meshId(), old);
      } else {
        next.put(p.meshId(), new PeerState(p, null, null, "not fetched yet", List.of()));
        fetch = true;
      }
    }
    states = Map.copyOf(next);
    if (fetch) fetchAll(); else rebuild();
  }

  /** The declared peers minus those refused (our own mesh id, our trust domain, a repeated mesh id). */
  private List<MeshPeer> accepted() {
    MeshConfig m = mesh.get();
    List<MeshPeer> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Map<String, MeshPeer> byId = new HashMap<>();
    for (MeshPeer p : declared.peers()) {
      if (p.meshId().equals(m.effectiveMeshId())) {
        problems.add(p.source() + ": meshId " + p.meshId() + " is this mesh's own id; name the peer's");
      } else if (p.trustDomain().equals(m.trustDomain()) || m.trustDomainAliases().contains(p.trustDomain())) {
        problems.add(p.source() + ": trustDomain " + p.trustDomain() + " is this mesh's own; a peer mesh has its own");
      } else if (byId.containsKey(p.meshId())) {
        problems.add(p.source() + ": meshId " + p.meshId() + " is already declared by " + byId.get(p.meshId()).source());
      } else {
        byId.put(p.meshId(), p);
        out.add(p);
      }
    }
    refused = List.copyOf(problems);
    return out;
  }

  private void fetchAll() {
    Map<String, List<X509Certificate>> roots = peerRoots.get();
    Map<String, PeerState> next = new TreeMap<>(states);
    for (PeerState old : states.values()) {
      MeshPeer p = old.peer();
      List<X509Certificate> anchors = roots.get(p.trustDomain());
      try {
        if (anchors == null || anchors.isEmpty()) {
          throw new IOException("no roots for trust domain " + p.trustDomain() + ": declare a TrustDomainFederation "
              + "for it (or wait for its first bundle)");
        }
        byte[] body = client.fetch(p.federationUrl(), MeshTls.client(ours, anchors, p.endpointSpiffeId()));
        ExportDocument.Parsed parsed = ExportDocument.parse(body, p.meshId(), p.trustDomain());
        parsed.problems().forEach(x -> LOG.log(System.Logger.Level.WARNING, "mesh " + p.meshId() + ": " + x));
        if (old.exports() == null || !old.exports().equals(parsed.document())) {
          LOG.log(System.Logger.Level.INFO, "mesh " + p.meshId() + " exports " + parsed.document().services().size()
              + " service(s) to us");
        }
        next.put(p.meshId(), new PeerState(p, parsed.document(), Instant.now(), null, parsed.problems()));
      } catch (IOException | RuntimeException e) {
        if (old.lastError() == null || !old.lastError().equals(e.getMessage())) {
          LOG.log(System.Logger.Level.WARNING, "mesh " + p.meshId() + " (" + p.source() + "): " + e.getMessage()
              + (old.exports() != null ? "; its last export list stays imported" : "; nothing imported from it yet"));
        }
        next.put(p.meshId(), new PeerState(p, old.exports(), old.fetchedAt(), e.getMessage(), old.problems()));
      }
    }
    states = Map.copyOf(next);
    rebuild();
  }

  /** The imports of every peer's last good list, handed to the registry when they changed. */
  private void rebuild() {
    Map<ResourceId, Resource> resources = new HashMap<>();
    Map<String, List<MeshImports.Import>> all = new TreeMap<>();
    for (PeerState s : states.values()) {
      if (s.exports() == null) continue;
      MeshImports.Result r = MeshImports.build(s.peer(), s.exports(), suffix);
      r.resources().forEach(x -> resources.put(x.id(), x));
      all.put(s.peer().meshId(), r.imports());
    }
    imports = Map.copyOf(all);
    boolean noCluster = lastResources == null;
    if (!(noCluster && states.isEmpty()) && !resources.equals(lastResources)) {
      if (noCluster) {
        // Made with the first peer, so a mesh that federates with none shows no such cluster.
        registry.addCluster(new ClusterSettings(IMPORT_CLUSTER, "", systemNamespace), true);
      }
      lastResources = resources;
      registry.resync(IMPORT_CLUSTER, resources);
    }
    updateMetrics();
  }

  /** For /debug/status: our mesh id, each peer with its fetch state and imports, what we export to it. */
  Map<String, Object> status() {
    MeshConfig m = mesh.get();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("meshId", m.effectiveMeshId());
    out.put("trustDomain", m.trustDomain());
    out.put("importSuffix", suffix);
    out.put("refreshSeconds", refresh.toMillis() / 1000.0);
    List<Map<String, Object>> peers = new ArrayList<>();
    Instant now = Instant.now();
    var snapshot = registry.current();
    Map<String, List<MeshImports.Import>> im = imports;
    for (PeerState s : states.values()) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("meshId", s.peer().meshId());
      p.put("trustDomain", s.peer().trustDomain());
      p.put("federationAddress", s.peer().federationUrl().toString());
      p.put("gateways", s.peer().gateways().stream().map(MeshPeer.Gateway::toString).toList());
      p.put("source", s.peer().source());
      p.put("fetchedAt", s.fetchedAt() == null ? null : s.fetchedAt().toString());
      p.put("ageSeconds", s.fetchedAt() == null ? null : Duration.between(s.fetchedAt(), now).toSeconds());
      p.put("stale", s.stale());
      p.put("lastError", s.lastError());
      p.put("problems", s.problems());
      List<Map<String, Object>> imps = new ArrayList<>();
      for (MeshImports.Import i : im.getOrDefault(s.peer().meshId(), List.of())) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("host", i.host());
        e.put("exportedHost", i.exportedHost());
        e.put("identities", i.identities());
        e.put("gateways", i.gateways().stream().map(MeshPeer.Gateway::toString).toList());
        e.put("leftOut", i.leftOut());
        imps.add(e);
      }
      p.put("imports", imps);
      List<Map<String, Object>> exps = new ArrayList<>();
      for (MeshExports.Decision d : MeshExports.decide(snapshot, s.peer().meshId())) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("host", d.host());
        e.put("declaredBy", d.declaredBy());
        e.put("label", MeshExports.EXPORT_LABEL + "=" + d.label());
        e.put("identities", d.exported() == null ? List.of() : d.exported().identities());
        e.put("gateways", d.exported() == null ? List.of()
            : d.exported().gateways().stream().map(MeshPeer.Gateway::toString).toList());
        e.put("leftOut", d.leftOut());
        exps.add(e);
      }
      p.put("exports", exps);
      peers.add(p);
    }
    out.put("peers", peers);
    List<String> problems = new ArrayList<>(declared.problems());
    problems.addAll(refused);
    out.put("refusedPeers", problems);
    return out;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
