package weft.xds.proxyconfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.ProxyConfig;

/**
 * Which ProxyConfig resources apply to a proxy and what they add up to, in Istio's order
 * (pilot/pkg/model/proxy_config.go): the root namespace's resource without selector (mesh-wide),
 * then the proxy namespace's without selector, then the first in the proxy's namespace whose
 * selector matches its labels. A later one's set fields override; environment variables merge by
 * name, as protobuf merges maps. A pure function of its inputs.
 */
public final class ProxyConfigs {
  private ProxyConfigs() {}

  /** The ProxyConfigs in scope for a proxy, least specific first. */
  public static List<ProxyConfig> applicable(List<ProxyConfig> all, String rootNamespace, String namespace,
      Map<String, String> labels) {
    List<ProxyConfig> out = new ArrayList<>();
    ProxyConfig root = namespaceWide(all, rootNamespace);
    if (root != null) out.add(root);
    if (!namespace.equals(rootNamespace)) {
      ProxyConfig ns = namespaceWide(all, namespace);
      if (ns != null) out.add(ns);
    }
    for (ProxyConfig p : all) {
      if (p.id().namespace().equals(namespace) && p.selector() != null && matches(p.selector(), labels)) {
        out.add(p);
        break;
      }
    }
    return out;
  }

  /** The merged settings of {@code applicable}, least specific first. */
  public static EffectiveProxyConfig merge(List<ProxyConfig> applicable) {
    Integer concurrency = null;
    String image = null;
    Map<String, String> env = new LinkedHashMap<>();
    List<String> sources = new ArrayList<>();
    for (ProxyConfig p : applicable) {
      if (p.concurrency() != null) concurrency = p.concurrency();
      if (p.image() != null) image = p.image();
      env.putAll(p.environmentVariables());
      sources.add(p.id().namespace() + "/" + p.id().name());
    }
    return new EffectiveProxyConfig(concurrency, image, env, sources);
  }

  /** The effective ProxyConfig of a proxy. */
  public static EffectiveProxyConfig effective(List<ProxyConfig> all, String rootNamespace, String namespace,
      Map<String, String> labels) {
    return merge(applicable(all, rootNamespace, namespace, labels));
  }

  /**
   * Records on the proxy that its ProxyConfig is known but not applied: concurrency, image and
   * environment belong to the process that launches the proxy (Istio's injector and pilot-agent),
   * which Weft does not run; grpc-java has no worker pool or image at all. Shown, never silent.
   */
  public static void note(weft.xds.view.ProxyView view) {
    List<ProxyConfig> all = view.snapshot().proxyPolicies().proxyConfigs();
    if (all.isEmpty()) return;
    var proxy = view.proxy();
    EffectiveProxyConfig effective = effective(all, view.snapshot().meshConfig().rootNamespace(), proxy.namespace(),
        proxy.labels());
    if (effective.sources().isEmpty()) return;
    List<String> set = new ArrayList<>();
    if (effective.concurrency() != null) set.add("concurrency " + effective.concurrency());
    if (effective.image() != null) set.add("image " + effective.image());
    if (!effective.environmentVariables().isEmpty()) {
      set.add("environment " + String.join(", ", effective.environmentVariables().keySet()));
    }
    if (set.isEmpty()) return;
    view.drop("ProxyConfig " + String.join(", ", effective.sources()), "not applied: " + String.join("; ", set)
        + (proxy.proxyless() ? " (a proxyless gRPC client has no worker pool, image or proxy process to configure)"
            : "; these are settings of the proxy's process, made by its launcher (Istio's injector and "
                + "pilot-agent), which Weft does not run: set them where the proxy is started"));
  }

  private static ProxyConfig namespaceWide(List<ProxyConfig> all, String namespace) {
    for (ProxyConfig p : all) {
      if (p.id().namespace().equals(namespace) && p.selector() == null) return p;
    }
    return null;
  }

  private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
