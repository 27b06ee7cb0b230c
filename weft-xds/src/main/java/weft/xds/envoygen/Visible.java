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
    String own = service.addresses().get(clusterId);
    if (own != null && !own.isEmpty()) return own;
    for (String address : new TreeMap<>(service.addresses()).values()) {
      if (address != null && !address.isEmpty()) return address;
    }
    return null;
  }
}
