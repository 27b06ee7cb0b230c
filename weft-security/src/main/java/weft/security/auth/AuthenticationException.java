package weft.security.auth;

/**
 * A caller could not be authenticated. The message says why, for the log and for the caller
 * (it never repeats the token). {@link #unavailable()} marks failures of ours (an API server that
 * cannot be reached) rather than of the caller's credentials: the caller may retry.
 */
public final class AuthenticationException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean unavailable;

  public AuthenticationException(String message) {
    super(message);
    this.unavailable = false;
  }

  public AuthenticationException(String message, boolean unavailable, Throwable cause) {
    super(message, cause);
    this.unavailable = unavailable;
  }

  public boolean unavailable() {
    return unavailable;
  }
}
