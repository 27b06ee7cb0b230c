package weft.agent.cert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The bearer token the CA authenticates the workload by. Read afresh for every request: a projected
 * Kubernetes ServiceAccount token is rotated by the kubelet in place.
 */
@FunctionalInterface
public interface TokenSource {
  /**
   * The token now.
   *
   * @throws IOException when it cannot be read; the request is retried later
   */
  String token() throws IOException;

  /** A token file (a projected ServiceAccount token, or a file-mode CA token), re-read each time. */
  static TokenSource file(Path file) {
    Objects.requireNonNull(file, "file");
    return () -> {
      String token;
      try {
        token = Files.readString(file).strip();
      } catch (NoSuchFileException e) {
        throw new IOException(file + ": the CA token file does not exist", e);
      }
      if (token.isEmpty()) {
        throw new IOException(file + ": the CA token file is empty");
      }
      return token;
    };
  }

  /** A fixed token (for tests and file-mode CAs). */
  static TokenSource literal(String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("the CA token is empty");
    }
    String t = token.strip();
    return () -> t;
  }
}
