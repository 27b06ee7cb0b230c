package weft.gateway.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /healthz} (also Istio's {@code /healthz/ready}): 200 once the first routing table is
 * loaded, 503 before. {@code GET /stats}: a JSON object of counters.
 */
public final class HealthServer implements AutoCloseable {
  private final HttpServer http;

  public HealthServer(InetSocketAddress bind, BooleanSupplier ready, Supplier<String> statsJson) throws IOException {
    http = HttpServer.create(bind, 0);
    http.createContext("/healthz", ex -> {
      boolean ok = ready.getAsBoolean();
      respond(ex, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "no routing table from xDS yet\n");
    });
    http.createContext("/stats", ex -> respond(ex, 200, "application/json", statsJson.get() + "\n"));
    http.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "weft-gateway-health");
      t.setDaemon(true);
      return t;
    }));
    http.start();
  }

  public int port() {
    return http.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", type);
      ex.sendResponseHeaders(code, b.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(b);
      }
    }
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
