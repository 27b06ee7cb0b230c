package weft.xds.extend;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import weft.model.EnvoyFilter;

/**
 * LISTENER, LISTENER_FILTER, FILTER_CHAIN, NETWORK_FILTER and HTTP_FILTER patches on one listener, with Istio's
 * match rules (pilot/pkg/networking/core/envoyfilter/listener_patch.go): a listener matches by name
 * and port (on the capture listeners the port is the filter chain's destination port); a chain by
 * name, SNI, transport protocol, application protocols and destination port; a network filter by
 * name; an HTTP filter by the sub-filter name inside the HTTP connection manager. Patches run in
 * order at each level; MERGE and REMOVE touch every match, INSERT_BEFORE, INSERT_AFTER and REPLACE
 * the first. A patch that matches nothing does nothing.
 */
final class ListenerPatcher {
  static final String HCM = "envoy.filters.network.http_connection_manager";

  private final List<Step> steps;
  private final Findings findings;
  private final PatchContext context;

  ListenerPatcher(List<Step> steps, PatchContext context, Findings findings) {
    this.steps = steps;
    this.context = context;
    this.findings = findings;
  }

  /** The listener patched, or null when a patch removed it. */
  Listener patch(Listener listener) {
    Listener l = listener;
    for (Step s : of("LISTENER")) {
      if (!listenerMatch(l, s.match().listener())) continue;
      switch (s.op()) {
        case "MERGE" -> {
          Listener cur = l;
          l = guarded(s, cur, () -> ProtoMerge.merge(cur, s.value()));
        }
        case "REPLACE" -> l = s.value(Listener.class);
        case "REMOVE" -> {
          return null;
        }
        default -> { } // ADD is a list operation (see ProxyExtensions)
      }
    }
    Listener.Builder b = l.toBuilder();
    List<ListenerFilter> listenerFilters = new ArrayList<>(l.getListenerFiltersList());
    for (Step s : of("LISTENER_FILTER")) {
      EnvoyFilter.ListenerMatch m = s.match().listener();
      if (!listenerMatch(l, m)) continue;
      listOperation(s, listenerFilters, f -> m == null || m.listenerFilter() == null
          || m.listenerFilter().equals(f.getName()), ListenerFilter.class, (f, v) -> ProtoMerge.merge(f, v));
    }
    b.clearListenerFilters().addAllListenerFilters(listenerFilters);
    List<FilterChain> chains = new ArrayList<>();
    for (FilterChain fc : l.getFilterChainsList()) {
      FilterChain p = chain(l, fc);
      if (p != null) chains.add(p);
    }
    for (Step s : of("FILTER_CHAIN")) {
      if (!listenerMatch(l, s.match().listener())) continue;
      if (s.op().equals("ADD")) chains.add(s.value(FilterChain.class));
      if (s.op().equals("INSERT_FIRST")) chains.add(0, s.value(FilterChain.class));
    }
    b.clearFilterChains().addAllFilterChains(chains);
    if (l.hasDefaultFilterChain()) {
      FilterChain d = chain(l, l.getDefaultFilterChain());
      if (d == null) b.clearDefaultFilterChain(); else b.setDefaultFilterChain(d);
    }
    return b.build();
  }

  private FilterChain chain(Listener l, FilterChain fc) {
    FilterChain c = fc;
    for (Step s : of("FILTER_CHAIN")) {
      if (!listenerMatch(l, s.match().listener()) || !chainMatch(l, c, s.match().listener())) continue;
      switch (s.op()) {
        case "MERGE" -> {
          FilterChain cur = c;
          c = guarded(s, cur, () -> ProtoMerge.merge(cur, s.value()));
        }
        case "REPLACE" -> c = s.value(FilterChain.class);
        case "REMOVE" -> {
          return null;
        }
        default -> { }
      }
    }
    List<Filter> filters = new ArrayList<>(c.getFiltersList());
    for (Step s : of("NETWORK_FILTER")) {
      EnvoyFilter.ListenerMatch m = s.match().listener();
      if (!listenerMatch(l, m) || !chainMatch(l, c, m)) continue;
      Predicate<Filter> hit = f -> m == null || m.filterChain() == null || m.filterChain().filter() == null
          || m.filterChain().filter().equals(f.getName());
      listOperation(s, filters, hit, Filter.class, (f, v) -> mergeFilter(f, v));
    }
    for (int i = 0; i < filters.size(); i++) {
      Filter f = filters.get(i);
      if (f.getName().equals(HCM) && f.hasTypedConfig()) filters.set(i, httpFilters(l, c, f));
    }
    return c.toBuilder().clearFilters().addAllFilters(filters).build();
  }

