package weft.registry.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP proxy in front of a test API server, to cut the connection the way a network
 * outage does: {@link #cut} drops every open connection and refuses new ones (accepts and closes,
 * as a dead peer behind a load balancer does) until {@link #restore}. {@link #stall} makes it a
 * hung server instead: connections are accepted and then nothing ever answers.
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean stalled;

  public TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "test-proxy-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  public void cut() {
    cut = true;
    for (Socket s : open) quietlyClose(s);
    open.clear();
  }

  public void restore() {
    cut = false;
    stalled = false;
  }

  void stall() {
    stalled = true;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return;
      }
      if (cut) {
        quietlyClose(client);
        continue;
      }
      if (stalled) {
        open.add(client); // held open, never answered
        continue;
      }
      try {
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        open.add(client);
        open.add(upstream);
        pipe(client, upstream);
        pipe(upstream, client);
        if (cut) { // cut while connecting
          quietlyClose(client);
          quietlyClose(upstream);
        }
      } catch (IOException e) {
        quietlyClose(client);
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side went away: the other goes too
      } finally {
        quietlyClose(from);
        quietlyClose(to);
        open.remove(from);
        open.remove(to);
      }
    }, "test-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void quietlyClose(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing is best effort
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    cut();
  }
}
