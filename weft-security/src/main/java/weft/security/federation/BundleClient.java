package weft.security.federation;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Fetches one peer's bundle over HTTPS, verified as its profile says: {@code https_web} with the Web
 * PKI roots ({@code webRoots}, the JDK's by default) and the URL's host name; {@code https_spiffe}
 * with the peer's last bundle as the only roots and its endpoint SPIFFE id as the only name (no host
 * name check: the SPIFFE id is the name). The body is read up to {@link SpiffeBundle#MAX_BYTES}.
 */
public final class BundleClient {
  // A bundle endpoint that has not sent its whole document within this is down (or stalling us on
  // purpose); the last bundle stays in force.
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final java.util.concurrent.ExecutorService READERS =
      java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "weft-bundle-fetch");
        t.setDaemon(true);
        return t;
      });
  private final SSLContext webRoots;
  private final Duration timeout;

  /** @param webRoots TLS context for {@code https_web}; null = the JDK's default trust */
  public BundleClient(SSLContext webRoots) {
    this(webRoots, TIMEOUT);
  }

  /** @param timeout for the whole fetch: connection, headers and body */
  public BundleClient(SSLContext webRoots, Duration timeout) {
    try {
      this.webRoots = webRoots != null ? webRoots : SSLContext.getDefault();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    this.timeout = timeout;
  }

  /**
   * @param trusted for {@code https_spiffe}: the peer's bundle to check the endpoint against
   * @throws BundleException with the reason (connection, TLS, status, document, time)
   */
  public SpiffeBundle fetch(FederatedPeer peer, SpiffeBundle trusted, Duration defaultRefresh)
      throws BundleException {
    SSLContext tls = peer.profile() == BundleEndpointProfile.HTTPS_WEB ? webRoots
        : spiffeContext(trusted.x509Authorities(), peer.endpointSpiffeId());
    HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    HttpRequest request = HttpRequest.newBuilder(peer.bundleEndpointUrl()).timeout(timeout).GET().build();
    java.util.concurrent.atomic.AtomicReference<InputStream> stream = new java.util.concurrent.atomic.AtomicReference<>();
    // The body is read on its own thread so that a peer trickling bytes cannot hold the caller past
    // the timeout: on time-out the stream is closed under the reader.
    java.util.concurrent.CompletableFuture<byte[]> body = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        stream.set(response.body());
        try (InputStream in = response.body()) {
          if (response.statusCode() != 200) {
            throw new java.util.concurrent.CompletionException(
                new BundleException(peer.bundleEndpointUrl() + " answered HTTP " + response.statusCode()));
          }
          return in.readNBytes(SpiffeBundle.MAX_BYTES + 1);
        }
      } catch (IOException e) {
        throw new java.util.concurrent.CompletionException(
            new BundleException(peer.bundleEndpointUrl() + ": " + describe(e), e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.util.concurrent.CompletionException(new BundleException("interrupted", e));
      }
    }, READERS);
    byte[] bytes;
    try {
      bytes = body.get(timeout.toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      InputStream in = stream.get();
      if (in != null) {
        try {
          in.close();
        } catch (IOException ignored) {
          // closing only unblocks the reader
        }
      }
      body.cancel(true);
      throw new BundleException(peer.bundleEndpointUrl() + ": no complete bundle within " + timeout.toMillis() * 2
          + " ms");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof BundleException b) throw b;
      throw new BundleException(peer.bundleEndpointUrl() + ": " + describe(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BundleException("interrupted", e);
    }
    return SpiffeBundle.parse(peer.trustDomain(), bytes, defaultRefresh);
  }

  private static String describe(Throwable e) {
    // Our own verdict on the endpoint's certificate says the most; below it are the JDK's details.
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

  /** Trusts exactly a chain to {@code roots} whose leaf carries the URI SAN {@code spiffeId}. */
  static SSLContext spiffeContext(List<X509Certificate> roots, String spiffeId) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new SpiffeTrustManager(roots, spiffeId)}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Extended, so that the JDK does not wrap it with its host name check: for https_spiffe the name
   * to verify is the SPIFFE id, checked here.
   */
  static final class SpiffeTrustManager extends X509ExtendedTrustManager {
    private final Set<TrustAnchor> anchors = new HashSet<>();
    private final String spiffeId;

    SpiffeTrustManager(List<X509Certificate> roots, String spiffeId) {
      roots.forEach(r -> anchors.add(new TrustAnchor(r, null)));
      this.spiffeId = spiffeId;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) throw new CertificateException("the endpoint sent no certificate");
      try {
        PKIXParameters params = new PKIXParameters(anchors);
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
            CertificateFactory.getInstance("X.509").generateCertPath(Arrays.asList(chain)), params);
      } catch (GeneralSecurityException e) {
        throw new CertificateException("the endpoint's certificate " + chain[0].getSubjectX500Principal()
            + " does not chain to the peer's bundle: " + e.getMessage(), e);
      }
      Collection<List<?>> sans = chain[0].getSubjectAlternativeNames();
      List<String> uris = sans == null ? List.of() : sans.stream().filter(s -> Integer.valueOf(6).equals(s.get(0)))
          .map(s -> String.valueOf(s.get(1))).toList();
      // An SVID has exactly one URI SAN (X.509-SVID spec); anything else is not this endpoint.
      if (uris.size() != 1 || !uris.get(0).equals(spiffeId)) {
        throw new CertificateException("the endpoint's certificate names " + uris + ", expected " + spiffeId);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

}
