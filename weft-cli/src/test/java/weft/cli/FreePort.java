package weft.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Ports for tests: one held by a real listener, or one that nothing listens on. */
final class FreePort {
  private FreePort() {}

  /**
   * A port nothing listens on right now, for a server a test starts later or for a refused
   * connection. Taken at random below the kernel's ephemeral range (32768 up, by default), so no
   * outgoing connection on the machine, from another build say, can take it in between, as it can
   * a port that {@code new ServerSocket(0)} handed out.
   */
  static int unbound() {
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(20000, 32000);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException inUse) {
        // taken: try another
      }
    }
    throw new UncheckedIOException(new IOException("no free port in 20000..32000"));
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
