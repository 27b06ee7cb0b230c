package weft.security.ca;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.FileSystems;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

/**
 * File names of a CA directory and how files are written into one. The plugged-in names are
 * Istio's ({@code cacerts} secret keys and {@code tools/certs} output), so a directory prepared for
 * istiod works here unchanged; the root's own pair is what Istio's {@code make root-ca} writes.
 */
public final class CaFiles {
  /** The signing (intermediate) certificate of a plugged-in CA. */
  public static final String CA_CERT = "ca-cert.pem";
  /** Its private key. */
  public static final String CA_KEY = "ca-key.pem";
  /** The signing certificate's chain up to (and usually including) the root. */
  public static final String CERT_CHAIN = "cert-chain.pem";
  /** The root certificate(s) the chain ends at: what the mesh trusts. */
  public static final String ROOT_CERT = "root-cert.pem";
  /** The root's private key, kept only where roots are made (a self-signed root, {@code init-root}). */
  public static final String ROOT_KEY = "root-key.pem";
  /**
   * Left by the control plane's self-signed mode beside the root it made, naming that root's
   * SHA-256 fingerprint: the one self-signed root it signs with without {@code --ca-self-signed-root}.
   * {@code weft ca init-root} leaves none, since its root is meant to stay offline.
   */
  public static final String SELF_SIGNED_MARKER = "weft-self-signed-root";
  private static final String MARKER_PREFIX = "sha256 ";

  private CaFiles() {}

  /** Fails naming the first of {@code names} that already exists in {@code dir}. */
  static void requireAbsent(Path dir, List<String> names, String advice) {
    for (String name : names) {
      Path file = dir.resolve(name);
      if (Files.exists(file)) {
        throw new CaException(file, "already exists; " + advice);
      }
    }
  }

  /** Writes (or replaces) the self-signed marker for {@code root} in {@code dir}. */
  static void writeMarker(Path dir, X509Certificate root) {
    Path marker = dir.resolve(SELF_SIGNED_MARKER);
    try {
      createPrivateDirectories(dir.toAbsolutePath());
      Path tmp = Files.createTempFile(dir, "." + SELF_SIGNED_MARKER, ".tmp");
      Files.writeString(tmp, "# The control plane made the self-signed root in this directory and signs with it.\n"
          + "# For a root shared by several clusters, use weft ca init-root and weft ca intermediate instead.\n"
          + MARKER_PREFIX + fingerprint(root) + "\n");
      Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new CaException(marker, "cannot write: " + e, e);
    }
  }

  /** Whether {@code dir}'s marker names {@code cert}: the self-signed mode made this root. */
  static boolean markerNames(Path dir, X509Certificate cert) {
    Path marker = dir.resolve(SELF_SIGNED_MARKER);
    try {
      if (!Files.isRegularFile(marker) || Files.size(marker) > 4096) return false;
      String expected = MARKER_PREFIX + fingerprint(cert);
      return Files.readAllLines(marker).stream().anyMatch(l -> l.strip().equals(expected));
    } catch (IOException e) {
      return false;
    }
  }

  private static String fingerprint(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** Creates what is missing of {@code dir} with mode 0700 where the file system has POSIX modes. */
  private static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) return;
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectories(dir);
    }
  }

  /**
   * Writes a file whole or not at all (through a temporary file and a rename) and never over an
   * existing one. Private keys get mode 0600 where the file system has POSIX modes, and a directory
   * made for them 0700.
   */
  static void writeNew(Path file, String content, boolean secret) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      createPrivateDirectories(dir);
      if (secret && Files.getFileStore(dir).supportsFileAttributeView("posix")) {
        tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } else {
        tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      }
      Files.writeString(tmp, content);
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file.toString());
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
    } catch (FileAlreadyExistsException e) {
      throw new CaException(file, "already exists; Weft never overwrites CA files", e);
    } catch (IOException e) {
      throw new CaException(file, "cannot write: " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the temporary file is hidden and harmless; the real error is already on its way
        }
      }
    }
  }
}
