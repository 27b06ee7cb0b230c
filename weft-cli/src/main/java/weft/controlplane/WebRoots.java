package weft.controlplane;

import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import weft.security.ca.CaException;
import weft.security.ca.Pem;

/** {@code --bundle-web-roots}: a PEM file of the roots that vouch for https_web bundle endpoints (a private PKI). */
final class WebRoots {
  private WebRoots() {}

  static SSLContext context(Path file) {
    List<X509Certificate> roots;
    try {
      roots = Pem.readCertificates(file);
    } catch (CaException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < roots.size(); i++) ks.setCertificateEntry("root" + i, roots.get(i));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException(file + ": cannot use these roots: " + e.getMessage(), e);
    }
  }
}
