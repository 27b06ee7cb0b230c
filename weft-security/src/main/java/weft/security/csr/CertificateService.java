package weft.security.csr;

import com.google.protobuf.Value;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import weft.model.text.ClientText;
import weft.model.text.LogBudget;
import weft.security.SpiffeId;
import weft.security.api.IstioCertificateRequest;
import weft.security.api.IstioCertificateResponse;
import weft.security.api.IstioCertificateServiceGrpc;
import weft.security.auth.AuthenticationException;
import weft.security.auth.Authenticator;
import weft.security.auth.Identity;
import weft.security.ca.CaException;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/**
 * Istio's CSR API, {@code istio.v1.auth.IstioCertificateService/CreateCertificate}. The caller's
 * identity comes from its bearer token alone; the CSR contributes its public key. A CSR that asks
 * for any name but the caller's own SPIFFE id is refused, as is a request to impersonate another
 * identity. Every refusal is logged with the caller and the reason, and counted.
 */
public final class CertificateService implements BindableService {
  private static final System.Logger LOG = System.getLogger(CertificateService.class.getName());
  // Metadata key through which Istio's node agents (ztunnel) ask for a certificate on another's
  // behalf. Weft does not authorise that yet, so it must name the caller itself.
  static final String IMPERSONATED_IDENTITY = "ImpersonatedIdentity";

  private static final Context.Key<Metadata> HEADERS = Context.key("weft-ca-headers");
  private static final Context.Key<SocketAddress> PEER = Context.key("weft-ca-peer");

  private final CertificateAuthority ca;
  private final String trustDomain;
  private final Authenticator authenticator;
  private final CaMetrics metrics;
  // Each refusal is one call, and a client may call in a loop: refusals are logged a few per reason per minute.
  private final LogBudget refusalLog = new LogBudget(10, java.time.Duration.ofMinutes(1), System::nanoTime);

  public CertificateService(CertificateAuthority ca, String trustDomain, Authenticator authenticator,
      MeterRegistry registry) {
    this.ca = Objects.requireNonNull(ca);
    this.trustDomain = Objects.requireNonNull(trustDomain);
    this.authenticator = Objects.requireNonNull(authenticator);
    this.metrics = new CaMetrics(registry);
  }

  @Override
  public ServerServiceDefinition bindService() {
    return ServerInterceptors.intercept(new Impl().bindService(), new HeaderCapture());
  }

  /** The chain for one request, or why not. */
  List<X509Certificate> handle(IstioCertificateRequest request, Metadata headers) throws Refusal {
    String clusterId = headers.get(CaHeaders.CLUSTER_ID);
    Identity identity;
    try {
      identity = authenticator.authenticate(CaHeaders.bearerToken(headers), clusterId);
    } catch (AuthenticationException e) {
      throw e.unavailable()
          ? new Refusal(Status.Code.UNAVAILABLE, "auth_unavailable", "cannot authenticate now: " + e.getMessage())
          : new Refusal(Status.Code.UNAUTHENTICATED, "unauthenticated", "authentication failed: " + e.getMessage());
    }
    SpiffeId self = identity.spiffeId(trustDomain);
    try {
      return sign(request, self);
    } catch (Refusal r) {
      throw r.by(identity);
    }
  }

  private List<X509Certificate> sign(IstioCertificateRequest request, SpiffeId self) throws Refusal {
    ParsedCsr csr = ParsedCsr.parse(request.getCsr());
    for (String name : csr.requestedNames()) {
      if (!name.equals("URI:" + self)) {
        throw Refusal.otherIdentity("csr asks for " + name + " but the caller is " + self
            + "; a workload may only ask for its own identity");
      }
    }
    Value impersonated = request.getMetadata().getFieldsMap().get(IMPERSONATED_IDENTITY);
    if (impersonated != null && !(impersonated.hasStringValue()
        && (impersonated.getStringValue().isEmpty() || impersonated.getStringValue().equals(self.toString())))) {
      String asked = impersonated.hasStringValue() ? impersonated.getStringValue() : impersonated.toString().trim();
      throw Refusal.otherIdentity("request asks to impersonate " + asked + " but the caller is " + self
          + "; certificates on another's behalf are not allowed");
    }
    try {
      return ca.issueWorkload(csr.publicKey(), self, Duration.ofSeconds(Math.max(0, request.getValidityDuration())));
    } catch (CaException | IllegalStateException e) {
      LOG.log(System.Logger.Level.ERROR, "CA cannot sign for " + self + ": " + e.getMessage(), e);
      throw new Refusal(Status.Code.INTERNAL, "ca_error", "the CA cannot sign now: " + e.getMessage());
    }
  }

  private final class Impl extends IstioCertificateServiceGrpc.IstioCertificateServiceImplBase {
    @Override
    public void createCertificate(IstioCertificateRequest request,
        StreamObserver<IstioCertificateResponse> responseObserver) {
      Metadata headers = HEADERS.get() != null ? HEADERS.get() : new Metadata();
      String caller = describeCaller(headers);
      metrics.received();
      try {
        List<X509Certificate> chain = handle(request, headers);
        IstioCertificateResponse.Builder response = IstioCertificateResponse.newBuilder();
        chain.forEach(c -> response.addCertChain(Pem.encode(c)));
        metrics.issued();
        LOG.log(System.Logger.Level.DEBUG, () -> "issued " + subject(chain.get(0)) + " to " + caller
            + " until " + chain.get(0).getNotAfter().toInstant());
        responseObserver.onNext(response.build());
        responseObserver.onCompleted();
      } catch (Refusal r) {
        metrics.refused(r.reason());
        String suppressed = refusalLog.admit(r.reason());
        if (suppressed != null) {
          // The message may quote the CSR's names or an impersonation request: the caller's own text.
          LOG.log(System.Logger.Level.WARNING, "CSR refused (" + r.status().getCode() + ", " + r.reason() + ") for "
              + caller + (r.identity().isEmpty() ? "" : " identity " + r.identity()) + ": "
              + ClientText.forLog(r.getMessage(), 1024) + suppressed);
        }
        responseObserver.onError(r.status().asRuntimeException());
      }
    }
  }

  private static String describeCaller(Metadata headers) {
    SocketAddress peer = PEER.get();
    String cluster = headers.get(CaHeaders.CLUSTER_ID);
    return "caller " + (peer == null ? "(unknown address)" : peer) + " cluster "
        + (cluster == null || cluster.isEmpty() ? "(none given)" : ClientText.forLog(cluster, 64));
  }

  private static String subject(X509Certificate leaf) {
    try {
      return String.valueOf(leaf.getSubjectAlternativeNames());
    } catch (java.security.cert.CertificateParsingException e) {
      return leaf.getSerialNumber().toString(16);
    }
  }

  /** Makes the request headers and the peer address visible to the service method. */
  private static final class HeaderCapture implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      Context ctx = Context.current().withValues(HEADERS, headers, PEER,
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }
}
