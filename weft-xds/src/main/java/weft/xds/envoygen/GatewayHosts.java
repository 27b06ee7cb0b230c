package weft.xds.envoygen;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import weft.model.VirtualService;
import weft.xds.view.Hosts;

/** Host-set arithmetic between Gateway servers and VirtualServices (Istio's host.Names.Intersection). */
final class GatewayHosts {
  private GatewayHosts() {}

  /** A VirtualService's hosts with short names made full in its namespace, as Istio resolves them. */
  static List<String> resolved(VirtualService vs) {
    List<String> out = new ArrayList<>();
    for (String h : vs.hosts()) out.add(Hosts.resolve(h, vs.id().namespace()).toLowerCase(Locale.ROOT));
    return out;
  }

  /**
   * The hosts both sides accept, each the more specific of a matching pair: server {@code *.foo.com}
   * and VirtualService {@code a.foo.com} give {@code a.foo.com}, and the other way round too.
   */
  static List<String> intersect(List<String> serverHosts, List<String> vsHosts) {
    Set<String> out = new LinkedHashSet<>();
    for (String a : serverHosts) {
      String server = a.toLowerCase(Locale.ROOT);
      for (String vs : vsHosts) {
        if (Hosts.matches(server, vs)) {
          out.add(vs);
        } else if (Hosts.matches(vs, server)) {
          out.add(server);
        }
      }
    }
    return List.copyOf(out);
  }
}
