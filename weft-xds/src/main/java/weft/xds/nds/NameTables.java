package weft.xds.nds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.dns.alloc.AutoAddress;
import weft.dns.nds.NameTable;
import weft.model.ResourceId;
import weft.model.ServiceEntry;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.Generated;
import weft.xds.TypeUrls;
import weft.xds.view.PartCache;
import weft.xds.view.ProxyView;

/**
 * A proxy's name table, as Istio's NDS builds it: every host of its view (exportTo, Sidecar egress,
 * cluster-local) with the addresses a DNS lookup of it answers.
 * <ul>
 *   <li>Kubernetes Services: the VIP of the proxy's own cluster, else of the lowest cluster id that
 *       has one (a service that lives only in a remote cluster still resolves), with its short name
 *       and namespace so that the agent answers the search-path forms ({@code name},
 *       {@code name.ns}, {@code name.ns.svc}).</li>
 *   <li>Headless Services: the ready pod IPs, the proxy's own cluster first (other networks' pods
 *       are left out: the proxy cannot reach them directly), and {@code HOSTNAME.SVC.NS.svc...} for
 *       endpoints with a hostname (StatefulSet pods).</li>
 *   <li>ServiceEntries: their {@code addresses} (CIDRs cannot be answers), else, for an Envoy proxy
 *       that proxies DNS, their automatic addresses (the ones its outbound listeners bind to).
 *       Wildcard hosts and entries without any address are left out: the agent forwards those names
 *       to the real resolver. A proxyless workload is not sent automatic addresses: nothing of its
 *       own would catch a connection to one.</li>
 * </ul>
 * Proxies that do not ask for DNS proxying get no table.
 *
 * <p>Generation is shared: the part without headless services depends on exactly the inputs in
 * {@link TableKey} and is cached in the routing bucket (dropped when any service definition or
 * config changes); each headless service's entries depend on its endpoints and on {@link
 * HeadlessKey}, and are cached in that host's bucket (dropped when its endpoints change). A proxy's
 * table is the concatenation of their bytes: a protobuf map is a repeated field, so concatenated
 * messages parse as one table holding every entry, with no re-serialization per proxy.
 */
public final class NameTables {
  /** Istio sends one table per proxy and names it nothing. */
  public static final String RESOURCE_NAME = "";
  /** Istio's registry names in {@link NameTable.NameInfo#getRegistry()}. */
  static final String KUBERNETES = "Kubernetes";
  static final String EXTERNAL = "External";

  private NameTables() {}

  /** Everything a table's non-headless part depends on besides the snapshot. */
  record TableKey(String namespace, ResourceId sidecar, String clusterId, boolean autoAddresses) {}

  /** Everything one headless service's entries depend on besides its endpoints. */
  record HeadlessKey(String generator, String clusterId, String network) {}

  /** True when the proxy asked for DNS proxying: only such proxies get a table. */
  public static boolean wanted(ProxyView view) {
    return view.proxy().dnsCapture();
  }

  /** True when the proxy knows ServiceEntry hosts without addresses by their automatic addresses. */
  public static boolean usesAutoAddresses(ProxyView view) {
    return view.proxy().dnsCapture() && !view.proxy().proxyless();
  }

  /** The proxy's table by its name (empty for a proxy that does not proxy DNS). */
  public static SortedMap<String, Generated> generated(ProxyView view) {
    SortedMap<String, Generated> out = new TreeMap<>();
    if (!wanted(view)) return out;
    out.put(RESOURCE_NAME, table(view));
    return out;
  }

