package weft.xds.envoygen;

import java.util.List;
import java.util.TreeMap;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.xds.view.ProxyView;

/** The services a proxy may see, in hostname order, and the address it knows each by. */
final class Visible {
  private Visible() {}

  /**
   * Every service {@link ProxyView#service} lets through, sorted by hostname. Hidden ones are
   * recorded in the view by that call, so each generator reports the same reasons.
   */
  static List<ServiceView> services(ProxyView view) {
    return view.visibleServices();
  }

  /**
   * The service's virtual IP as the proxy's cluster knows it, else the one of the lowest cluster id
   * (a stable choice), else null for a service without one (headless, ServiceEntry without addresses).
   */
  static String vip(MeshService service, String clusterId) {
    return ownOrLowest(service, clusterId);
  }

  /**
   * The address this proxy knows the service by: its VIP as above, else, for a proxy that proxies
   * DNS, the ServiceEntry host's automatic address (what its name table answers, so its outbound
   * listener binds there, as Istio's do); else null.
   */
  static String vip(ProxyView view, MeshService service) {
    String vip = ownOrLowest(service, view.proxy().clusterId());
    if (vip == null && service.mcs() != null && service.mcs().clustersetHost() && !service.mcs().headless()
        && weft.xds.nds.NameTables.usesAutoAddresses(view)) {
      // A clusterset host without a ServiceImport VIP: the address Weft allocated, as its name table
      // answers it (only a proxy that proxies DNS knows it, as for a ServiceEntry's automatic address).
      weft.dns.alloc.AutoAddress auto = view.context().autoAddresses().of(service.namespace(), service.hostname());
      return auto == null ? null : auto.primary();
    }
    if (vip != null || service.serviceEntry() == null || !service.serviceEntry().addresses().isEmpty()
        || !weft.xds.nds.NameTables.usesAutoAddresses(view)) {
      return vip;
    }
    weft.dns.alloc.AutoAddress auto = view.context().autoAddresses()
        .of(service.serviceEntry().id().namespace(), service.hostname());
    return auto == null ? null : auto.primary();
  }

  private static String ownOrLowest(MeshService service, String clusterId) {
    String own = service.addresses().get(clusterId);
    if (own != null && !own.isEmpty()) return own;
    for (String address : new TreeMap<>(service.addresses()).values()) {
      if (address != null && !address.isEmpty()) return address;
    }
    return null;
  }
}
