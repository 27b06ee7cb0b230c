package weft.agent.cert;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import weft.security.api.IstioCertificateRequest;
import weft.security.api.IstioCertificateResponse;
import weft.security.api.IstioCertificateServiceGrpc;
import weft.security.ca.CaException;
import weft.security.ca.Pem;
import weft.security.csr.CaHeaders;

/**
 * Istio's CSR API over TLS ({@code istio.v1.auth.IstioCertificateService/CreateCertificate} on the
 * control plane's secure port, 15012). The CA's certificate is checked against the mesh roots and
 * against the CA's DNS name (Istio's {@code istiod.istio-system.svc}), whatever address it is dialled
 * at. The workload authenticates with {@code authorization: Bearer TOKEN}, the token read afresh for
 * each request, and names its cluster in the {@code ClusterID} header when it knows it.
 */
public final class CaClient implements CertificateSigner, AutoCloseable {
  // Long enough for a CA that signs under load, short enough that a stuck call does not hold back retries.
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(15);

  private final String address;
  private final String serverName;
  private final TokenSource token;
  private final TrustRoots roots;
  private final String clusterId;
  private final AdvancedTlsX509TrustManager trust;
  private final ManagedChannel channel;

  /**
   * @param address {@code host:port} of the CA
   * @param serverName the DNS name the CA's certificate must carry; null or "" for the host of {@code address}
   * @param clusterId sent as the {@code ClusterID} header; null or "" for none
   */
  public CaClient(String address, String serverName, TrustRoots roots, TokenSource token, String clusterId) {
    this.address = Objects.requireNonNull(address, "address");
    this.roots = Objects.requireNonNull(roots, "roots");
    this.token = Objects.requireNonNull(token, "token");
    this.clusterId = clusterId == null ? "" : clusterId;
    this.serverName = serverName == null || serverName.isEmpty() ? hostOf(address) : serverName;
    try {
      // Certificate and host name: the CA is trusted only as the name it is expected to be.
      this.trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no X.509 trust manager", e);
    }
    ChannelCredentials creds = TlsChannelCredentials.newBuilder().trustManager(trust).build();
    this.channel = Grpc.newChannelBuilder(address, creds).overrideAuthority(this.serverName).build();
  }

  @Override
  public List<X509Certificate> sign(String csrPem, Duration ttl) throws SigningException {
    List<X509Certificate> anchors;
    try {
      anchors = roots.roots();
      trust.updateTrustCredentials(anchors.toArray(X509Certificate[]::new));
    } catch (CaException | IOException | GeneralSecurityException e) {
      throw new SigningException("cannot read the mesh root: " + e.getMessage(), e);
    }
    String bearer;
    try {
      bearer = token.token();
    } catch (IOException e) {
      throw new SigningException("cannot read the CA token: " + e.getMessage(), e);
    }
    Metadata headers = new Metadata();
    headers.put(CaHeaders.AUTHORIZATION, CaHeaders.BEARER + bearer);
    if (!clusterId.isEmpty()) {
      headers.put(CaHeaders.CLUSTER_ID, clusterId);
    }
    IstioCertificateRequest.Builder request = IstioCertificateRequest.newBuilder().setCsr(csrPem);
    if (ttl != null && !ttl.isZero() && !ttl.isNegative()) {
      request.setValidityDuration(Math.max(1, ttl.toSeconds()));
    }
    IstioCertificateResponse response;
    try {
      response = IstioCertificateServiceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .createCertificate(request.build());
    } catch (StatusRuntimeException e) {
      throw new SigningException("CA " + address + " (as " + serverName + ") refused or failed: "
          + e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
          : ": " + e.getStatus().getDescription()) + causeOf(e), e);
    }
    if (response.getCertChainCount() == 0) {
      throw new SigningException("CA " + address + " answered with an empty certificate chain");
    }
    List<X509Certificate> chain = new ArrayList<>();
    try {
      for (String pem : response.getCertChainList()) {
        chain.addAll(Pem.parseCertificates(pem, null));
      }
    } catch (CaException e) {
      throw new SigningException("CA " + address + " sent a chain that cannot be read: " + e.getMessage(), e);
    }
    return List.copyOf(chain);
  }

  /** The name the CA's certificate is checked against. */
  public String serverName() {
    return serverName;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String causeOf(StatusRuntimeException e) {
    Throwable c = e.getCause();
    return c == null ? "" : " (" + c.getClass().getSimpleName() + ": " + c.getMessage() + ")";
  }

  static String hostOf(String address) {
    String a = address.contains("///") ? address.substring(address.indexOf("///") + 3) : address;
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end < 0 ? a : a.substring(1, end);
    }
    int colon = a.lastIndexOf(':');
    return colon < 0 ? a : a.substring(0, colon);
  }
}
