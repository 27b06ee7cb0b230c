package weft.agent.testing;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import weft.agent.cert.IssuedCertificate;

/**
 * Loads key.pem and cert-chain.pem over and over with the JDK's own KeyFactory and CertificateFactory,
 * the way grpc-java's file_watcher does (FileWatcherCertificateProvider.checkAndReloadCertificates in
 * 1.85.1): note both modification times, read both files, note the times again, and take the pair only
 * if both changed since the last pair taken and neither changed during the read. Counts the pairs taken
 * and any taken pair whose key is not the certificate's.
 */
public final class PairReader implements Runnable {
  /** The points between the reader's steps where a swap can land. */
  public enum Step {
    AFTER_FIRST_CERT_TIME, AFTER_FIRST_KEY_TIME, AFTER_CERT_READ, AFTER_KEY_READ, AFTER_SECOND_CERT_TIME,
    AFTER_SECOND_KEY_TIME
  }

  /** Called at each step, so a test can put a swap exactly there. */
  @FunctionalInterface
  public interface StepHook {
    void reached(Step step) throws Exception;
  }

  /**
   * One look at the files.
   *
   * @param taken the certificate taken, or null when the files looked unchanged or changed during the read
   */
  public record Attempt(X509Certificate taken, PrivateKey takenKey, FileTime certTime, FileTime keyTime,
      boolean discarded) {}

  private final Path cert;
  private final Path key;
  private final AtomicBoolean stop = new AtomicBoolean();
  public final AtomicInteger accepted = new AtomicInteger();
  public final AtomicInteger discarded = new AtomicInteger();
  public final AtomicInteger mismatched = new AtomicInteger();
  /** Looks started, whatever they found: lets a test pace a writer by the reader's progress. */
  public final AtomicInteger rounds = new AtomicInteger();
  public final AtomicReference<Throwable> failure = new AtomicReference<>();
  public volatile X509Certificate last;
  private FileTime lastCert;
  private FileTime lastKey;

  public PairReader(Path dir) {
    this.cert = dir.resolve("cert-chain.pem");
    this.key = dir.resolve("key.pem");
  }

  public void stop() {
    stop.set(true);
  }

  @Override
  public void run() {
    while (!stop.get()) {
      rounds.incrementAndGet();
      try {
        Attempt a = attempt(cert, key, lastCert, lastKey, step -> { });
        if (a.discarded()) {
          discarded.incrementAndGet();
        } else if (a.taken() != null) {
          if (!IssuedCertificate.keyMatches(a.takenKey(), a.taken())) {
            mismatched.incrementAndGet();
          }
          accepted.incrementAndGet();
          last = a.taken();
          lastCert = a.certTime();
          lastKey = a.keyTime();
        }
      } catch (NoSuchFileException e) {
        // before the first install
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
        return;
      }
    }
  }

  /** grpc-java's reload check, step by step, given the times of the pair it holds (null: none). */
  public static Attempt attempt(Path cert, Path key, FileTime lastCert, FileTime lastKey, StepHook hook)
      throws Exception {
    FileTime c1 = Files.getLastModifiedTime(cert);
    hook.reached(Step.AFTER_FIRST_CERT_TIME);
    FileTime k1 = Files.getLastModifiedTime(key);
    hook.reached(Step.AFTER_FIRST_KEY_TIME);
    if (c1.equals(lastCert) || k1.equals(lastKey)) {
      return new Attempt(null, null, c1, k1, false); // grpc-java reloads only when both files look new
    }
    byte[] certBytes = Files.readAllBytes(cert);
    hook.reached(Step.AFTER_CERT_READ);
    byte[] keyBytes = Files.readAllBytes(key);
    hook.reached(Step.AFTER_KEY_READ);
    FileTime c2 = Files.getLastModifiedTime(cert);
    hook.reached(Step.AFTER_SECOND_CERT_TIME);
    FileTime k2 = Files.getLastModifiedTime(key);
    hook.reached(Step.AFTER_SECOND_KEY_TIME);
    if (!c1.equals(c2) || !k1.equals(k2)) {
      return new Attempt(null, null, c1, k1, true);
    }
    X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(certBytes)).iterator().next();
    PrivateKey pk = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8(keyBytes)));
    return new Attempt(leaf, pk, c1, k1, false);
  }

  static byte[] pkcs8(byte[] pem) {
    String s = new String(pem, java.nio.charset.StandardCharsets.US_ASCII);
    int begin = s.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = s.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < 0) {
      throw new IllegalStateException("key.pem is not PKCS#8 PEM: " + s);
    }
    return Base64.getMimeDecoder().decode(s.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
  }
}
