package weft.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Ports for tests: one held by a real listener, or one that nothing listens on. */
final class FreePort {
  private FreePort() {}

  /** A port nothing listens on right now (the system just handed it out and it was closed again). */
  static int unbound() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A listener on a free port of every address: the port is in use until it is closed. */
  static ServerSocket occupied() {
    try {
      return new ServerSocket(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
