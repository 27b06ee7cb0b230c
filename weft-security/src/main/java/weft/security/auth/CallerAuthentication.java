package weft.security.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import weft.model.text.ClientText;
import weft.model.text.LogBudget;
import weft.security.SpiffeId;
import weft.security.csr.CaHeaders;

/**
 * Makes xDS clients on the secure port prove who they are before a stream starts, as
 * {@code --xds-auth} says: by a client certificate from the mesh CA (its SPIFFE id), or by a
 * bearer token checked exactly as the CSR API checks it. The proven identity is put in the call's
 * {@link Context} under {@link #CALLER}, where the xDS server compares it with what the node's
 * metadata claims. A client that proves nothing is refused with UNAUTHENTICATED (UNAVAILABLE when
 * the token could not be checked now, so it retries).
 *
 * <p>Token checks may call an API server (TokenReview): gRPC runs interceptors on the server's call
 * executor, not on its I/O threads, so this blocks only the call being opened.
 */
public final class CallerAuthentication implements ServerInterceptor {
  private static final System.Logger LOG = System.getLogger(CallerAuthentication.class.getName());
  /** The identity the current call proved; absent on the plaintext port and with {@code --xds-auth none}. */
  public static final Context.Key<VerifiedCaller> CALLER = Context.key("weft-verified-caller");

  private final XdsAuthMode mode;
  private final Authenticator tokens;
  private final Supplier<? extends Collection<X509Certificate>> roots;
  private final Supplier<String> trustDomain;
  private final Clock clock;
  private final MeterRegistry meters;
  // Each refusal ends its stream, so refusals are logged server-wide within a budget.
  private final LogBudget refusalLog = new LogBudget(10, java.time.Duration.ofMinutes(1), System::nanoTime);

  /**
   * @param tokens how tokens are checked (the CSR API's authenticator); may be null only when
   *     {@code mode} accepts no token
   * @param roots the roots our workload certificates end at, read at each check (they may rotate)
   * @param trustDomain the mesh's trust domain, read at each check: the one a token's identity is in
   */
  public CallerAuthentication(XdsAuthMode mode, Authenticator tokens,
      Supplier<? extends Collection<X509Certificate>> roots, Supplier<String> trustDomain, Clock clock,
      MeterRegistry meters) {
    this.mode = Objects.requireNonNull(mode);
    if (mode.acceptsToken() && tokens == null) {
      throw new IllegalArgumentException("--xds-auth " + mode.flagValue() + " needs a way to check tokens");
    }
    this.tokens = tokens;
    this.roots = Objects.requireNonNull(roots);
    this.trustDomain = Objects.requireNonNull(trustDomain);
    this.clock = Objects.requireNonNull(clock);
    this.meters = Objects.requireNonNull(meters);
  }

  public XdsAuthMode mode() {
    return mode;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (mode == XdsAuthMode.NONE) return next.startCall(call, headers);
    VerifiedCaller caller;
    try {
      caller = authenticate(peerChain(call), headers);
    } catch (AuthenticationException e) {
      Status status = e.unavailable() ? Status.UNAVAILABLE : Status.UNAUTHENTICATED;
      refused(call, status, e.getMessage());
      call.close(status.withDescription(e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context ctx = Context.current().withValue(CALLER, caller);
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  /** The identity the headers and certificate chain prove under this mode. */
  VerifiedCaller authenticate(List<X509Certificate> chain, Metadata headers) throws AuthenticationException {
    boolean hasToken = headers.get(CaHeaders.AUTHORIZATION) != null;
    if (mode.acceptsCertificate() && !chain.isEmpty()) {
      SpiffeId id = ClientCertificates.identity(chain, roots.get(), clock.instant());
      return new VerifiedCaller(id, VerifiedCaller.Method.CERTIFICATE, "");
    }
    if (mode.acceptsToken() && hasToken) {
      String cluster = headers.get(CaHeaders.CLUSTER_ID);
      Identity identity = tokens.authenticate(CaHeaders.bearerToken(headers), cluster);
      return new VerifiedCaller(identity.spiffeId(trustDomain.get()), VerifiedCaller.Method.TOKEN,
          identity.clusterId());
    }
    throw new AuthenticationException(switch (mode) {
      case CERTIFICATE -> "the secure port requires a client certificate from the mesh CA (--xds-auth certificate)";
      case TOKEN -> "the secure port requires an 'authorization: Bearer TOKEN' header (--xds-auth token)";
      default -> "no client certificate and no bearer token: present a workload certificate from the mesh CA "
          + "or an 'authorization: Bearer TOKEN' header";
    });
  }

  private void refused(ServerCall<?, ?> call, Status status, String reason) {
    Counter.builder("weft_xds_unauthenticated_streams_total")
        .description("xDS streams on the secure port refused because the client proved no identity")
        .tag("code", status.getCode().name()).register(meters).increment();
    String suppressed = refusalLog.admit(status.getCode().name());
    if (suppressed == null) return;
    SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    LOG.log(System.Logger.Level.WARNING, "xDS stream from " + peer + " refused (" + status.getCode() + "): "
        + ClientText.forLog(reason, 1024) + suppressed);
  }

  private static List<X509Certificate> peerChain(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) return List.of();
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : session.getPeerCertificates()) {
        if (c instanceof X509Certificate x) out.add(x);
      }
      return out;
    } catch (SSLPeerUnverifiedException e) {
      return List.of(); // the client sent no certificate
    }
  }
}
