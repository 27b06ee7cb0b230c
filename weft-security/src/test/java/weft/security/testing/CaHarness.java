package weft.security.testing;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import weft.security.SpiffeId;
import weft.security.api.IstioCertificateRequest;
import weft.security.api.IstioCertificateResponse;
import weft.security.api.IstioCertificateServiceGrpc;
import weft.security.auth.Authenticator;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.csr.CaHeaders;
import weft.security.csr.CaServer;
import weft.security.csr.CertificateService;

/** A secure CA server on a free localhost port and a TLS client that trusts our root. */
public final class CaHarness implements AutoCloseable {
  public static final String AUTHORITY = "istiod.istio-system.svc";

  public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  public final CaServer server;
  private final ManagedChannel channel;

  public CaHarness(CertificateAuthority ca, String trustDomain, Authenticator authenticator) throws Exception {
    server = CaServer.builder(ca).port(0).dnsNames(List.of(AUTHORITY))
        .identity(new SpiffeId(trustDomain, "istio-system", "istiod"))
        .addService(new CertificateService(ca, trustDomain, authenticator, registry)).start();
    ChannelCredentials creds = TlsChannelCredentials.newBuilder()
        .trustManager(new ByteArrayInputStream(Pem.encode(ca.roots()).getBytes(StandardCharsets.US_ASCII))).build();
    channel = Grpc.newChannelBuilderForAddress("localhost", server.port(), creds).overrideAuthority(AUTHORITY).build();
  }

  /** Calls CreateCertificate with the given token (null: no header) and ClusterID (null: none). */
  public IstioCertificateResponse call(String token, String clusterId, IstioCertificateRequest request) {
    Metadata headers = new Metadata();
    if (token != null) {
      headers.put(CaHeaders.AUTHORIZATION, "Bearer " + token);
    }
    if (clusterId != null) {
      headers.put(CaHeaders.CLUSTER_ID, clusterId);
    }
    return IstioCertificateServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .createCertificate(request);
  }

  public IstioCertificateResponse call(String token, String csr) {
    return call(token, null, IstioCertificateRequest.newBuilder().setCsr(csr).build());
  }

  public static List<X509Certificate> chainOf(IstioCertificateResponse response) {
    return response.getCertChainList().stream().map(pem -> Pem.parseCertificates(pem, null).get(0)).toList();
  }

  public double refusals(String reason) {
    var c = registry.find("weft_ca_refusals_total").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  public double issued() {
    var c = registry.find("weft_ca_certificates_issued_total").counter();
    return c == null ? 0 : c.count();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }
}
