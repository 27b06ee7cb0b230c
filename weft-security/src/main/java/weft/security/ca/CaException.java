package weft.security.ca;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A CA file or operation that cannot be used as it is. The message names the file and says what
 * to do; the CA directory is left exactly as it was.
 */
public final class CaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient Path file;

  public CaException(Path file, String message) {
    super(file == null ? message : file + ": " + message);
    this.file = file;
  }

  public CaException(Path file, String message, Throwable cause) {
    super(file == null ? message : file + ": " + message, cause);
    this.file = file;
  }

  /** The file at fault, when one is. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }
}
