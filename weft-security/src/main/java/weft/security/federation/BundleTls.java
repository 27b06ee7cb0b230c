package weft.security.federation;

import io.grpc.util.AdvancedTlsX509KeyManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import weft.security.SpiffeId;
import weft.security.ca.CaException;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/** The server side TLS of the bundle endpoint, one per profile. */
public final class BundleTls {
  /** File names in {@code --bundle-tls-dir}: a Kubernetes TLS Secret's keys, so one can be mounted as is. */
  public static final String CERT_FILE = "tls.crt";
  public static final String KEY_FILE = "tls.key";

  private BundleTls() {}

  /**
   * {@code https_web}: the certificate chain and key an operator gives (a Web PKI certificate for
   * the endpoint's host name).
   *
   * @throws IllegalArgumentException naming the file and what is wrong
   */
  public static SSLContext httpsWeb(Path dir) {
    Path certFile = dir.resolve(CERT_FILE);
    Path keyFile = dir.resolve(KEY_FILE);
    for (Path p : List.of(certFile, keyFile)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException(p + " is missing: --bundle-tls-dir holds the https_web endpoint's "
            + CERT_FILE + " (certificate chain, PEM) and " + KEY_FILE + " (its key)");
      }
    }
    try {
      List<X509Certificate> chain = Pem.readCertificates(certFile);
      PrivateKey key = Pem.readPrivateKey(keyFile);
      AdvancedTlsX509KeyManager km = new AdvancedTlsX509KeyManager();
      km.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), key);
      return context(km);
    } catch (CaException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * {@code https_spiffe}: an X.509-SVID of {@code id} from our own CA, with a new key, renewed on
   * {@code scheduler} when two thirds of its life are gone.
   */
  public static SSLContext httpsSpiffe(CertificateAuthority ca, SpiffeId id, ScheduledExecutorService scheduler) {
    return context(spiffeKeyManager(ca, id, scheduler));
  }

  /**
   * The key manager behind {@link #httpsSpiffe}: an X.509-SVID of {@code id}, renewed on {@code
   * scheduler}; for contexts that also check the other side (federated meshes' control planes).
   */
  public static AdvancedTlsX509KeyManager spiffeKeyManager(CertificateAuthority ca, SpiffeId id,
      ScheduledExecutorService scheduler) {
    AdvancedTlsX509KeyManager km = new AdvancedTlsX509KeyManager();
    renew(ca, id, km, scheduler);
    return km;
  }

  private static void renew(CertificateAuthority ca, SpiffeId id, AdvancedTlsX509KeyManager km,
      ScheduledExecutorService scheduler) {
    KeyPair keys = newKeyPair();
    List<X509Certificate> chain = ca.issueWorkload(keys.getPublic(), id, ca.defaultTtl());
    km.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), keys.getPrivate());
    long life = chain.get(0).getNotAfter().getTime() - chain.get(0).getNotBefore().getTime();
    long delay = Math.max(1_000, chain.get(0).getNotBefore().getTime() + life * 2 / 3 - ca.clock().millis());
    if (scheduler != null && !scheduler.isShutdown()) {
      scheduler.schedule(() -> renew(ca, id, km, scheduler), delay, TimeUnit.MILLISECONDS);
    }
  }

  private static SSLContext context(KeyManager km) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {km}, null, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

}
