package weft.cli;

/**
 * An expected failure of a command: its message is the whole story for the user (what failed,
 * where, what to do) and is printed as one line, without a stack trace unless {@code --debug}.
 */
final class CommandFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CommandFailure(String message) {
    super(message);
  }

  CommandFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
