package weft.controlplane;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import weft.dns.nds.NameTable;
import weft.dns.server.DnsServer;
import weft.dns.server.MeshNames;
import weft.registry.ChangeEvent;
import weft.registry.Locality;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.nds.NameTables;
import weft.xds.proxy.Proxy;

/**
 * The control plane answering DNS ({@code --dns-port}), for clients that can only point a resolver
 * at it: each query is answered with the name table of a proxy of the cluster and namespace its
 * source stands for (the most specific {@code --dns-client} block that holds it), else of this
 * control plane's own cluster and the {@code default} namespace. Such a client has no proxy of its
 * own, so it is treated as a proxyless workload: ServiceEntry hosts without addresses are left to
 * the upstream resolvers rather than answered with automatic addresses nothing would catch.
 *
 * <p>Tables are compiled once per snapshot change for each view (there are as many views as rules,
 * plus the default), on a thread of their own; queries only look the compiled table up. A view whose
 * generation fails keeps answering from its last good table.
 */
final class ControlPlaneDns implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ControlPlaneDns.class.getName());
  static final String DEFAULT_NAMESPACE = "default";

  /** The proxy a query is answered for. */
  record View(String clusterId, String namespace) {}

  private final Registry registry;
  private final Generators generators;
  private final List<DnsClientRule> rules;
  private final View fallback;
  private final Map<View, MeshNames> compiled = new ConcurrentHashMap<>();
  private final AtomicBoolean pending = new AtomicBoolean();
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-dns-tables");
    t.setDaemon(true);
    return t;
  });
  private DnsServer server;

  ControlPlaneDns(Registry registry, Generators generators, List<DnsClientRule> rules, String ownClusterId) {
    this.registry = registry;
    this.generators = generators;
    // Most specific first, so that a /32 inside a /16 wins whatever the order on the command line.
    List<DnsClientRule> sorted = new ArrayList<>(rules);
    sorted.sort(Comparator.comparingInt(DnsClientRule::prefix).reversed());
    this.rules = List.copyOf(sorted);
    this.fallback = new View(ownClusterId, DEFAULT_NAMESPACE);
  }

  /** Compiles the tables of the current snapshot, then serves on {@code address}. */
  void start(InetSocketAddress address, List<InetSocketAddress> upstreams) throws IOException {
    compileAll(registry.current());
    server = DnsServer.builder().address(address).names(this::forClient).upstreams(upstreams).start();
  }

  int port() {
    return server.port();
  }

  /** A snapshot listener: hands off; one recompilation covers every change that arrived meanwhile. */
  void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    if (change.isEmpty()) return;
    if (pending.compareAndSet(false, true)) worker.execute(() -> {
      pending.set(false);
      compileAll(registry.current());
    });
  }

  MeshNames forClient(InetAddress source) {
    View view = viewOf(source);
    MeshNames names = compiled.get(view);
    return names == null ? MeshNames.EMPTY : names;
  }

  View viewOf(InetAddress source) {
    for (DnsClientRule r : rules) if (r.matches(source)) return new View(r.clusterId(), r.namespace());
    return fallback;
  }

  private void compileAll(MeshSnapshot snapshot) {
    Set<View> views = new LinkedHashSet<>();
    views.add(fallback);
    for (DnsClientRule r : rules) views.add(new View(r.clusterId(), r.namespace()));
    for (View v : views) {
      try {
        Generation g = generators.generateAll(TypeUrls.NAME_TABLE, generators.view(snapshot, proxyOf(v)));
        if (g.failed()) {
          LOG.log(System.Logger.Level.WARNING, "DNS view " + v + ": " + g.failure() + "; answering from its last table");
          continue;
        }
        var any = g.get(NameTables.RESOURCE_NAME);
        NameTable table = any == null ? NameTable.getDefaultInstance() : any.unpack(NameTable.class);
        compiled.put(v, MeshNames.compile(table, v.namespace()));
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "DNS view " + v + " could not be compiled (" + e + "); answering from "
            + "its last table");
      }
    }
  }

  /** A proxyless workload of the view's cluster and namespace that asks for DNS proxying. */
  static Proxy proxyOf(View v) {
    String ns = v.namespace();
    return new Proxy("sidecar~0.0.0.0~dns-client." + ns + "~" + ns + ".svc.cluster.local", "sidecar", "0.0.0.0",
        "dns-client", ns, v.clusterId(), "", Map.of(), "", Locality.UNKNOWN, true, ns + ".svc.cluster.local", true);
  }

  /** Waits until the tables of every snapshot so far are compiled (tests). */
  void flush() throws Exception {
    worker.submit(() -> { }).get();
  }

  @Override
  public void close() {
    if (server != null) server.close();
    worker.shutdownNow();
  }
}
