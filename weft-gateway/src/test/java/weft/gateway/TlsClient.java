package weft.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** A TLS client that trusts only the backends' own certificates, so a handshake proves passthrough. */
final class TlsClient implements AutoCloseable {
  final SSLSocket socket;

  TlsClient(int gatewayPort, String sni, X509Certificate... trusted) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    for (int i = 0; i < trusted.length; i++) ks.setCertificateEntry("backend-" + i, trusted[i]);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    socket = (SSLSocket) ctx.getSocketFactory().createSocket();
    socket.setSoTimeout(10_000);
    if (sni != null) {
      SSLParameters p = socket.getSSLParameters();
      // Istio's SNI has underscores, which SNIHostName refuses; a raw host_name (type 0) entry is sent as is.
      p.setServerNames(List.of(new SNIServerName(0, sni.getBytes(StandardCharsets.US_ASCII)) {}));
      socket.setSSLParameters(p);
    }
    socket.connect(new InetSocketAddress("127.0.0.1", gatewayPort), 5_000);
  }

  /** Handshakes and returns the CN of the certificate the far end presented. */
  String handshake() throws IOException {
    socket.startHandshake();
    X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
    return peer.getSubjectX500Principal().getName().replace("CN=", "");
  }

  String echo(String text) throws IOException {
    byte[] out = text.getBytes(StandardCharsets.UTF_8);
    socket.getOutputStream().write(out);
    socket.getOutputStream().flush();
    InputStream in = socket.getInputStream();
    byte[] got = in.readNBytes(out.length);
    return new String(got, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
