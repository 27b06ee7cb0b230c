package weft.security.federation;

/** A bundle that cannot be fetched or read; the message says what went wrong, for status and logs. */
public final class BundleException extends Exception {
  public BundleException(String message) {
    super(message);
  }

  public BundleException(String message, Throwable cause) {
    super(message, cause);
  }
}
