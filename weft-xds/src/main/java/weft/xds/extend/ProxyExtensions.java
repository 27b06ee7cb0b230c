package weft.xds.extend;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import weft.model.EnvoyFilter;
import weft.model.WasmPlugin;
import weft.xds.Generated;
import weft.xds.TypeUrls;
import weft.xds.view.PartCache;
import weft.xds.view.ProxyView;

/**
 * The last step of generation for Envoy proxies: WasmPlugins inserted into the HTTP (and network)
 * filter chains, then EnvoyFilter patches applied to every generated listener, route configuration
 * and cluster, in Istio's order ({@link ExtensionSet}), then the listeners and clusters patches ADD.
 *
 * <p>It runs on each generated resource after the shared parts are taken from the caches, and its
 * own output is cached under the resource's unpatched bytes and the proxy's {@link ExtensionSet}: two
 * proxies that share an unpatched listener but not their filters get different patched ones, and
 * proxies with the same filters share the work.
 *
 * <p>Nothing here can fail a push: a patch whose value is not a valid Envoy proto, one that throws
 * while it is applied, or an applyTo Weft does not support is a finding on the proxy (a drop note
 * naming the EnvoyFilter and the patch) and is left out; the rest apply. Proxyless gRPC clients are
 * not Envoy: filters selecting them are findings and change nothing.
 */
public final class ProxyExtensions {
  private ProxyExtensions() {}

  /** The cache key of one patched resource; printed short (the cache weighs keys by their text). */
  private record PatchedKey(String typeUrl, String name, Generated unpatched, ExtensionSet set) {
    @Override
    public String toString() {
      return "patched " + TypeUrls.shortName(typeUrl) + " " + name + " " + unpatched.version();
    }
  }

  /** {@code generated} for the proxy of {@code view} with its extensions applied (the same map when none apply). */
  public static SortedMap<String, Generated> apply(String typeUrl, ProxyView view,
      SortedMap<String, Generated> generated) {
    boolean listeners = typeUrl.equals(TypeUrls.LISTENER);
    boolean clusters = typeUrl.equals(TypeUrls.CLUSTER);
    if (!listeners && !clusters && !typeUrl.equals(TypeUrls.ROUTE)) return generated;
    ExtensionSet set = ExtensionSet.of(view.snapshot(), view.proxy());
    if (set.isEmpty()) return generated;
    if (view.proxy().proxyless()) {
      for (EnvoyFilter f : set.envoyFilters()) {
        view.drop("EnvoyFilter " + f.id().namespace() + "/" + f.id().name(), "selects this proxyless gRPC client, "
            + "which is not Envoy: its patches are not applied");
      }
      for (WasmPlugin p : set.wasmPlugins()) {
        view.drop("WasmPlugin " + p.id().namespace() + "/" + p.id().name(), "selects this proxyless gRPC client, "
            + "which cannot run Wasm modules: not applied");
      }
      return generated;
    }
    Findings findings = new Findings();
    List<Step> steps = steps(set, findings);
    List<WasmPlugin> plugins = plugins(set, findings);
    SortedMap<String, Generated> out = new TreeMap<>();
    for (Map.Entry<String, Generated> e : generated.entrySet()) {
      PartCache.Part<Generated> part = view.context().parts().forRouting(
          new PatchedKey(typeUrl, e.getKey(), e.getValue(), set),
          () -> patchOne(typeUrl, e.getValue(), set, steps, plugins));
      part.replay(view);
      if (part.value() != null) out.put(e.getKey(), part.value());
    }
    if (listeners) addAll(out, steps, "LISTENER", set, findings, Listener.class);
    if (clusters) {
      addAll(out, steps, "CLUSTER", set, findings, Cluster.class);
      for (WasmPlugin p : plugins) {
        if (p.scheme().equals("http") || p.scheme().equals("https")) {
          out.putIfAbsent(WasmFilters.fetchClusterName(p), Generated.of(Any.pack(WasmFilters.fetchCluster(p))));
        }
      }
    }
    findings.notes().forEach(d -> view.drop(d.subject(), d.reason()));
    return out;
  }

