package weft.agent.testing;

import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import weft.agent.WorkloadIdentity;
import weft.security.SpiffeId;
import weft.security.auth.FileTokenAuthenticator;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.csr.CaServer;
import weft.security.csr.CertificateService;

/**
 * A control plane's secure port as Weft runs it: a CA with a self-signed root kept in a temp folder,
 * the CSR API behind file-mode tokens, served over TLS as {@code istiod.istio-system.svc} (and
 * {@code localhost}, so a gRPC xDS client dialling {@code localhost:PORT} can check the name too).
 */
public final class TestMesh implements AutoCloseable {
  public static final String TRUST_DOMAIN = "cluster.local";
  public static final String SERVER_NAME = "istiod.istio-system.svc";
  public static final String FRONTEND_TOKEN = "frontend-token";
  public static final String FRONTEND_SPIFFE = "spiffe://cluster.local/ns/default/sa/frontend";

  public final CertificateAuthority ca;
  public final CaServer server;
  public final Path rootFile;

  private TestMesh(CertificateAuthority ca, CaServer server, Path rootFile) {
    this.ca = ca;
    this.server = server;
    this.rootFile = rootFile;
  }

  public static TestMesh start(Path tmp, Clock clock, ServerServiceDefinition... more) throws Exception {
    CertificateAuthority ca = CaStore.loadOrCreate(tmp.resolve("ca"), TRUST_DOMAIN, clock);
    FileTokenAuthenticator tokens = new FileTokenAuthenticator(
        List.of(new FileTokenAuthenticator.Entry(FRONTEND_TOKEN, "default", "frontend", null)), clock);
    CaServer.Builder b = CaServer.builder(ca).port(0).dnsNames(List.of(SERVER_NAME, "localhost"))
        .identity(new SpiffeId(TRUST_DOMAIN, "istio-system", "istiod"))
        .addService(new CertificateService(ca, TRUST_DOMAIN, tokens, new SimpleMeterRegistry()));
    for (ServerServiceDefinition s : more) {
      b.addService(s);
    }
    Path root = tmp.resolve("mesh-root.pem");
    Files.writeString(root, Pem.encode(ca.roots()), StandardCharsets.US_ASCII);
    return new TestMesh(ca, b.start(), root);
  }

  public String address() {
    return "localhost:" + server.port();
  }

  public byte[] rootPem() {
    return Pem.encode(ca.roots()).getBytes(StandardCharsets.US_ASCII);
  }

  public static WorkloadIdentity frontend() {
    return WorkloadIdentity.builder().namespace("default").serviceAccount("frontend").podName("frontend-7d4b9")
        .ip("10.0.0.5").clusterId("cluster1").network("network1").label("app", "frontend").label("version", "v1")
        .locality("us-east1/us-east1-b/rack7").build();
  }

  /** The SPIFFE URIs in a certificate. */
  public static List<String> uris(X509Certificate cert) throws Exception {
    List<String> out = new ArrayList<>();
    for (List<?> san : cert.getSubjectAlternativeNames()) {
      out.add((Integer) san.get(0) == 6 ? "URI:" + san.get(1) : "other:" + san.get(1));
    }
    return out;
  }

  @Override
  public void close() {
    server.close();
  }
}
