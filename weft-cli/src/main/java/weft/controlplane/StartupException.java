package weft.controlplane;

import java.io.IOException;

/**
 * The control plane cannot start as configured; the message says what, where (the file, the port
 * and the flag that sets it) and what to do, in one line.
 */
public final class StartupException extends IOException {
  private static final long serialVersionUID = 1L;

  public StartupException(String message) {
    super(message);
  }

  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }

  /** A port that cannot be listened on, named with the flag that changes it. */
  static StartupException cannotListen(String flag, int port, IOException e) {
    if (addressInUse(e)) {
      return new StartupException("port " + port + " (" + flag + ") is already in use; stop the process that "
          + "holds it or choose another port with " + flag, e);
    }
    return new StartupException("cannot listen on port " + port + " (" + flag + "): " + reason(e)
        + "; choose another port with " + flag, e);
  }

  private static boolean addressInUse(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      // A BindException also says "Permission denied" or "Cannot assign requested address"; Netty's
      // native transport reports EADDRINUSE as an IOException of its own. The text tells them apart.
      if (String.valueOf(t.getMessage()).contains("already in use")) {
        return true;
      }
    }
    return false;
  }

  private static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