  /** The patches that apply to this proxy, their values read; the unusable ones are findings. */
  private static List<Step> steps(ExtensionSet set, Findings findings) {
    List<Step> out = new ArrayList<>();
    for (EnvoyFilter f : set.envoyFilters()) {
      for (EnvoyFilter.Patch p : f.patches()) {
        if (!proxyMatches(f, p, set, findings)) continue;
        PatchValues.Compiled c = PatchValues.of(p);
        if (c.problem() != null) {
          findings.patch(f, p, c.problem());
          continue;
        }
        out.add(new Step(f, p, c.value()));
      }
    }
    return out;
  }

  /** Istio's proxyMatch: the version regex against ISTIO_VERSION (none given: no match), and metadata. */
  private static boolean proxyMatches(EnvoyFilter f, EnvoyFilter.Patch p, ExtensionSet set, Findings findings) {
    EnvoyFilter.Match m = p.match();
    if (m.proxyVersion() != null) {
      if (set.istioVersion().isEmpty()) return false;
      try {
        if (!Pattern.compile(m.proxyVersion()).matcher(set.istioVersion()).find()) return false;
      } catch (PatternSyntaxException e) {
        return false; // refused by the parser; never here
      }
    }
    if (!m.proxyMetadata().isEmpty()) {
      findings.patch(f, p, "match.proxy.metadata is not supported by Weft (only ISTIO_VERSION is read from a "
          + "proxy's metadata)");
      return false;
    }
    return true;
  }

  private static List<WasmPlugin> plugins(ExtensionSet set, Findings findings) {
    List<WasmPlugin> out = new ArrayList<>();
    for (WasmPlugin p : set.wasmPlugins()) {
      String why = WasmFilters.unusable(p);
      if (why == null) {
        out.add(p);
      } else {
        findings.note("WasmPlugin " + p.id().namespace() + "/" + p.id().name(), why);
      }
    }
    return out;
  }

  private static PartCache.Part<Generated> patchOne(String typeUrl, Generated g, ExtensionSet set, List<Step> steps,
      List<WasmPlugin> plugins) {
    Findings findings = new Findings();
    Generated out = g;
    try {
      switch (typeUrl) {
        case TypeUrls.LISTENER -> {
          Listener l = g.resource().unpack(Listener.class);
          PatchContext ctx = set.router() ? PatchContext.GATEWAY
              : l.getName().equals("virtualInbound") ? PatchContext.SIDECAR_INBOUND : PatchContext.SIDECAR_OUTBOUND;
          Listener withWasm = wasm(l, ctx, plugins);
          Listener patched = new ListenerPatcher(steps, ctx, findings).patch(withWasm);
          out = patched == null ? null : same(g, patched);
        }
        case TypeUrls.ROUTE -> {
          RouteConfiguration rc = g.resource().unpack(RouteConfiguration.class);
          PatchContext ctx = set.router() ? PatchContext.GATEWAY : PatchContext.SIDECAR_OUTBOUND;
          out = same(g, new RoutePatcher(steps, ctx, findings).patch(rc));
        }
        case TypeUrls.CLUSTER -> {
          Cluster c = g.resource().unpack(Cluster.class);
          PatchContext ctx = set.router() ? PatchContext.GATEWAY
              : c.getName().startsWith("inbound|") ? PatchContext.SIDECAR_INBOUND : PatchContext.SIDECAR_OUTBOUND;
          Cluster patched = new ClusterPatcher(steps, ctx, findings).patch(c);
          out = patched == null ? null : same(g, patched);
        }
        default -> { }
      }
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      // A bug in patching must not cost the proxy this resource: it is sent unpatched, and said so.
      findings.note("extensions of " + TypeUrls.shortName(typeUrl) + " version " + g.version(), "patching failed (" + e
          + "); the resource is sent as generated");
      out = g;
    }
    return new PartCache.Part<>(out, findings.notes());
  }

