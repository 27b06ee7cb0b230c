package weft.security.ca;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
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

  /**
   * Writes a file whole or not at all (through a temporary file and a rename) and never over an
   * existing one. Private keys get mode 0600 where the file system has POSIX modes.
   */
  static void writeNew(Path file, String content, boolean secret) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
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
