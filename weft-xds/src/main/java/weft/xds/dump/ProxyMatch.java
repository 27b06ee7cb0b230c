package weft.xds.dump;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Finds the connected proxy an operator means: its full node id, its {@code POD.NAMESPACE} or pod
 * name (what {@code istioctl} takes), or a prefix of either that only one proxy has. The most exact
 * kind of match wins, so a full id is never ambiguous with a longer one it prefixes.
 */
public final class ProxyMatch {
  private ProxyMatch() {}

  /** The matching ids, sorted: exactly one means found, none means unknown, several means ambiguous. */
  public static List<String> find(String query, Collection<String> ids) {
    if (query.isEmpty()) return List.of();
    TreeSet<String> exactId = new TreeSet<>();
    TreeSet<String> exactPod = new TreeSet<>();
    TreeSet<String> prefix = new TreeSet<>();
    for (String id : ids) {
      String podDotNamespace = podDotNamespace(id);
      String pod = podDotNamespace.contains(".") ? podDotNamespace.substring(0, podDotNamespace.indexOf('.')) : "";
      if (id.equals(query)) {
        exactId.add(id);
      } else if (query.equals(podDotNamespace) || query.equals(pod)) {
        exactPod.add(id);
      } else if (id.startsWith(query) || (!podDotNamespace.isEmpty() && podDotNamespace.startsWith(query))) {
        prefix.add(id);
      }
    }
    for (TreeSet<String> tier : List.of(exactId, exactPod, prefix)) {
      if (!tier.isEmpty()) return new ArrayList<>(tier);
    }
    return List.of();
  }

  /** The third part of Istio's node id {@code TYPE~IP~POD.NAMESPACE~DOMAIN}, or "" for another shape. */
  static String podDotNamespace(String id) {
    String[] parts = id.split("~", -1);
    return parts.length == 4 ? parts[2] : "";
  }
}
