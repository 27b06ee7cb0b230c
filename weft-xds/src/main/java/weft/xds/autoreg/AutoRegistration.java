package weft.xds.autoreg;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import weft.model.Names;
import weft.model.ResourceId;
import weft.model.WorkloadEntry;
import weft.model.WorkloadGroup;
import weft.registry.Locality;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.security.auth.VerifiedCaller;
import weft.xds.proxy.Proxy;

/**
 * WorkloadEntry auto-registration, Istio's way: a proxy that names a WorkloadGroup in its node
 * metadata ({@code AUTO_REGISTER_GROUP}) is registered as a WorkloadEntry made from the group's
 * template and its own address when it connects, and the entry is removed a grace period after its
 * last stream closes (a proxy that reconnects in time keeps it).
 *
 * <p>A client is who its credential says: registration needs a caller the secure port verified, in
 * the group's namespace, with the group template's service account. Metadata alone never registers
 * anything. Entries live in this control plane's memory, in the config cluster's state, so their
 * endpoints reach EDS like any WorkloadEntry's; with a {@link Store} they are also written where
 * other control planes read them (the config cluster's API server, as istiod writes them).
 *
 * <p>All state is guarded by this object's lock; removals run on the injected scheduler.
 */
public final class AutoRegistration {
  /** The node metadata key that names the group (Istio's). */
  public static final String GROUP_METADATA = "AUTO_REGISTER_GROUP";
  /** The label a registered entry carries with its group's name. */
  public static final String GROUP_LABEL = "istio.io/autoRegistrationGroup";
  /** Istio's default grace period ({@code PILOT_WORKLOAD_ENTRY_GRACE_PERIOD}). */
  public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(10);
  private static final System.Logger LOG = System.getLogger(AutoRegistration.class.getName());

  /**
   * Where registered entries are kept beyond this control plane's memory. Called with this object's
   * lock held: an implementation must not block (queue the work).
   */
  public interface Store {
    /**
     * Whether entries live only in this control plane's memory, so that it adds them to its own
     * registry itself. A store the registry watches (the config cluster) is the truth instead: what
     * it holds is what every control plane serves, including entries another instance holds now.
     */
    default boolean memoryOnly() {
      return false;
    }

    /** The proxy of {@code entry} connected (again) and holds it. */
    void put(WorkloadEntry entry, WorkloadGroup group);

    /** The entry's grace period ended with no proxy holding it. */
    void remove(ResourceId id);
  }

  /** Keeps nothing beyond memory (file mode). */
  public static final Store MEMORY_ONLY = new Store() {
    @Override
    public boolean memoryOnly() {
      return true;
    }

    @Override
    public void put(WorkloadEntry entry, WorkloadGroup group) {}

    @Override
    public void remove(ResourceId id) {}
  };

  private volatile Store store = MEMORY_ONLY;
  private final Registry registry;
  private final String clusterId;
  /** Read when a stream closes; set by {@code --workload-entry-grace-period}. */
  private volatile Duration gracePeriod;
  private final ScheduledExecutorService scheduler;
  /** Entry → the streams holding it; guarded by this. */
  private final Map<ResourceId, Set<Object>> holders = new HashMap<>();
  /** Entry → its pending removal; guarded by this. */
  private final Map<ResourceId, ScheduledFuture<?>> removals = new HashMap<>();
  /** Stream → the entry it registered; guarded by this. */
  private final Map<Object, ResourceId> byStream = new HashMap<>();
  /** The registered entries; guarded by this. */
  private final Map<ResourceId, WorkloadEntry> entries = new LinkedHashMap<>();

  /**
   * @param clusterId the config cluster whose state the entries join
   * @param scheduler runs the removals after the grace period
   */
  public AutoRegistration(Registry registry, String clusterId, Duration gracePeriod,
      ScheduledExecutorService scheduler) {
    if (gracePeriod.isNegative()) throw new IllegalArgumentException("grace period must not be negative");
    this.registry = registry;
    this.clusterId = clusterId;
    this.gracePeriod = gracePeriod;
    this.scheduler = scheduler;
  }

  /** Writes registered entries to {@code store} too, from now on. */
  public void store(Store store) {
    this.store = store;
  }

  public Duration gracePeriod() {
    return gracePeriod;
  }

  /** Changes the grace period for streams that close from now on. */
  public void gracePeriod(Duration period) {
    if (period.isNegative()) throw new IllegalArgumentException("grace period must not be negative");
    this.gracePeriod = period;
  }

