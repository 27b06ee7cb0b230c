package weft.controlplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The monitoring port: {@code /ready}, {@code /healthz}, {@code /metrics} (Prometheus) and {@code /debug/status} (JSON). */
final class MonitoringServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final HttpServer server;

  MonitoringServer(int port, BooleanSupplier ready, PrometheusMeterRegistry metrics, Supplier<Object> status)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "weft-monitoring");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/ready", ex -> respond(ex, ready.getAsBoolean() ? 200 : 503, "text/plain",
        ready.getAsBoolean() ? "ready\n" : "not ready: initial sync in progress\n"));
    // Liveness: this answers as long as the process can serve HTTP, from before the initial sync
    // begins, so a long sync (many clusters, a slow API server) never gets the pod restarted.
    server.createContext("/healthz", ex -> respond(ex, 200, "text/plain", "ok\n"));
    server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4",
        weft.registry.metrics.IstioMetrics.exposition(metrics.scrape())));
    server.createContext("/debug/status", ex -> respond(ex, 200, "application/json",
        JSON.writeValueAsString(status.get())));
    server.start();
  }

  /** Serves another path on this port (debug endpoints that live elsewhere). */
  void serve(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(path, handler);
  }

  /** An answer of a JSON endpoint: its status code and the value written as its body. */
  record JsonAnswer(int code, Object body) {}

  /** Serves JSON computed from each request's query string (null when there is none). */
  void serveJson(String path, java.util.function.Function<String, JsonAnswer> handler) {
    server.createContext(path, ex -> {
      JsonAnswer a;
      try {
        a = handler.apply(ex.getRequestURI().getRawQuery());
      } catch (RuntimeException e) {
        a = new JsonAnswer(500, java.util.Map.of("error", "internal error: " + e));
      }
      respond(ex, a.code(), "application/json", JSON.writeValueAsString(a.body()));
    });
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