  private static Generated table(ProxyView view) {
    List<ServiceView> visible = view.visibleServices();
    TableKey key = new TableKey(view.proxy().namespace(), view.sidecar() == null ? null : view.sidecar().id(),
        view.proxy().clusterId(), usesAutoAddresses(view));
    PartCache parts = view.context().parts();
    PartCache.Part<Generated> fixedPart = parts.forRouting(key, () -> {
      List<PartCache.Drop> drops = new ArrayList<>();
      return new PartCache.Part<>(fixedPart(view, visible, key, drops), drops);
    });
    fixedPart.replay(view);
    Generated fixed = fixedPart.value();
    ByteString bytes = fixed.resource().getValue();
    boolean headless = false;
    HeadlessKey hk = new HeadlessKey("name-table", view.proxy().clusterId(), view.proxy().network());
    for (ServiceView sv : visible) {
      if (!isHeadless(sv.service())) continue;
      headless = true;
      Generated entries = parts.forHost(view.snapshot(), sv, hk,
          () -> new PartCache.Part<>(headlessPart(sv, hk), List.of())).value();
      bytes = bytes.concat(entries.resource().getValue());
    }
    return headless ? Generated.of(Any.newBuilder().setTypeUrl(TypeUrls.NAME_TABLE).setValue(bytes).build()) : fixed;
  }

  /** A Kubernetes Service with no VIP in any cluster (clusterIP None). */
  static boolean isHeadless(MeshService s) {
    if (s.mcs() != null && s.mcs().clustersetHost()) return s.mcs().headless();
    return s.origin() == MeshService.Origin.KUBERNETES && vip(s, "") == null && !s.hostname().startsWith("*");
  }

  /** Why a visible host has no entry: shown per proxy in /debug/status. */
  static final String WILDCARD = "name table: a wildcard host has no address of its own; lookups go to the "
      + "upstream resolver";
  static final String NO_ADDRESS = "name table: no address (no spec.addresses, and no automatic address for this "
      + "proxy); lookups go to the upstream resolver";

  private static Generated fixedPart(ProxyView view, List<ServiceView> visible, TableKey key,
      List<PartCache.Drop> drops) {
    SortedMap<String, NameTable.NameInfo> table = new TreeMap<>();
    for (ServiceView sv : visible) {
      MeshService s = sv.service();
      if (s.hostname().startsWith("*")) {
        drops.add(new PartCache.Drop(s.hostname(), WILDCARD));
        continue;
      }
      if (isHeadless(s)) continue;
      NameTable.NameInfo info = s.mcs() != null && s.mcs().clustersetHost() ? clusterset(view, s, key.clusterId())
          : s.origin() == MeshService.Origin.KUBERNETES ? kubernetes(s, key.clusterId())
          : serviceEntry(view, s, key.autoAddresses());
      if (info != null) {
        table.put(s.hostname(), info);
      } else {
        drops.add(new PartCache.Drop(s.hostname(), NO_ADDRESS));
      }
    }
    return pack(table);
  }

  private static NameTable.NameInfo kubernetes(MeshService s, String clusterId) {
    String vip = vip(s, clusterId);
    if (vip == null) return null;
    return NameTable.NameInfo.newBuilder().addIps(vip).setRegistry(KUBERNETES).setShortname(s.name())
        .setNamespace(s.namespace()).addAllWeftPorts(ports(s)).build();
  }

  /**
   * {@code NAME.NS.svc.clusterset.local}: the VIP of the ServiceImport in the proxy's cluster (else in
   * the lowest cluster that has one), else the address Weft allocated for it. Sent to every proxy that
   * proxies DNS, proxyless ones too: the name must resolve for any client, as a ServiceImport's VIP
   * does in Kubernetes. No short name: the search-path forms ({@code NAME.NS.svc}) are cluster.local's.
   */
  private static NameTable.NameInfo clusterset(ProxyView view, MeshService s, String clusterId) {
    List<String> ips = new ArrayList<>();
    String vip = vip(s, clusterId);
    if (vip != null) {
      ips.add(vip);
    } else {
      AutoAddress auto = view.context().autoAddresses().of(s.namespace(), s.hostname());
      if (auto != null) ips.addAll(auto.all());
    }
    if (ips.isEmpty()) return null;
    return NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry(KUBERNETES).addAllWeftPorts(ports(s)).build();
  }

  /**
   * The host's named ports, for the agent's SRV answers ({@code _PORT._tcp.HOST}); Weft's field of
   * the table, which Istio's agents skip.
   */
  static List<NameTable.Port> ports(MeshService s) {
    List<NameTable.Port> out = new ArrayList<>();
    for (MeshService.Port p : s.ports()) {
      if (p.name() == null || p.name().isEmpty()) continue;
      out.add(NameTable.Port.newBuilder().setName(p.name()).setNumber(p.number())
          .setProtocol(p.protocol() == null ? "" : p.protocol()).build());
    }
    return out;
  }

