package weft.xds.diag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Per-proxy drop notes summarised by cause: what many proxies were not sent for one reason is one
 * finding, with how many proxies and subjects and one example. The cause is the reason with its
 * particulars (hosts, addresses, resource names, numbers, lists) taken out, so any new note a
 * generator records is summarised without a change here.
 */
final class ProxyDrops {
  /** Notes that say what a proxy may not see by design (exportTo, Sidecar egress, cluster-local). */
  private static final List<String> VISIBILITY = List.of("not exported to namespace", "not in the egress hosts of",
      "cluster-local in", "another VirtualService for");
  private static final Pattern RESOURCE = Pattern.compile("\\b[A-Z][A-Za-z]+ [a-z0-9][-a-z0-9]*/[-a-z0-9.]+");
  private static final Pattern CLUSTER_NAME = Pattern.compile("\\S*\\|\\S*");
  private static final Pattern HOST = Pattern.compile("\\b[A-Za-z0-9*][-A-Za-z0-9*_]*(\\.[-A-Za-z0-9*_]+)+(:\\d+)?\\b");
  private static final Pattern LIST = Pattern.compile("\\[[^\\]]*\\]");
  private static final Pattern NUMBER = Pattern.compile("\\b\\d+\\b");

  private ProxyDrops() {}

  static String cause(String reason) {
    String c = RESOURCE.matcher(reason).replaceAll("<resource>");
    c = CLUSTER_NAME.matcher(c).replaceAll("<cluster>");
    c = HOST.matcher(c).replaceAll("<host>");
    c = LIST.matcher(c).replaceAll("[…]");
    return NUMBER.matcher(c).replaceAll("N");
  }

  static boolean visibility(String reason) {
    return VISIBILITY.stream().anyMatch(reason::startsWith);
  }

  private static final class Cause {
    final Set<String> proxies = new TreeSet<>();
    final Set<String> subjects = new TreeSet<>();
    String exampleSubject;
    String exampleReason;
    String exampleProxy;
  }

  static void summarise(List<AnalysisInput.ProxyReport> proxies, Set<Finding> out) {
    Map<String, Cause> causes = new TreeMap<>();
    for (AnalysisInput.ProxyReport p : proxies) {
      for (Map.Entry<String, String> d : new TreeMap<>(p.dropped()).entrySet()) {
        Cause c = causes.computeIfAbsent(cause(d.getValue()), k -> new Cause());
        c.proxies.add(p.id());
        c.subjects.add(d.getKey());
        if (c.exampleReason == null) {
          c.exampleSubject = d.getKey();
          c.exampleReason = d.getValue();
          c.exampleProxy = p.id();
        }
      }
      for (String nack : p.nacks()) {
        out.add(Finding.of(AnalyzerCode.WEFT0103, "proxy " + p.id(), "", "rejected what it was sent: " + nack
            + "; it keeps its previous configuration"));
      }
    }
    causes.forEach((cause, c) -> {
      AnalyzerCode code = visibility(c.exampleReason) ? AnalyzerCode.WEFT0102 : AnalyzerCode.WEFT0101;
      List<String> more = new ArrayList<>(c.subjects);
      more.remove(c.exampleSubject);
      out.add(Finding.of(code, c.exampleSubject, "", c.proxies.size() + " proxy(ies), " + c.subjects.size()
          + " subject(s): " + c.exampleReason + " (e.g. on " + c.exampleProxy + ")"
          + (more.isEmpty() ? "" : "; also " + MeshAnalyzer.abbreviate(more))));
    });
  }
}
