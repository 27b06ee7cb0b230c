package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.demo.EchoService;

/**
 * Istio's egress TLS origination with a real grpc-java client: the workload calls an external
 * service in plaintext terms (its channel takes TLS from xDS), Weft's DestinationRule SIMPLE makes
 * grpc-java originate TLS to a server outside the mesh that the test runs with its own CA (the
 * "system" roots of this JVM), reached through a DNS ServiceEntry (a single-host LOGICAL_DNS cluster
 * for grpc-java). A wrong subjectAltName fails the handshake, and a rule grpc-java cannot honour
 * (insecureSkipVerify) fails the calls rather than sending them unverified.
 */
class TlsOriginationTest {
  static final String HOST = "payments.external.test";
  static final String[] TRUST_PROPERTIES = {"javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword",
      "javax.net.ssl.trustStoreType"};

  Mesh mesh;
  Path pki;
  final String[] saved = new String[TRUST_PROPERTIES.length];

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    pki = Files.createTempDirectory("weft-egress-pki");
    KeyPair caKeys = keys();
    X509Certificate ca = certificate(caKeys, "CN=Test External CA", null, caKeys.getPrivate(), null);
    KeyPair serverKeys = keys();
    X509Certificate server = certificate(serverKeys, "CN=" + HOST, ca, caKeys.getPrivate(), HOST);
    // The JVM's default trust store stands for the system's roots grpc-java reads (gRFC A82).
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("test-external-ca", ca);
    Path store = pki.resolve("trust.p12");
    try (OutputStream out = Files.newOutputStream(store)) {
      trust.store(out, "changeit".toCharArray());
    }
    for (int i = 0; i < TRUST_PROPERTIES.length; i++) saved[i] = System.getProperty(TRUST_PROPERTIES[i]);
    System.setProperty("javax.net.ssl.trustStore", store.toString());
    System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
    System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");

    TlsServerCredentials tls = (TlsServerCredentials) TlsServerCredentials.newBuilder()
        .keyManager(pem("CERTIFICATE", server.getEncoded()), pem("PRIVATE KEY", serverKeys.getPrivate().getEncoded()))
        .build();
    Server external = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", mesh.port), tls)
        .addService(EchoService.named("payments-external")).build().start();
    mesh.track(external);
    mesh.write("payments-se.yaml", """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: payments, namespace: default}
        spec:
          hosts: [%s]
          location: MESH_EXTERNAL
          ports: [{number: 443, name: grpc, protocol: GRPC, targetPort: %d}]
          resolution: DNS
          endpoints: [{address: localhost}]
        """.formatted(HOST, mesh.port));
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
    for (int i = 0; i < TRUST_PROPERTIES.length; i++) {
      if (saved[i] == null) System.clearProperty(TRUST_PROPERTIES[i]);
      else System.setProperty(TRUST_PROPERTIES[i], saved[i]);
    }
    try (var files = Files.walk(pki)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  static String rule(String tls) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: originate-tls-for-payments, namespace: default}
        spec:
          host: %s
          trafficPolicy:
            tls: %s
        """.formatted(HOST, tls);
  }

  static Status.Code outcome(ManagedChannel ch) {
    try {
      Mesh.call(ch);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /**
   * One call on a new client: grpc-java keeps a connection it has made when only the cluster's TLS
   * settings change, so each phase is checked on a connection made under the current config.
   */
  Status.Code freshCall() {
    ManagedChannel client = mesh.xdsCredentialsClient("default", HOST, 443);
    try {
      return outcome(client);
    } finally {
      client.shutdownNow();
    }
  }

  @Test
  void grpcJavaOriginatesTlsToAnExternalServerAndVerifiesItsName() throws Exception {
    // Without a rule the call goes out plaintext and the TLS-only server cannot answer it.
    assertThat(freshCall()).isEqualTo(Status.Code.UNAVAILABLE);

    mesh.write("payments-dr.yaml", rule("{mode: SIMPLE, sni: " + HOST + "}"));
    ManagedChannel client = mesh.xdsCredentialsClient("default", HOST, 443);
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> Mesh.call(client).equals("payments-external"));

    // The server's certificate must carry the name asked for: a wrong one fails the handshake.
    mesh.write("payments-dr.yaml", rule("{mode: SIMPLE, subjectAltNames: [someone-else.external.test]}"));
    await().atMost(Duration.ofSeconds(90)).until(() -> freshCall() == Status.Code.UNAVAILABLE);

    // grpc-java cannot skip verification: the cluster is left out and the error is in the status.
    mesh.write("payments-dr.yaml", rule("{mode: SIMPLE, insecureSkipVerify: true}"));
    await().atMost(Duration.ofSeconds(60)).until(() -> mesh.debugStatus().contains("insecureSkipVerify"));
    assertThat(freshCall()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(mesh.debugStatus()).contains("originate-tls-for-payments").contains("proxyless gRPC clients");

    mesh.write("payments-dr.yaml", rule("{mode: SIMPLE}"));
    await().atMost(Duration.ofSeconds(90)).until(() -> freshCall() == Status.Code.OK);
  }

  static KeyPair keys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  /** A CA certificate ({@code dnsName} null, self-signed when {@code issuer} is null) or a server leaf. */
  static X509Certificate certificate(KeyPair keys, String subject, X509Certificate issuer, PrivateKey signer,
      String dnsName) throws Exception {
    Instant now = Instant.now();
    X500Name issuerName = issuer == null ? new X500Name(subject) : new X500Name(issuer.getSubjectX500Principal().getName());
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName,
        BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)),
        new X500Name(subject), keys.getPublic());
    if (dnsName == null) {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
  }

  static ByteArrayInputStream pem(String type, byte[] der) {
    String text = "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }
}