  private static NameTable.NameInfo serviceEntry(ProxyView view, MeshService s, boolean autoAddresses) {
    ServiceEntry entry = s.serviceEntry();
    List<String> ips = new ArrayList<>();
    if (entry != null && !entry.addresses().isEmpty()) {
      for (String a : entry.addresses()) if (!a.contains("/")) ips.add(a);
    } else if (entry == null) {
      String vip = vip(s, view.proxy().clusterId());
      if (vip != null && !vip.contains("/")) ips.add(vip);
    } else if (autoAddresses) {
      AutoAddress auto = view.context().autoAddresses().of(entry.id().namespace(), s.hostname());
      if (auto != null) ips.addAll(auto.all());
    }
    if (ips.isEmpty()) return null;
    return NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry(EXTERNAL).addAllWeftPorts(ports(s)).build();
  }

  /** The VIP of {@code clusterId}, else of the lowest cluster id that has one, else null. */
  static String vip(MeshService s, String clusterId) {
    String own = s.addresses().get(clusterId);
    if (own != null && !own.isEmpty()) return own;
    for (String a : new TreeMap<>(s.addresses()).values()) if (a != null && !a.isEmpty()) return a;
    return null;
  }

  /** A headless service's pod IPs and its pods' own names, for proxies in {@code key}'s cluster and network. */
  static Generated headlessPart(ServiceView sv, HeadlessKey key) {
    MeshService s = sv.service();
    Set<String> own = new LinkedHashSet<>();
    SortedMap<String, Set<String>> others = new TreeMap<>();
    Map<String, Set<String>> podNames = new LinkedHashMap<>();
    Map<String, Set<String>> podNamesElsewhere = new LinkedHashMap<>();
    for (WorkloadEndpoint e : sv.endpoints()) {
      if (e.health() != WorkloadEndpoint.Health.HEALTHY || e.unixSocketPath() != null) continue;
      boolean sameNetwork = key.network().isEmpty() || e.network().isEmpty() || key.network().equals(e.network());
      if (!sameNetwork) continue;
      boolean mine = e.clusterId().equals(key.clusterId());
      (mine ? own : others.computeIfAbsent(e.clusterId(), c -> new LinkedHashSet<>())).add(e.address());
      if (e.hostname() != null && !e.hostname().isEmpty()) {
        (mine ? podNames : podNamesElsewhere).computeIfAbsent(e.hostname(), h -> new LinkedHashSet<>()).add(e.address());
      }
    }
    List<String> ips = new ArrayList<>(own);
    others.values().forEach(ips::addAll);
    SortedMap<String, NameTable.NameInfo> table = new TreeMap<>();
    if (!ips.isEmpty()) {
      table.put(s.hostname(), NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry(KUBERNETES)
          .setShortname(s.name()).setNamespace(s.namespace()).addAllWeftPorts(ports(s)).build());
    }
    podNamesElsewhere.forEach((h, a) -> podNames.computeIfAbsent(h, x -> new LinkedHashSet<>()).addAll(a));
    podNames.forEach((hostname, addresses) -> table.put(hostname + "." + s.hostname(), NameTable.NameInfo.newBuilder()
        .addAllIps(addresses).setRegistry(KUBERNETES).setShortname(hostname + "." + s.name())
        .setNamespace(s.namespace()).build()));
    return pack(table);
  }

  /** Entries in host order, written deterministically: two control planes send the same bytes. */
  private static Generated pack(SortedMap<String, NameTable.NameInfo> entries) {
    NameTable table = NameTable.newBuilder().putAllTable(entries).build();
    ByteString.Output out = ByteString.newOutput(table.getSerializedSize());
    try {
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.useDeterministicSerialization();
      table.writeTo(coded);
      coded.flush();
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    return Generated.of(Any.newBuilder().setTypeUrl(TypeUrls.NAME_TABLE).setValue(out.toByteString()).build());
  }
}