  /** The generated object itself when a patch changed nothing, so unchanged bytes are shared. */
  private static Generated same(Generated g, com.google.protobuf.Message patched) {
    Any packed = Any.pack(patched);
    return packed.getValue().equals(g.resource().getValue()) ? g : Generated.of(packed);
  }

  /** A listener with the WasmPlugins that select each of its chains (by traffic side and port) inserted. */
  private static Listener wasm(Listener l, PatchContext ctx, List<WasmPlugin> plugins) throws InvalidProtocolBufferException {
    if (plugins.isEmpty() || l.getName().equals("virtualOutbound")) return l;
    Listener.Builder b = l.toBuilder();
    int listenerPort = l.getAddress().hasSocketAddress() ? l.getAddress().getSocketAddress().getPortValue() : 0;
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      FilterChain fc = l.getFilterChains(i);
      int port = ctx == PatchContext.SIDECAR_INBOUND ? fc.getFilterChainMatch().getDestinationPort().getValue()
          : listenerPort;
      b.setFilterChains(i, wasmChain(fc, ctx, port, plugins));
    }
    if (l.hasDefaultFilterChain()) b.setDefaultFilterChain(wasmChain(l.getDefaultFilterChain(), ctx, listenerPort, plugins));
    return b.build();
  }

  private static FilterChain wasmChain(FilterChain fc, PatchContext ctx, int port, List<WasmPlugin> plugins)
      throws InvalidProtocolBufferException {
    List<WasmPlugin> http = new ArrayList<>();
    List<WasmPlugin> network = new ArrayList<>();
    for (WasmPlugin p : plugins) {
      if (!WasmFilters.selects(p, ctx, port)) continue;
      (WasmFilters.network(p) ? network : http).add(p);
    }
    if (http.isEmpty() && network.isEmpty()) return fc;
    List<Filter> filters = new ArrayList<>();
    for (Filter f : fc.getFiltersList()) {
      if (!http.isEmpty() && f.getName().equals(ListenerPatcher.HCM) && f.hasTypedConfig()) {
        HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
        hcm = hcm.toBuilder().clearHttpFilters()
            .addAllHttpFilters(WasmFilters.insertHttp(hcm.getHttpFiltersList(), http)).build();
        f = f.toBuilder().setTypedConfig(Any.pack(hcm)).build();
      }
      filters.add(f);
    }
    return fc.toBuilder().clearFilters().addAllFilters(WasmFilters.insertNetwork(filters, network)).build();
  }

  /** LISTENER or CLUSTER ADD patches whose context the proxy has: appended, never patched further (as in Istio). */
  private static <T extends com.google.protobuf.Message> void addAll(SortedMap<String, Generated> out, List<Step> steps,
      String applyTo, ExtensionSet set, Findings findings, Class<T> type) {
    for (Step s : steps) {
      if (!s.patch().applyTo().equals(applyTo) || !s.op().equals("ADD")) continue;
      boolean inContext = set.router() ? s.inContext(PatchContext.GATEWAY)
          : s.inContext(PatchContext.SIDECAR_INBOUND) || s.inContext(PatchContext.SIDECAR_OUTBOUND);
      if (!inContext) continue;
      com.google.protobuf.Message value = s.value(type);
      String name = value instanceof Listener l ? l.getName() : ((Cluster) value).getName();
      if (name.isEmpty()) {
        findings.patch(s.filter(), s.patch(), "the added " + applyTo.toLowerCase(java.util.Locale.ROOT)
            + " has no name, which Envoy requires");
      } else if (out.containsKey(name)) {
        findings.patch(s.filter(), s.patch(), "the added " + applyTo.toLowerCase(java.util.Locale.ROOT) + " is named "
            + name + ", which already exists (Envoy would refuse both); use MERGE or REPLACE");
      } else {
        out.put(name, Generated.of(Any.pack(value)));
      }
    }
  }
}