  /** The HTTP filters of one connection manager, patched. */
  private Filter httpFilters(Listener l, FilterChain c, Filter hcmFilter) {
    List<Step> http = of("HTTP_FILTER");
    // Inbound route tables are inline (Istio patches them with SIDECAR_INBOUND route patches too).
    boolean inlineRoutes = context == PatchContext.SIDECAR_INBOUND && steps.stream().anyMatch(s -> s.inContext(context)
        && List.of("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE").contains(s.patch().applyTo()));
    if (http.isEmpty() && !inlineRoutes) return hcmFilter;
    HttpConnectionManager hcm;
    try {
      hcm = hcmFilter.getTypedConfig().unpack(HttpConnectionManager.class);
    } catch (InvalidProtocolBufferException e) {
      return hcmFilter;
    }
    List<HttpFilter> filters = new ArrayList<>(hcm.getHttpFiltersList());
    for (Step s : http) {
      EnvoyFilter.ListenerMatch m = s.match().listener();
      if (!listenerMatch(l, m) || !chainMatch(l, c, m)) continue;
      if (m != null && m.filterChain() != null && m.filterChain().filter() != null
          && !m.filterChain().filter().equals(HCM)) {
        continue;
      }
      String sub = m == null || m.filterChain() == null ? null : m.filterChain().subFilter();
      listOperation(s, filters, f -> sub == null || sub.equals(f.getName()), HttpFilter.class, this::mergeHttpFilter);
    }
    HttpConnectionManager.Builder patched = hcm.toBuilder().clearHttpFilters().addAllHttpFilters(filters);
    if (inlineRoutes && hcm.hasRouteConfig()) {
      patched.setRouteConfig(new RoutePatcher(steps, context, findings).patch(hcm.getRouteConfig()));
    }
    return hcmFilter.toBuilder().setTypedConfig(Any.pack(patched.build())).build();
  }

  /** ADD, INSERT_FIRST, INSERT_BEFORE, INSERT_AFTER, REPLACE, REMOVE and MERGE on a list of filters. */
  private <T extends com.google.protobuf.Message> void listOperation(Step s, List<T> list, Predicate<T> hit,
      Class<T> type, java.util.function.BinaryOperator<T> merge) {
    int first = -1;
    for (int i = 0; i < list.size(); i++) {
      if (hit.test(list.get(i))) {
        first = i;
        break;
      }
    }
    T value = s.value(type);
    switch (s.op()) {
      case "ADD" -> list.add(value);
      case "INSERT_FIRST" -> list.add(0, value);
      case "INSERT_BEFORE" -> {
        if (first >= 0) list.add(first, value);
      }
      case "INSERT_AFTER" -> {
        if (first >= 0) list.add(first + 1, value);
      }
      case "REPLACE" -> {
        if (first >= 0) list.set(first, value);
      }
      case "REMOVE" -> list.removeIf(hit);
      case "MERGE" -> {
        for (int i = 0; i < list.size(); i++) {
          if (!hit.test(list.get(i))) continue;
          T cur = list.get(i);
          list.set(i, guarded(s, cur, () -> merge.apply(cur, value)));
        }
      }
      default -> { }
    }
  }

  /** A network filter merged: its typed config unpacked and merged as Istio does. */
  private Filter mergeFilter(Filter existing, Filter patch) {
    Filter.Builder b = existing.toBuilder();
    if (!patch.getName().isEmpty()) b.setName(patch.getName());
    if (patch.hasTypedConfig()) b.setTypedConfig(ProtoMerge.mergeTypedConfig(existing.getTypedConfig(),
        patch.getTypedConfig()));
    return b.build();
  }

  private HttpFilter mergeHttpFilter(HttpFilter existing, HttpFilter patch) {
    HttpFilter.Builder b = existing.toBuilder();
    if (!patch.getName().isEmpty()) b.setName(patch.getName());
    if (patch.hasTypedConfig()) b.setTypedConfig(ProtoMerge.mergeTypedConfig(existing.getTypedConfig(),
        patch.getTypedConfig()));
    if (patch.getIsOptional()) b.setIsOptional(true);
    if (patch.getDisabled()) b.setDisabled(true);
    return b.build();
  }

  /** Runs one patch's change; a failure is a finding and leaves the object as it was. */
  private <T> T guarded(Step s, T before, java.util.function.Supplier<T> change) {
    try {
      return change.get();
    } catch (RuntimeException e) {
      findings.patch(s.filter(), s.patch(), "could not be applied: " + e.getMessage());
      return before;
    }
  }

  private List<Step> of(String applyTo) {
    List<Step> out = new ArrayList<>();
    for (Step s : steps) if (s.patch().applyTo().equals(applyTo) && s.inContext(context)) out.add(s);
    return out;
  }

  static boolean virtual(Listener l) {
    return l.getName().equals("virtualInbound") || l.getName().equals("virtualOutbound");
  }

  /** Istio's listenerMatch: name, and the port (ignored here on the capture listeners, matched per chain). */
  static boolean listenerMatch(Listener l, EnvoyFilter.ListenerMatch m) {
    if (m == null) return true;
    if (m.name() != null && !m.name().equals(l.getName())) return false;
    if (m.portNumber() != 0 && !virtual(l)) {
      return l.getAddress().hasSocketAddress() && l.getAddress().getSocketAddress().getPortValue() == m.portNumber();
    }
    return true;
  }

  /** Istio's filterChainMatch. */
  static boolean chainMatch(Listener l, FilterChain fc, EnvoyFilter.ListenerMatch m) {
    if (m == null) return true;
    var fcm = fc.getFilterChainMatch();
    if (virtual(l) && m.portNumber() != 0 && fcm.getDestinationPort().getValue() != m.portNumber()) return false;
    EnvoyFilter.ChainMatch c = m.filterChain();
    if (c == null) return true;
    if (c.name() != null && !c.name().equals(fc.getName())) return false;
    if (c.sni() != null && !fcm.getServerNamesList().contains(c.sni())) return false;
    if (c.transportProtocol() != null && !c.transportProtocol().equals(fcm.getTransportProtocol())) return false;
    if (c.applicationProtocols() != null) {
      for (String p : c.applicationProtocols().split(",")) {
        if (!fcm.getApplicationProtocolsList().contains(p.trim())) return false;
      }
    }
    if (c.destinationPort() != 0 && fcm.getDestinationPort().getValue() != c.destinationPort()) return false;
    return true;
  }
}
