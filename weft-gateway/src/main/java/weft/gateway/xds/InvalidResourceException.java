package weft.gateway.xds;

/** A resource the gateway cannot use; the message becomes the NACK's error_detail. */
final class InvalidResourceException extends Exception {
  InvalidResourceException(String message) {
    super(message);
  }
}
