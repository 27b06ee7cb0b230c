package weft.security.meshes;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;

/**
 * Fetches what a peer exports to us from its federation endpoint: one GET over mutual TLS, the body
 * read up to {@link ExportDocument#MAX_BYTES} and the whole fetch bounded by a timeout, so a peer
 * trickling bytes cannot hold the import thread.
 */
public final class ExportClient {
  /** The path of the export list on the federation endpoint (the bundle port). */
  public static final String PATH = "/weft/v1alpha1/exports";
  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "weft-mesh-export-fetch");
    t.setDaemon(true);
    return t;
  });
  private final Duration timeout;

  public ExportClient(Duration timeout) {
    this.timeout = timeout;
  }

  /** The export list's URL under a federation address. */
  public static URI exportsUrl(URI federationAddress) {
    return federationAddress.resolve(PATH);
  }

  /**
   * @throws IOException with the reason (connection, TLS, status, size, time)
   */
  public byte[] fetch(URI federationAddress, SSLContext tls) throws IOException {
    URI url = exportsUrl(federationAddress);
    HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    HttpRequest request = HttpRequest.newBuilder(url).timeout(timeout).GET().build();
    AtomicReference<InputStream> stream = new AtomicReference<>();
    CompletableFuture<byte[]> body = CompletableFuture.supplyAsync(() -> {
      try {
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        stream.set(response.body());
        try (InputStream in = response.body()) {
          if (response.statusCode() != 200) {
            byte[] reason = in.readNBytes(300);
            throw new CompletionException(new IOException(url + " answered HTTP " + response.statusCode() + ": "
                + ExportDocument.clip(new String(reason, java.nio.charset.StandardCharsets.UTF_8).strip())));
          }
          byte[] bytes = in.readNBytes(ExportDocument.MAX_BYTES + 1);
          if (bytes.length > ExportDocument.MAX_BYTES) {
            throw new CompletionException(new IOException(url + ": the export list is larger than "
                + ExportDocument.MAX_BYTES + " bytes"));
          }
          return bytes;
        }
      } catch (IOException e) {
        throw new CompletionException(new IOException(url + ": " + describe(e), e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CompletionException(new IOException("interrupted", e));
      }
    }, READERS);
    try {
      return body.get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      InputStream in = stream.get();
      if (in != null) in.close();
      body.cancel(true);
      throw new IOException(url + ": no complete export list within " + timeout.toMillis() * 2 + " ms");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) throw io;
      throw new IOException(url + ": " + describe(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static String describe(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateException && t.getMessage() != null) {
        return e.getClass().getSimpleName() + ": " + t.getMessage();
      }
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String m = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    return root == e ? m : e.getClass().getSimpleName() + ": " + m;
  }
}
