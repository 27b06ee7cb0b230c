package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import weft.model.Gateway;

/**
 * The server side of a TLS-terminating gateway server (Istio's BuildListenerTLSContext for SIMPLE,
 * MUTUAL and ISTIO_MUTUAL): the certificate by SDS from {@code credentialName}, or from files on the
 * router, or for ISTIO_MUTUAL the gateway's own mesh certificate.
 */
final class GatewayTls {
  private GatewayTls() {}

  static TransportSocket downstream(Gateway.Tls tls, String mode) {
    if ("ISTIO_MUTUAL".equals(mode)) {
      // Istio's mesh mTLS terminated at the gateway (its egress-gateway tasks): the gateway's workload
      // certificate and the mesh roots by SDS, a client certificate required, as on a sidecar's inbound.
      return weft.xds.security.TlsContexts.transportSocket(
          weft.xds.security.TlsContexts.sidecarServer(WellKnown.GATEWAY_ALPNS));
    }
    boolean mutual = "MUTUAL".equals(mode);
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder().addAllAlpnProtocols(WellKnown.GATEWAY_ALPNS);
    CertificateValidationContext validation = validation(tls, mutual);
    if (tls.credentialName() != null && !tls.credentialName().isEmpty()) {
      String name = secretName(tls.credentialName());
      common.addTlsCertificateSdsSecretConfigs(sds(name));
      if (mutual) {
        common.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
            .setDefaultValidationContext(validation)
            .setValidationContextSdsSecretConfig(sds(name + WellKnown.CA_CERT_SUFFIX)));
      }
    } else {
      // Istio turns file paths into file-backed SDS served by its agent; Envoy reads the files itself just as well.
      common.addTlsCertificates(TlsCertificate.newBuilder()
          .setCertificateChain(file(tls.serverCertificate()))
          .setPrivateKey(file(tls.privateKey())));
      if (mutual) {
        common.setValidationContext(validation.toBuilder().setTrustedCa(file(tls.caCertificates())));
      }
    }
    DownstreamTlsContext ctx = DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common)
        .setRequireClientCertificate(BoolValue.of(mutual))
        .build();
    return TransportSocket.newBuilder().setName(WellKnown.TLS_TRANSPORT_SOCKET).setTypedConfig(Any.pack(ctx)).build();
  }

  /** Istio names Kubernetes secrets {@code kubernetes://NAME} unless the credential already carries a scheme. */
  static String secretName(String credentialName) {
    return credentialName.contains("://") ? credentialName : WellKnown.KUBERNETES_SECRET_PREFIX + credentialName;
  }

  private static SdsSecretConfig sds(String name) {
    return weft.xds.security.TlsContexts.credentialSds(name);
  }

  @SuppressWarnings("deprecation")
  private static CertificateValidationContext validation(Gateway.Tls tls, boolean mutual) {
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    if (mutual) {
      for (String san : tls.subjectAltNames()) v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
    }
    return v.build();
  }

  private static DataSource file(String path) {
    return DataSource.newBuilder().setFilename(path == null ? "" : path).build();
  }
}
