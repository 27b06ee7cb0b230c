package weft.controlplane;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import weft.model.MeshConfig;
import weft.security.SpiffeId;
import weft.security.ca.CertificateAuthority;
import weft.security.federation.BundleClient;
import weft.security.federation.BundleEndpointProfile;
import weft.security.federation.BundleEndpointServer;
import weft.security.federation.BundleSequence;
import weft.security.federation.BundleTls;
import weft.security.federation.FederatedPeer;
import weft.security.federation.PeerBundles;
import weft.security.federation.SpiffeBundle;

/**
 * The control plane's half of trust between meshes: our bundle (served at {@code --bundle-port}) and
 * the peers' bundles ({@link PeerBundles}), fetched and followed. Peers' roots reach the per-trust-domain
 * {@link weft.security.trust.TrustBundles} through {@link ControlPlane#trustBundles()}.
 */
final class ControlPlaneFederation implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ControlPlaneFederation.class.getName());
  private final CertificateAuthority ca;
  private final Supplier<MeshConfig> mesh;
  private final ControlPlaneOptions.Federation settings;
  private final BundleSequence sequence;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-federation");
    t.setDaemon(true);
    return t;
  });
  private final PeerBundles peers;
  private final weft.security.federation.PeerBundleStore kept;
  // Complete once the first declarations (folder or config cluster) are applied: until then the
  // peers are not known, and the agents must not be told there are none.
  private final java.util.concurrent.CompletableFuture<Void> settled = new java.util.concurrent.CompletableFuture<>();
  private volatile List<String> refused = List.of();
  private volatile List<String> folderProblems = List.of();
  private volatile List<FederatedPeer> declared = List.of();
  private volatile List<FederatedPeer> fromMesh = List.of();
  private volatile FederationPeers.Declared fromFolder = FederationPeers.Declared.NONE;
  // Owned by the federation thread.
  private String folderStamp;
  private BundleEndpointServer endpoint;

  ControlPlaneFederation(CertificateAuthority ca, Supplier<MeshConfig> mesh, ControlPlaneOptions.Federation settings,
      Path stateDir, Runnable onPeerRootsChange) {
    this.ca = ca;
    this.mesh = mesh;
    this.settings = settings;
    this.sequence = new BundleSequence(stateDir);
    SSLContext webRoots = null;
    if (settings.webRoots() != null) {
      try {
        webRoots = WebRoots.context(settings.webRoots());
      } catch (IllegalArgumentException e) {
        scheduler.shutdownNow();
        throw new IllegalArgumentException("--bundle-web-roots " + e.getMessage(), e);
      }
    }
    this.kept = new weft.security.federation.PeerBundleStore(stateDir);
    this.peers = new PeerBundles(new BundleClient(webRoots), scheduler, Clock.systemUTC(), settings.minRefresh(),
        settings.maxRefresh(), () -> {
          keep();
          onPeerRootsChange.run();
        });
    peers.seed(kept.load());
  }

  /** Keeps the peers' bundles in force in the state folder, for a restart (on the federation thread). */
  private void keep() {
    Map<String, SpiffeBundle> now = new java.util.TreeMap<>();
    peers.states().forEach((td, s) -> {
      if (s.bundle() != null) now.put(td, s.bundle());
    });
    kept.save(now);
  }

  /**
   * Completes once the first declarations of peers are applied (with bundles kept from before a
   * restart in force): what the control plane tells agents before then could lack a peer it has not
   * read yet.
   */
  java.util.concurrent.CompletableFuture<Void> settled() {
    return settled;
  }

  /** Declarations come from MeshConfig alone (no folder, no config cluster): settled once applied. */
  void settleWithoutWatch() {
    scheduler.execute(() -> settled.complete(null));
  }

  /**
   * Metrics: {@code weft_federation_peers} and {@code weft_federation_peers_stale} (a peer whose last
   * fetch failed, its last bundle still in force), {@code weft_federation_bundle_sequence} of ours.
   */
  void registerMetrics(io.micrometer.core.instrument.MeterRegistry metrics) {
    io.micrometer.core.instrument.Gauge.builder("weft_federation_peers", peers, p -> p.states().size())
        .description("federated trust domains declared").register(metrics);
    io.micrometer.core.instrument.Gauge.builder("weft_federation_peers_stale", peers,
        p -> p.states().values().stream().filter(PeerBundles.PeerState::stale).count())
        .description("federated trust domains whose last bundle fetch failed (the last good bundle stays in force)")
        .register(metrics);
    io.micrometer.core.instrument.Gauge.builder("weft_federation_bundle_sequence", this,
        f -> f.ourBundle().sequence())
        .description("spiffe_sequence of this mesh's bundle").register(metrics);
  }

  /** What we export to peer meshes, served beside the bundle; null: none (set before {@link #serve}). */
  private com.sun.net.httpserver.HttpHandler exports;

  void serveExports(com.sun.net.httpserver.HttpHandler handler) {
    this.exports = handler;
  }

  /** Binds the bundle endpoint when {@code --bundle-port} is given. */
  void serve(String systemNamespace) throws IOException {
    if (settings.bundlePort() < 0) return;
    SSLContext tls;
    if (settings.profile() == BundleEndpointProfile.HTTPS_WEB) {
      if (settings.tlsDir() == null) {
        throw new IllegalArgumentException("--bundle-profile https_web needs --bundle-tls-dir (the endpoint's "
            + BundleTls.CERT_FILE + " and " + BundleTls.KEY_FILE + ")");
      }
      try {
        tls = BundleTls.httpsWeb(settings.tlsDir());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--bundle-tls-dir " + e.getMessage(), e);
      }
    } else if (exports != null) {
      // Peer meshes' control planes authenticate with their X.509-SVIDs to fetch what we export to them.
      tls = weft.security.meshes.MeshTls.server(BundleTls.spiffeKeyManager(ca, endpointId(systemNamespace), scheduler),
          weft.security.meshes.MeshTls.current(peers::roots));
    } else {
      tls = BundleTls.httpsSpiffe(ca, endpointId(systemNamespace), scheduler);
    }
    boolean mutual = exports != null && settings.profile() == BundleEndpointProfile.HTTPS_SPIFFE;
    endpoint = new BundleEndpointServer(new InetSocketAddress(settings.bundlePort()), tls, this::ourBundle, mutual);
    if (mutual) {
      endpoint.handle(weft.security.meshes.ExportClient.PATH, exports);
    } else if (exports != null) {
      LOG.log(System.Logger.Level.WARNING, "--bundle-profile https_web: peer meshes cannot fetch what we export "
          + "(the export list is served only over https_spiffe, where both sides show SPIFFE ids)");
    }
    LOG.log(System.Logger.Level.INFO, "serving the SPIFFE bundle of " + mesh.get().trustDomain() + " on :"
        + endpoint.port() + " (" + settings.profile().wireName() + ")");
  }

  /** The SPIFFE id the https_spiffe endpoint presents: the control plane's own, as on the secure port. */
  SpiffeId endpointId(String systemNamespace) {
    return new SpiffeId(mesh.get().trustDomain(), systemNamespace, "istiod");
  }

  int port() {
    return endpoint == null ? -1 : endpoint.port();
  }

  /**
   * Our bundle: our CA's roots plus MeshConfig {@code caCertificates} given for our own trust domain
   * by name (how a new root is published before it signs, for the overlap of a rotation). Entries for
   * every domain are not ours to publish.
   */
  SpiffeBundle ourBundle() {
    MeshConfig m = mesh.get();
    List<X509Certificate> roots = new ArrayList<>(ca.roots());
    for (MeshConfig.CaCertificate c : m.caCertificates()) {
      if (c.pem() == null || !c.trustDomains().contains(m.trustDomain())) continue;
      try {
        for (X509Certificate r : weft.security.ca.Pem.parseCertificates(c.pem(), null)) {
          if (roots.stream().noneMatch(r::equals)) roots.add(r);
        }
      } catch (RuntimeException e) {
        // Already reported by the MeshConfig checks; what can be read is served.
      }
    }
    return new SpiffeBundle(m.trustDomain(), roots, sequence.sequenceFor(roots), settings.refreshHint());
  }

  /** MeshConfig changed: its spiffeBundleUrl peers, with the folder's. */
  void onMeshConfig(MeshConfig m) {
    fromMesh = FederationPeers.declared(m);
    apply();
  }

  /**
   * Reads the config folder's TrustDomainFederation resources now and whenever its files change
   * (checked every two seconds on the federation thread; a file's size or time is enough to notice).
   */
  void watchFolder(Path dir) {
    scheduler.scheduleWithFixedDelay(() -> {
      String stamp = FederationPeers.folderStamp(dir);
      if (stamp.equals(folderStamp)) return;
      folderStamp = stamp;
      fromFolder = FederationPeers.fromFolder(dir);
      apply();
      // Queued behind the peers' application that apply() just queued on this thread.
      if (!settled.isDone()) scheduler.execute(() -> settled.complete(null));
    }, 0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * Reads TrustDomainFederation resources of the config cluster every two seconds: only those in the
   * system namespace, where only mesh administrators write (a tenant's namespace must not be able to
   * add trust). A failed list keeps the last one.
   */
  void watchConfigCluster(io.fabric8.kubernetes.client.KubernetesClient client, String systemNamespace) {
    scheduler.scheduleWithFixedDelay(() -> {
      FederationPeers.Declared read;
      try {
        var list = client.genericKubernetesResources(RESOURCE).inNamespace(systemNamespace).list();
        List<FederatedPeer> found = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (var item : list.getItems()) {
          com.fasterxml.jackson.databind.JsonNode doc = CLUSTER_JSON.valueToTree(item);
          var r = weft.security.federation.TrustDomainFederationParser.parse(doc,
              "config cluster namespace " + systemNamespace);
          if (r.peer() != null) found.add(r.peer());
          problems.addAll(r.problems());
        }
        read = new FederationPeers.Declared(found, problems);
      } catch (RuntimeException e) {
        String why = "config cluster: cannot list TrustDomainFederation in " + systemNamespace + " ("
            + e.getMessage() + "); the last list stays";
        read = new FederationPeers.Declared(fromFolder.peers(), List.of(why));
      }
      fromFolder = read;
      apply();
      if (!settled.isDone()) scheduler.execute(() -> settled.complete(null));
    }, 0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** The TrustDomainFederation kind on an API server (a CRD there: group weft.dev, namespaced). */
  static final io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext RESOURCE =
      new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("weft.dev")
          .withVersion("v1alpha1").withKind("TrustDomainFederation").withPlural("trustdomainfederations")
          .withNamespaced(true).build();
  private static final com.fasterxml.jackson.databind.ObjectMapper CLUSTER_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private synchronized void apply() {
    List<FederatedPeer> all = new ArrayList<>(fromFolder.peers());
    all.addAll(fromMesh);
    List<String> problems = new ArrayList<>(fromFolder.problems());
    if (!all.equals(declared)) {
      declared = List.copyOf(all);
      MeshConfig m = mesh.get();
      refused = peers.setPeers(m.trustDomain(), m.trustDomainAliases(), all);
      refused.forEach(p -> LOG.log(System.Logger.Level.WARNING, p));
    }
    if (!problems.equals(folderProblems)) {
      problems.forEach(p -> LOG.log(System.Logger.Level.WARNING, p));
    }
    folderProblems = List.copyOf(problems);
  }

  PeerBundles peers() {
    return peers;
  }

  /** For /debug/status: our bundle, each peer with its sequence, age and last error, refused peers. */
  Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    SpiffeBundle ours = ourBundle();
    out.put("trustDomain", ours.trustDomain());
    out.put("bundleSequence", ours.sequence());
    out.put("bundlePort", port());
    out.put("bundleProfile", endpoint == null ? null : settings.profile().wireName());
    List<Map<String, Object>> list = new ArrayList<>();
    Instant now = Instant.now();
    peers.states().forEach((td, s) -> {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("trustDomain", td);
      p.put("profile", s.peer().profile().wireName());
      p.put("bundleEndpointURL", s.peer().bundleEndpointUrl().toString());
      p.put("source", s.peer().source());
      p.put("sequence", s.bundle() == null ? null : s.bundle().sequence());
      p.put("roots", s.bundle() == null ? 0 : s.bundle().x509Authorities().size());
      p.put("fetchedAt", s.fetchedAt() == null ? null : s.fetchedAt().toString());
      p.put("ageSeconds", s.fetchedAt() == null ? null : Duration.between(s.fetchedAt(), now).toSeconds());
      p.put("stale", s.stale());
      p.put("lastError", s.lastError());
      list.add(p);
    });
    out.put("peers", list);
    List<String> problems = new ArrayList<>(folderProblems);
    problems.addAll(refused);
    out.put("refusedPeers", problems);
    return out;
  }

  @Override
  public void close() {
    if (endpoint != null) endpoint.close();
    peers.close();
    scheduler.shutdownNow();
  }
}
