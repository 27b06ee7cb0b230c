package weft.controlplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import weft.xds.dump.ConfigDumps;
import weft.xds.dump.ProxyMatch;
import weft.xds.dump.SentResources;
import weft.xds.server.AdsServer;

/**
 * {@code GET /debug/config_dump?proxy=ID[&types=clusters,listeners,...]}: a connected proxy's
 * configuration as Envoy's config dump JSON with secrets redacted, generated now from the current
 * snapshot for what it watches; a resource it has not been sent yet shows {@code client_status}
 * {@code REQUESTED}. Never waits for the proxy's stream. {@code proxy} is a node id, a
 * {@code POD.NAMESPACE}, a pod name or a prefix one proxy alone has. Errors are JSON
 * {@code {"error": ..., "matches": [...]}}: 400 for a bad query, 404 for no such proxy, 409 when
 * several match.
 */
final class ConfigDumpHandler implements HttpHandler {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A node id is short; anything longer is not one and is not worth decoding. */
  private static final int MAX_QUERY = 2048;

  private final AdsServer ads;

  ConfigDumpHandler(AdsServer ads) {
    this.ads = ads;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try {
      if (!ex.getRequestMethod().equals("GET")) {
        error(ex, 405, "use GET", List.of());
        return;
      }
      String raw = ex.getRequestURI().getRawQuery();
      if (raw != null && raw.length() > MAX_QUERY) {
        error(ex, 400, "query longer than " + MAX_QUERY + " characters", List.of());
        return;
      }
      Map<String, String> query;
      try {
        query = parse(raw);
      } catch (IllegalArgumentException e) {
        error(ex, 400, "malformed query: " + e.getMessage(), List.of());
        return;
      }
      String proxy = query.getOrDefault("proxy", "");
      if (proxy.isEmpty()) {
        error(ex, 400, "name a proxy: /debug/config_dump?proxy=NODE_ID (or POD.NAMESPACE, or a pod name)", List.of());
        return;
      }
      List<String> types = new ArrayList<>();
      for (String t : query.getOrDefault("types", "all").split(",")) {
        if (t.equals("all")) {
          types.addAll(ConfigDumps.ALL_TYPES);
        } else if (ConfigDumps.TYPE_NAMES.containsKey(t)) {
          types.add(ConfigDumps.TYPE_NAMES.get(t));
        } else {
          error(ex, 400, "unknown type \"" + printable(t) + "\"; use all, " + String.join(", ",
              new java.util.TreeSet<>(ConfigDumps.TYPE_NAMES.keySet())), List.of());
          return;
        }
      }
      List<String> matches = ProxyMatch.find(proxy, ads.proxyIds());
      if (matches.isEmpty()) {
        error(ex, 404, "no connected proxy matches \"" + printable(proxy) + "\"; weft proxy-status lists them",
            List.of());
        return;
      }
      if (matches.size() > 1) {
        error(ex, 409, matches.size() + " connected proxies match \"" + printable(proxy) + "\"; give one of them",
            matches);
        return;
      }
      Optional<List<SentResources>> sent = ads.configOf(matches.get(0));
      if (sent.isEmpty()) {
        error(ex, 404, "proxy " + matches.get(0) + " disconnected just now", List.of());
        return;
      }
      respond(ex, 200, ConfigDumps.json(sent.get(), types));
    } catch (RuntimeException e) {
      error(ex, 500, "config dump failed: " + e, List.of());
    }
  }

  static Map<String, String> parse(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) return out;
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      out.putIfAbsent(key, value);
    }
    return out;
  }

  /** Echoed text stays one short printable line, whatever a caller sent. */
  private static String printable(String s) {
    String cut = s.length() > 200 ? s.substring(0, 200) + "…" : s;
    return cut.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
  }

  private static void error(HttpExchange ex, int code, String message, List<String> matches) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    if (!matches.isEmpty()) body.put("matches", matches);
    respond(ex, code, JSON.writeValueAsString(body));
  }

  private static void respond(HttpExchange ex, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
