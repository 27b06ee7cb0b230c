package weft.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import weft.model.VirtualService.Delegate;
import weft.model.VirtualService.HttpMatch;
import weft.model.VirtualService.HttpRoute;

/**
 * VirtualService delegation as Istio merges it (mergeVirtualServicesIfNeeded): an HTTP route of a
 * root VirtualService that names a {@code delegate} is replaced by the delegate's routes, each
 * match being the intersection of the root's and the delegate's; a pair that cannot both hold is
 * left out, and settings the delegate route leaves unset come from the root route. A delegate that
 * does not exist, has hosts, or is not exported to the root's namespace contributes nothing.
 */
public final class Delegation {
  private Delegation() {}

  /** What was wrong with one delegate reference: the root, where, and why. */
  public record Problem(ResourceId root, String field, String message) {}

  /** The result of merging: the root VirtualServices with delegates resolved, and what could not be. */
  public record Merged(List<VirtualService> virtualServices, List<Problem> problems) {}

  /**
   * Every VirtualService with hosts, its delegated routes merged in; host-less (delegate) ones are
   * left out, as they route nothing by themselves. {@code defaultExportTo} is the mesh's default
   * for VirtualServices that do not set exportTo.
   */
  public static Merged merge(List<VirtualService> all, List<String> defaultExportTo) {
    Map<ResourceId, VirtualService> delegates = new HashMap<>();
    for (VirtualService vs : all) if (vs.hosts().isEmpty()) delegates.put(vs.id(), vs);
    List<VirtualService> out = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    for (VirtualService vs : all) {
      if (vs.hosts().isEmpty()) continue;
      if (vs.http().stream().noneMatch(r -> r.delegate() != null)) {
        out.add(vs);
        continue;
      }
      List<HttpRoute> merged = new ArrayList<>();
      for (int i = 0; i < vs.http().size(); i++) {
        HttpRoute root = vs.http().get(i);
        if (root.delegate() == null) {
          merged.add(root);
          continue;
        }
        String field = "spec.http[" + i + "].delegate";
        Delegate ref = root.delegate();
        String ns = ref.namespace() == null ? vs.id().namespace() : ref.namespace();
        ResourceId key = new ResourceId("VirtualService", ns, ref.name());
        VirtualService target = delegates.get(key);
        if (target == null) {
          boolean hasHosts = all.stream().anyMatch(v -> v.id().equals(key));
          problems.add(new Problem(vs.id(), field, hasHosts
              ? "delegate " + ns + "/" + ref.name() + " has hosts, so it is no delegate; its routes are not used "
                  + "here and requests this route matches go to the next route"
              : "delegate " + ns + "/" + ref.name() + " does not exist (yet); requests this route matches go to "
                  + "the next route until it does"));
          continue;
        }
        if (!exportedTo(target, vs.id().namespace(), defaultExportTo)) {
          problems.add(new Problem(vs.id(), field, "delegate " + ns + "/" + ref.name() + " is not exported to "
              + "namespace " + vs.id().namespace() + " (its exportTo); its routes are not used here"));
          continue;
        }
        for (HttpRoute d : target.http()) {
          HttpRoute m = mergeRoute(root, d);
          if (m != null) merged.add(m);
        }
      }
      out.add(new VirtualService(vs.id(), vs.hosts(), vs.gateways(), merged, vs.tls(), vs.tcp(), vs.exportTo()));
    }
    return new Merged(List.copyOf(out), List.copyOf(problems));
  }

  private static boolean exportedTo(VirtualService vs, String namespace, List<String> defaults) {
    List<String> list = vs.exportTo().isEmpty() ? defaults : vs.exportTo();
    for (String e : list) {
      if (e.equals("*") || e.equals(namespace) || (e.equals(".") && vs.id().namespace().equals(namespace))) {
        return true;
      }
    }
    return false;
  }

