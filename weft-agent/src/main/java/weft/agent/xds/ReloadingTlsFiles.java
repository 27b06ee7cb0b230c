package weft.agent.xds;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import weft.agent.cert.IssuedCertificate;
import weft.security.ca.CaException;
import weft.security.ca.Pem;

/**
 * TLS material for the xDS client's channel, read from PEM files and re-read while the process runs:
 * the control plane's roots, and (for mutual TLS) the workload's certificate and key. A certificate and
 * key are taken only as a pair that belongs together; a pair read across a rotation is left for the
 * next look.
 *
 * <p>A change is told by the files' bytes, not their modification times: a file rewritten within one
 * tick of the file system's clock (4 ms on some, whole seconds on others) keeps its time, and a
 * rotation written that way would go unseen until the next one.
 */
final class ReloadingTlsFiles {
  private static final System.Logger LOG = System.getLogger(ReloadingTlsFiles.class.getName());
  private static final String CA_FILE = "ca_certificate_file";
  private static final String CERT_FILE = "certificate_file";
  private static final String KEY_FILE = "private_key_file";
  private static final String REFRESH = "refresh_interval";
  // gRFC A65 and grpc-java's file watcher: ten minutes unless the config says otherwise.
  private static final Duration DEFAULT_REFRESH = Duration.ofMinutes(10);
  // protobuf's JSON Duration: seconds with up to nine fractional digits, then "s".
  private static final Pattern DURATION = Pattern.compile("(\\d+)(\\.\\d{1,9})?s");
  private static final ScheduledExecutorService RELOADER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "weft-xds-tls-files");
    t.setDaemon(true);
    return t;
  });

  private final Path caFile;
  private final Path certFile;
  private final Path keyFile;
  private final Duration refresh;
  private final AdvancedTlsX509TrustManager trust;
  private final AdvancedTlsX509KeyManager identity;
  // What was last taken, byte for byte; guarded by this.
  private byte[] caBytes;
  private byte[] certBytes;
  private byte[] keyBytes;

  private ReloadingTlsFiles(Path caFile, Path certFile, Path keyFile, Duration refresh) {
    this.caFile = caFile;
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.refresh = refresh;
    try {
      this.trust = caFile == null ? null : AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no X.509 trust manager", e);
    }
    this.identity = certFile == null ? null : new AdvancedTlsX509KeyManager();
  }

  /** @throws IllegalArgumentException naming the config field that is wrong */
  static ReloadingTlsFiles fromConfig(Map<String, ?> config) {
    Path ca = path(config, CA_FILE);
    Path cert = path(config, CERT_FILE);
    Path key = path(config, KEY_FILE);
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("'" + CERT_FILE + "' and '" + KEY_FILE + "' go together: give both or neither");
    }
    Duration refresh = DEFAULT_REFRESH;
    Object r = config.get(REFRESH);
    if (r != null) {
      refresh = parseDuration(r);
    }
    return new ReloadingTlsFiles(ca, cert, key, refresh);
  }

  /**
   * Reads the files now and keeps re-reading them.
   *
   * @throws IllegalStateException when they cannot be read now
   */
  ChannelCredentials channelCredentials() {
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    synchronized (this) {
      if (trust != null) {
        String problem = reloadRoots();
        if (problem != null) {
          throw new IllegalStateException(problem);
        }
        b.trustManager(trust);
      }
      if (identity != null) {
        String problem = reloadIdentity();
        if (problem != null) {
          throw new IllegalStateException(problem);
        }
        b.keyManager(identity);
      }
    }
    if (trust != null || identity != null) {
      long every = Math.max(1, refresh.toMillis());
      RELOADER.scheduleWithFixedDelay(this::reloadQuietly, every, every, TimeUnit.MILLISECONDS);
    }
    return b.build();
  }

  private synchronized void reloadQuietly() {
    String problem = trust == null ? null : reloadRoots();
    if (problem != null) {
      LOG.log(System.Logger.Level.WARNING, problem + "; the xDS channel keeps the roots it has");
    }
    problem = identity == null ? null : reloadIdentity();
    if (problem != null) {
      LOG.log(System.Logger.Level.WARNING, problem + "; the xDS channel keeps the certificate it has");
    }
  }

  /** Looks at the files now, as the refresh timer does. */
  void reloadNow() {
    reloadQuietly();
  }

  /** The workload certificate the channel presents now, or null. */
  synchronized X509Certificate currentCertificate() {
    if (identity == null) {
      return null;
    }
    String alias = identity.chooseClientAlias(new String[] {"EC", "RSA"}, null, null);
    X509Certificate[] chain = alias == null ? null : identity.getCertificateChain(alias);
    return chain == null || chain.length == 0 ? null : chain[0];
  }

  /** @return why the roots could not be read, or null */
  private String reloadRoots() {
    try {
      byte[] bytes = Files.readAllBytes(caFile);
      if (Arrays.equals(bytes, caBytes)) {
        return null;
      }
      List<X509Certificate> roots = Pem.parseCertificates(new String(bytes, StandardCharsets.US_ASCII), caFile);
      trust.updateTrustCredentials(roots.toArray(X509Certificate[]::new));
      caBytes = bytes;
      return null;
    } catch (IOException | GeneralSecurityException | CaException e) {
      return caFile + ": cannot read the xDS server's roots: " + e.getMessage();
    }
  }

  /** @return why the certificate could not be read, or null; a torn pair is not a problem, only a retry */
  private String reloadIdentity() {
    try {
      byte[] chainPem = Files.readAllBytes(certFile);
      byte[] keyPem = Files.readAllBytes(keyFile);
      if (Arrays.equals(chainPem, certBytes) && Arrays.equals(keyPem, keyBytes)) {
        return null;
      }
      List<X509Certificate> chain = Pem.parseCertificates(new String(chainPem, StandardCharsets.US_ASCII), certFile);
      PrivateKey key = Pem.parsePrivateKey(new String(keyPem, StandardCharsets.US_ASCII), keyFile);
      if (!IssuedCertificate.keyMatches(key, chain.get(0))) {
        // Read across a rotation: the next look finds the new pair complete.
        return certBytes == null ? keyFile + " does not hold the key of " + certFile : null;
      }
      identity.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), key);
      certBytes = chainPem;
      keyBytes = keyPem;
      return null;
    } catch (IOException | CaException e) {
      return certFile + ", " + keyFile + ": cannot read the workload certificate: " + e.getMessage();
    }
  }

  private static Path path(Map<String, ?> config, String field) {
    Object v = config.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("'" + field + "' must be a file path, got " + v);
    }
    return Path.of(s);
  }

  static Duration parseDuration(Object v) {
    Matcher m = v instanceof String s ? DURATION.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException("'" + REFRESH + "' must be a duration such as \"600s\", got " + v);
    }
    BigDecimal seconds = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : m.group(2)));
    Duration d = Duration.ofNanos(seconds.movePointRight(9).longValueExact());
    if (d.isZero()) {
      throw new IllegalArgumentException("'" + REFRESH + "' must be more than 0s");
    }
    return d;
  }
}
