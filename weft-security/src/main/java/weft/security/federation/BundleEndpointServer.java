package weft.security.federation;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The SPIFFE bundle endpoint ({@code --bundle-port}): GET on any path answers this trust domain's
 * bundle document, over TLS as the chosen profile's {@link SSLContext} presents it. No client
 * certificate is asked for: the bundle is public, its integrity is what TLS protects.
 */
public final class BundleEndpointServer implements AutoCloseable {
  private final HttpsServer server;
  private final ExecutorService executor;

  public BundleEndpointServer(InetSocketAddress address, SSLContext tls, Supplier<SpiffeBundle> bundle)
      throws IOException {
    this(address, tls, bundle, false);
  }

  /**
   * @param wantClientCertificates ask for (never require) a client certificate, for paths added with
   *     {@link #handle} that serve only authenticated peers; the bundle itself stays public
   */
  public BundleEndpointServer(InetSocketAddress address, SSLContext tls, Supplier<SpiffeBundle> bundle,
      boolean wantClientCertificates) throws IOException {
    server = HttpsServer.create(address, 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls) {
      @Override
      public void configure(com.sun.net.httpserver.HttpsParameters params) {
        javax.net.ssl.SSLParameters p = tls.getDefaultSSLParameters();
        p.setWantClientAuth(wantClientCertificates);
        params.setSSLParameters(p);
      }
    });
    executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "weft-bundle-endpoint");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", ex -> {
      try (ex) {
        if (!ex.getRequestMethod().equals("GET")) {
          ex.getResponseHeaders().set("Allow", "GET");
          ex.sendResponseHeaders(405, -1);
          return;
        }
        byte[] body = bundle.get().toJson().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    });
    server.start();
  }

  /** Serves {@code path} (and below) with {@code handler} beside the bundle. */
  public void handle(String path, com.sun.net.httpserver.HttpHandler handler) {
    server.createContext(path, handler);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
