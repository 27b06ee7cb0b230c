package weft.security.federation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * The {@code spiffe_sequence} of our bundle: it goes up by one whenever the set of roots changes
 * (a rotation, a root added for the overlap), so a peer can tell a new bundle from a replayed one.
 * With a state directory the number and the roots' fingerprint are kept in a file, so a restart
 * neither goes back nor bumps without a change. Thread-safe.
 */
public final class BundleSequence {
  private static final System.Logger LOG = System.getLogger(BundleSequence.class.getName());
  static final String FILE = "spiffe-bundle-sequence";
  private final Path file;
  private long sequence;
  private String fingerprint;

  /** @param stateDir where the sequence is kept; null keeps it in memory only (starts at 1) */
  public BundleSequence(Path stateDir) {
    this.file = stateDir == null ? null : stateDir.resolve(FILE);
    if (file != null && Files.isRegularFile(file)) {
      try {
        String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ");
        if (parts.length == 2 && parts[1].matches("[0-9a-f]{64}")) {
          sequence = Long.parseLong(parts[0]);
          fingerprint = parts[1];
        } else {
          LOG.log(System.Logger.Level.WARNING, file + ": not 'SEQUENCE FINGERPRINT'; the bundle sequence restarts");
        }
      } catch (IOException | NumberFormatException e) {
        LOG.log(System.Logger.Level.WARNING, file + ": " + e.getMessage() + "; the bundle sequence restarts");
      }
    }
  }

  /** The sequence for a bundle of {@code roots}: the last one when they are unchanged, else the next. */
  public synchronized long sequenceFor(List<X509Certificate> roots) {
    String fp = fingerprint(roots);
    if (!fp.equals(fingerprint)) {
      sequence++;
      fingerprint = fp;
      persist();
    }
    return sequence;
  }

  private void persist() {
    if (file == null) return;
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(FILE + ".tmp");
      Files.writeString(tmp, sequence + " " + fingerprint + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // The served bundle stays right; only a restart may repeat a number.
      LOG.log(System.Logger.Level.WARNING, file + ": cannot keep the bundle sequence: " + e.getMessage());
    }
  }

  /** SHA-256 over the sorted fingerprints of the roots: independent of order. */
  static String fingerprint(List<X509Certificate> roots) {
    try {
      TreeSet<String> each = new TreeSet<>();
      for (X509Certificate c : roots) {
        each.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded())));
      }
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(String.join(",", each).getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