  /**
   * Registers the proxy of {@code stream} into {@code group}. Returns null when registered, else why
   * not (the stream is then refused, as Istio refuses it).
   */
  public synchronized String register(Object stream, Proxy proxy, VerifiedCaller caller, String group,
      MeshSnapshot snapshot) {
    if (!isDnsSubdomain(group)) {
      return "node metadata " + GROUP_METADATA + " " + Names.quote(group) + " is not a WorkloadGroup name";
    }
    if (caller == null) {
      return "auto-registration into WorkloadGroup " + proxy.namespace() + "/" + group + " needs a verified client: "
          + "connect to the secure port with a workload certificate or token";
    }
    WorkloadGroup g = snapshot.proxyPolicies().workloadGroup(proxy.namespace(), group);
    if (g == null) {
      return "WorkloadGroup " + proxy.namespace() + "/" + group + " (node metadata " + GROUP_METADATA
          + ") does not exist";
    }
    String templateAccount = g.template().serviceAccount();
    if (!caller.id().namespace().equals(g.id().namespace()) || templateAccount == null
        || !templateAccount.equals(caller.id().serviceAccount())) {
      return "the client is " + caller.id() + ", but WorkloadGroup " + g.id().namespace() + "/" + group
          + " registers service account " + (templateAccount == null ? "(none)" : templateAccount) + " of namespace "
          + g.id().namespace() + "; a workload may only join a group of its own identity";
    }
    if (!isIpLiteral(proxy.ip())) {
      return "the node id's address " + Names.quote(proxy.ip()) + " is not an IP address; the registered entry "
          + "needs the workload's IP";
    }
    WorkloadEntry entry = entry(g, proxy);
    ResourceId id = entry.id();
    ResourceId before = byStream.put(stream, id);
    if (before != null && !before.equals(id)) release(stream, before);
    holders.computeIfAbsent(id, k -> new HashSet<>()).add(stream);
    ScheduledFuture<?> pending = removals.remove(id);
    if (pending != null) pending.cancel(false);
    // Written on every connection, as istiod does: it marks which control plane holds the entry now.
    store.put(entry, g);
    if (!entry.equals(entries.get(id))) {
      entries.put(id, entry);
      if (store.memoryOnly()) {
        Map<ResourceId, weft.model.Resource> change = new HashMap<>();
        change.put(id, entry);
        registry.update(clusterId, change, false);
      }
      LOG.log(System.Logger.Level.INFO, "registered WorkloadEntry " + id.namespace() + "/" + id.name() + " for "
          + caller.id() + " (WorkloadGroup " + group + ")");
    }
    return null;
  }

  /** The stream closed: its entry goes after the grace period unless another stream holds it by then. */
  public synchronized void disconnected(Object stream) {
    ResourceId id = byStream.remove(stream);
    if (id != null) release(stream, id);
  }

  private void release(Object stream, ResourceId id) {
    Set<Object> h = holders.get(id);
    if (h == null) return;
    h.remove(stream);
    if (!h.isEmpty()) return;
    holders.remove(id);
    removals.put(id, scheduler.schedule(() -> expire(id), gracePeriod.toMillis(), TimeUnit.MILLISECONDS));
  }

  private synchronized void expire(ResourceId id) {
    if (holders.containsKey(id)) return; // reconnected in time
    removals.remove(id);
    if (entries.remove(id) == null) return;
    if (!store.memoryOnly()) {
      store.remove(id);
      return;
    }
    Map<ResourceId, weft.model.Resource> change = new HashMap<>();
    change.put(id, null);
    registry.update(clusterId, change, false);
    LOG.log(System.Logger.Level.INFO, "removed WorkloadEntry " + id.namespace() + "/" + id.name()
        + ": its proxy disconnected " + gracePeriod.toMillis() + " ms ago");
  }

  private static final java.util.regex.Pattern SUBDOMAIN =
      java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Kubernetes' object-name rule (DNS-1123 subdomain). */
  static boolean isDnsSubdomain(String s) {
    return s != null && s.length() <= 253 && SUBDOMAIN.matcher(s).matches();
  }

  /** An IPv4 or IPv6 literal; never resolves a name. */
  static boolean isIpLiteral(String s) {
    if (s == null || s.isEmpty() || s.length() > 45) return false;
    if (s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
      for (String part : s.split("\\.")) {
        if (Integer.parseInt(part) > 255) return false;
      }
      return true;
    }
    if (!s.contains(":") || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
      return false;
    }
    try {
      java.net.InetAddress.getByName(s); // with ':' Java parses an IPv6 literal and never looks a name up
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** The entries registered now, in registration order. */
  public synchronized List<WorkloadEntry> entries() {
    return new ArrayList<>(entries.values());
  }

  /**
   * The entry for {@code proxy} in {@code group}: the template with the proxy's address; labels from
   * the template, then the group's metadata, then the proxy's own (Istio's precedence) and the group
   * label; the proxy's network and locality when it names them. Named GROUP-IP (and -NETWORK), as
   * Istio names it.
   */
  static WorkloadEntry entry(WorkloadGroup g, Proxy proxy) {
    WorkloadEntry.Spec t = g.template();
    Map<String, String> labels = new LinkedHashMap<>(t.labels());
    labels.putAll(g.labels());
    labels.putAll(proxy.labels());
    labels.remove("istio-locality");
    labels.put(GROUP_LABEL, g.id().name());
    String network = proxy.network() == null || proxy.network().isEmpty() ? t.network() : proxy.network();
    String locality = proxy.locality().equals(Locality.UNKNOWN) ? t.locality() : proxy.locality().toString();
    String name = g.id().name() + "-" + proxy.ip().replace(':', '-')
        + (proxy.network() == null || proxy.network().isEmpty() ? "" : "-" + proxy.network());
    return new WorkloadEntry(new ResourceId("WorkloadEntry", g.id().namespace(), name),
        new WorkloadEntry.Spec(proxy.ip(), t.ports(), labels, network, locality, t.weight(), t.serviceAccount()));
  }
}
