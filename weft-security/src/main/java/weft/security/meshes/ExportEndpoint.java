package weft.security.meshes;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.function.Function;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Serves, at {@link ExportClient#PATH} of the federation endpoint, what this mesh exports to the
 * caller's mesh. The caller is whoever its client certificate says (checked in the handshake against
 * its trust domain's federated roots by {@link MeshTls#server}); a caller without one, or of a
 * trust domain no MeshFederation names, gets nothing but the reason.
 */
public final class ExportEndpoint implements HttpHandler {
  private final Function<String, Optional<ExportDocument>> exportsForTrustDomain;

  /** @param exportsForTrustDomain the peer's trust domain to what we export to it (empty: not a peer) */
  public ExportEndpoint(Function<String, Optional<ExportDocument>> exportsForTrustDomain) {
    this.exportsForTrustDomain = exportsForTrustDomain;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET")) {
        ex.getResponseHeaders().set("Allow", "GET");
        ex.sendResponseHeaders(405, -1);
        return;
      }
      String caller = caller(ex);
      if (caller == null) {
        send(ex, 401, "the export list is served only to a federated mesh's control plane presenting its "
            + "X.509-SVID (https_spiffe client certificate)");
        return;
      }
      String td = MeshTls.trustDomainOf(caller);
      Optional<ExportDocument> doc = exportsForTrustDomain.apply(td);
      if (doc.isEmpty()) {
        send(ex, 403, "trust domain " + td + " is not named by any MeshFederation of this mesh");
        return;
      }
      byte[] body = doc.get().toJson().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static String caller(HttpExchange ex) {
    if (!(ex instanceof HttpsExchange https)) return null;
    try {
      Certificate[] chain = https.getSSLSession().getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? MeshTls.spiffeId(leaf) : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private static void send(HttpExchange ex, int status, String message) throws IOException {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}
