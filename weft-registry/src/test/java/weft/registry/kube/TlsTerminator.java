package weft.registry.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.security.cert.Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A TLS front for a plaintext test API server that requires a client certificate signed by the
 * test CA, and records the certificates clients presented: what a real API server does with
 * {@code --client-ca-file}.
 */
final class TlsTerminator implements AutoCloseable {
  private final SSLServerSocket server;
  private final int targetPort;
  final List<Certificate> clientCertificates = new CopyOnWriteArrayList<>();

  TlsTerminator(int targetPort) throws Exception {
    this.targetPort = targetPort;
    server = (SSLServerSocket) TestPki.serverContext(TestPki.SERVER).getServerSocketFactory()
        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    server.setNeedClientAuth(true);
    Thread t = new Thread(this::acceptLoop, "test-tls-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  String url() {
    return "https://localhost:" + server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        SSLSocket client = (SSLSocket) server.accept();
        Thread t = new Thread(() -> serve(client), "test-tls-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(SSLSocket client) {
    try {
      client.startHandshake();
      clientCertificates.add(client.getSession().getPeerCertificates()[0]);
      Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
      pipe(client, upstream);
      pipe(upstream, client);
    } catch (IOException e) {
      quietlyClose(client); // no or a wrong client certificate: the handshake fails, as on a real server
    }
  }

  private static void pipe(Socket from, Socket to) {
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
      }
    }, "test-tls-pipe");
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
  }
}
