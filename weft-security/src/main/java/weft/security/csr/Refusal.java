package weft.security.csr;

import io.grpc.Status;

/** Why a request gets no certificate: the status the caller sees and the metric reason. */
final class Refusal extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient Status status;
  private final String reason;
  private String identity = "";

  Refusal(Status.Code code, String reason, String message) {
    super(message);
    this.status = Status.fromCode(code).withDescription(message);
    this.reason = reason;
  }

  static Refusal invalidCsr(String message) {
    return new Refusal(Status.Code.INVALID_ARGUMENT, "invalid_csr", message);
  }

  static Refusal otherIdentity(String message) {
    return new Refusal(Status.Code.PERMISSION_DENIED, "other_identity", message);
  }

  /** Records who the (authenticated) caller was, for the log. */
  Refusal by(Object callerIdentity) {
    this.identity = String.valueOf(callerIdentity);
    return this;
  }

  /** The authenticated identity, or empty when authentication itself failed. */
  String identity() {
    return identity;
  }

  Status status() {
    return status;
  }

  /** A short tag for the refusal counter. */
  String reason() {
    return reason;
  }
}
