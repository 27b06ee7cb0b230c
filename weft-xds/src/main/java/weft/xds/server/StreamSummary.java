package weft.xds.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;

/**
 * What one stream looks like from outside: immutable, published by the stream after each request
 * and push, read by /debug/status and the operator commands on their own threads. Reading it never
 * waits for the stream, however busy or blocked it is.
 *
 * @param proxy null until the stream's first request named its node
 * @param verifiedIdentity what the client proved on the secure port, or null
 * @param dropped what the generators left out for this proxy and why
 */
record StreamSummary(Proxy proxy, String peer, String protocol, long connectedAt, String verifiedIdentity,
    List<TypeSummary> types, Map<String, String> dropped) {
  StreamSummary {
    types = List.copyOf(types);
    dropped = java.util.Collections.unmodifiableMap(dropped);
  }

  /** One type of one stream. {@code names} and {@code sent} are the stream's own immutable tables. */
  record TypeSummary(String typeUrl, NameSet names, boolean wildcard, SentTable sent, String sentVersion,
      String sentNonce, String ackedVersion, long pushes, long nacks, String lastNack, long lastNackMillis,
      String lastError, long lastErrorMillis, boolean waitingToSend) {
    static TypeSummary of(WatchState w) {
      return new TypeSummary(w.typeUrl, w.names, w.wildcard, w.sent, w.sentVersion, w.lastNonce, w.ackedVersion,
          w.pushes, w.nacks, w.lastNack, w.lastNackMillis, w.lastError, w.lastErrorMillis, w.deferred != null);
    }
  }

  /** The JSON shape of /debug/status's entry for this stream. */
  Map<String, Object> toMap() {
    Map<String, Object> out = new LinkedHashMap<>();
    Proxy p = proxy;
    out.put("id", p == null ? "" : p.id());
    out.put("peer", peer);
    out.put("protocol", protocol);
    out.put("connectedAt", connectedAt);
    if (verifiedIdentity != null) out.put("verifiedIdentity", verifiedIdentity);
    if (p != null) {
      out.put("clusterId", p.clusterId());
      out.put("network", p.network());
      out.put("meshId", p.meshId());
      out.put("namespace", p.namespace());
      out.put("labels", p.labels());
      out.put("serviceAccount", p.serviceAccount());
      out.put("locality", p.locality().toString());
      out.put("generator", p.proxyless() ? "grpc" : "envoy");
      out.put("kind", p.kind());
    }
    Map<String, Object> xds = new LinkedHashMap<>();
    for (TypeSummary t : types) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("subscribed", t.wildcard() ? List.of("*") : t.names().asList());
      m.put("sentVersion", t.sentVersion());
      m.put("sentNonce", t.sentNonce());
      m.put("ackedVersion", t.ackedVersion());
      m.put("acked", t.sentVersion().equals(t.ackedVersion()));
      m.put("resources", t.sent().size());
      m.put("pushes", t.pushes());
      m.put("nacks", t.nacks());
      if (t.waitingToSend()) m.put("waitingToSend", true);
      if (t.lastNack() != null) m.put("lastNack", Map.of("reason", t.lastNack(), "at", t.lastNackMillis()));
      if (t.lastError() != null) m.put("lastError", Map.of("reason", t.lastError(), "at", t.lastErrorMillis()));
      xds.put(TypeUrls.shortName(t.typeUrl()), m);
    }
    out.put("xds", xds);
    out.put("dropped", dropped);
    return out;
  }
}
