package weft.controlplane;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The topology page at {@code /ui}: three fixed files read from the classpath ({@code weft/ui/}).
 * Only the names below are served, so a request path never reaches the class loader.
 */
final class UiHandler implements HttpHandler {
  private static final Map<String, String> FILES = Map.of(
      "", "index.html",
      "/", "index.html",
      "/index.html", "index.html",
      "/app.js", "app.js",
      "/style.css", "style.css");
  private static final Map<String, String> TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8");

  @Override
  public void handle(HttpExchange ex) throws IOException {
    String rest = ex.getRequestURI().getPath().substring("/ui".length());
    String file = FILES.get(rest);
    if (file == null || !"GET".equals(ex.getRequestMethod())) {
      send(ex, 404, "text/plain; charset=utf-8", ("not found: the page is at /ui\n").getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (rest.isEmpty()) {
      // Relative asset links resolve against /ui/, not /.
      ex.getResponseHeaders().set("Location", "/ui/");
      send(ex, 302, "text/plain; charset=utf-8", new byte[0]);
      return;
    }
    byte[] body;
    try (InputStream in = UiHandler.class.getClassLoader().getResourceAsStream("weft/ui/" + file)) {
      if (in == null) throw new IOException("weft/ui/" + file + " is missing from the classpath");
      body = in.readAllBytes();
    }
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    send(ex, 200, TYPES.get(file.substring(file.lastIndexOf('.') + 1)), body);
  }

  private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}
