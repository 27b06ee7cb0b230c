package weft.security.federation;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/** CAs, TLS contexts and endpoints for federation tests, all on loopback. */
final class FederationFixtures {
  private FederationFixtures() {}

  static CertificateAuthority ca(Path dir, String trustDomain) {
    return CaStore.loadOrCreate(dir, trustDomain, Clock.systemUTC());
  }

  /** A Web PKI stand-in: {@code webCa} issues the endpoint a certificate for {@code host}, kept in a tls dir. */
  static Path webTlsDir(Path dir, CertificateAuthority webCa, String host) throws Exception {
    KeyPair keys = BundleTls.newKeyPair();
    List<X509Certificate> chain = webCa.issueServing(keys.getPublic(), List.of(host), null, Duration.ofHours(1));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(BundleTls.CERT_FILE), Pem.encode(chain));
    Files.writeString(dir.resolve(BundleTls.KEY_FILE), Pem.encodePrivateKey(keys.getPrivate()));
    return dir;
  }

  /** A client TLS context that trusts {@code roots} as its Web PKI (and checks host names). */
  static SSLContext trusting(List<X509Certificate> roots) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    for (int i = 0; i < roots.size(); i++) ks.setCertificateEntry("root" + i, roots.get(i));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  static BundleEndpointServer serve(SSLContext tls, java.util.function.Supplier<SpiffeBundle> bundle)
      throws Exception {
    return new BundleEndpointServer(new InetSocketAddress("127.0.0.1", 0), tls, bundle);
  }

  static URI url(BundleEndpointServer server) {
    return URI.create("https://localhost:" + server.port() + "/");
  }

  static SpiffeId endpointId(String trustDomain) {
    return new SpiffeId(trustDomain, "istio-system", "istiod");
  }
}
