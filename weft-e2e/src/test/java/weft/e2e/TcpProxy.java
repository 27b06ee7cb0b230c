package weft.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of an API server, so a test can cut the connection (close every
 * socket and refuse new ones) and restore it on the same port.
 */
final class TcpProxy implements AutoCloseable {
  private final int targetPort;
  private final int port;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.port = Mesh.freePort();
    open();
  }

  int port() {
    return port;
  }

  synchronized void open() throws IOException {
    if (server != null) return;
    ServerSocket s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    server = s;
    Thread accept = new Thread(() -> {
      while (!s.isClosed()) {
        try {
          Socket client = s.accept();
          Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
          sockets.add(client);
          sockets.add(upstream);
          pipe(client, upstream);
          pipe(upstream, client);
        } catch (IOException e) {
          return;
        }
      }
    }, "tcp-proxy-" + port);
    accept.setDaemon(true);
    accept.start();
  }

  /** Closes the listener and every open connection: the API server becomes unreachable. */
  synchronized void cut() throws IOException {
    if (server != null) server.close();
    server = null;
    for (Socket s : sockets) s.close();
    sockets.clear();
  }

  private void pipe(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        in.transferTo(out);
      } catch (IOException ignored) {
        // the other side closed, or the test cut the link
      } finally {
        try {
          from.close();
          to.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    });
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    cut();
  }
}