  /** Istio's mergeHTTPRoute: the delegate route's own settings win; the root fills what it leaves unset. */
  private static HttpRoute mergeRoute(HttpRoute root, HttpRoute d) {
    List<HttpMatch> matches;
    if (root.match().isEmpty()) {
      matches = d.match();
    } else if (d.match().isEmpty()) {
      matches = root.match();
    } else {
      matches = new ArrayList<>();
      for (HttpMatch rm : root.match()) {
        for (HttpMatch dm : d.match()) {
          HttpMatch both = mergeMatch(rm, dm);
          if (both != null) matches.add(both);
        }
      }
      // No pair can hold at once: the delegate route matches nothing under this root.
      if (matches.isEmpty()) return null;
    }
    String name = root.name() == null ? d.name() : d.name() == null ? root.name() : root.name() + "-" + d.name();
    return new HttpRoute(name, matches, d.route(), or(d.timeout(), root.timeout()), or(d.retries(), root.retries()),
        or(d.fault(), root.fault()), or(d.rewrite(), root.rewrite()), d.redirect(), d.directResponse(), null,
        or(d.headers(), root.headers()), or(d.cors(), root.cors()), d.mirrors().isEmpty() ? root.mirrors()
        : d.mirrors());
  }

  private static <T> T or(T first, T second) {
    return first != null ? first : second;
  }

  /**
   * Istio's mergeHTTPMatchRequest: both conditions must hold. Null when they cannot (a different
   * exact path, a path outside the root's prefix, a header or port both set differently).
   */
  static HttpMatch mergeMatch(HttpMatch root, HttpMatch d) {
    StringMatch uri = uri(root.uri(), d.uri());
    if (uri == CONFLICT) return null;
    StringMatch method = same(root.method(), d.method());
    StringMatch authority = same(root.authority(), d.authority());
    if (method == CONFLICT || authority == CONFLICT) return null;
    Map<String, StringMatch> headers = union(root.headers(), d.headers());
    Map<String, StringMatch> without = union(root.withoutHeaders(), d.withoutHeaders());
    Map<String, StringMatch> query = union(root.queryParams(), d.queryParams());
    if (headers == null || without == null || query == null) return null;
    if (root.port() != 0 && d.port() != 0 && root.port() != d.port()) return null;
    Map<String, String> labels = new LinkedHashMap<>(root.sourceLabels());
    for (Map.Entry<String, String> e : d.sourceLabels().entrySet()) {
      String before = labels.putIfAbsent(e.getKey(), e.getValue());
      if (before != null && !before.equals(e.getValue())) return null;
    }
    String sourceNs = root.sourceNamespace();
    if (d.sourceNamespace() != null) {
      if (sourceNs != null && !sourceNs.equals(d.sourceNamespace())) return null;
      sourceNs = d.sourceNamespace();
    }
    String name = root.name() == null ? d.name() : d.name() == null ? root.name() : root.name() + "-" + d.name();
    // A delegate has no gateways of its own (the parser refuses them): the root's match decides.
    return new HttpMatch(name, uri, method, authority, headers, without, query, root.port() != 0 ? root.port()
        : d.port(), labels, sourceNs, root.ignoreUriCase() || d.ignoreUriCase(), root.gateways());
  }

  private static final StringMatch CONFLICT = new StringMatch(StringMatch.Kind.EXACT, "\0conflict");

  /** A path in the delegate must lie within the root's: equal exact paths, or under the root's prefix. */
  private static StringMatch uri(StringMatch root, StringMatch d) {
    if (root == null) return d;
    if (d == null) return root;
    if (root.kind() == StringMatch.Kind.EXACT) {
      return d.kind() == StringMatch.Kind.EXACT && d.value().equals(root.value()) ? d : CONFLICT;
    }
    if (root.kind() == StringMatch.Kind.PREFIX) {
      return d.value().startsWith(root.value()) && d.kind() != StringMatch.Kind.REGEX ? d : CONFLICT;
    }
    return CONFLICT; // the parser refuses regexes where they would have to be intersected
  }

  private static StringMatch same(StringMatch root, StringMatch d) {
    if (root == null) return d;
    if (d == null) return root;
    return root.equals(d) ? d : CONFLICT;
  }

  private static Map<String, StringMatch> union(Map<String, StringMatch> root, Map<String, StringMatch> d) {
    Map<String, StringMatch> out = new LinkedHashMap<>(root);
    for (Map.Entry<String, StringMatch> e : d.entrySet()) {
      StringMatch before = out.putIfAbsent(e.getKey(), e.getValue());
      if (before != null && !Objects.equals(before, e.getValue())) return null;
    }
    return out;
  }
}
