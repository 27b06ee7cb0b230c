package weft.xds.security;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import weft.security.ca.Pem;
import weft.security.trust.TrustBundles;

/**
 * Istio-mTLS contexts for both kinds of client. The key never leaves the workload: Envoy gets
 * certificates from its agent by SDS (secrets {@code default} and {@code ROOTCA}, Istio's names);
 * grpc-java reads them from the certificate-provider instance its bootstrap defines (a
 * {@code file_watcher} named {@code default} that the agent keeps filled).
 *
 * <p>What grpc-java accepts (XdsClusterResource.validateCommonTlsContext, XdsListenerResource
 * .validateDownstreamTlsContext): a {@code tls_certificate_provider_instance} (required on servers),
 * a {@code ca_certificate_provider_instance} in {@code validation_context} or
 * {@code combined_validation_context.default_validation_context}, instance names its bootstrap
 * defines; no SDS configs, no {@code tls_params}, no {@code require_sni}, and
 * {@code match_subject_alt_names} only on the client side.
 */
public final class TlsContexts {
  /** The transport socket name both Envoy and grpc-java require for TLS. */
  public static final String TRANSPORT_SOCKET = "envoy.transport_sockets.tls";
  /** The certificate-provider instance in a proxyless bootstrap (Istio's grpc bootstrap names it so too). */
  public static final String PROVIDER_INSTANCE = "default";
  /** Istio's SDS resource names: the workload's certificate chain and key, and the mesh roots. */
  public static final String CERTIFICATE = "default";
  public static final String ROOT_CA = "ROOTCA";
  /** Envoy's name for its SPIFFE certificate validator extension. */
  public static final String SPIFFE_VALIDATOR = "envoy.tls.cert_validator.spiffe";
  /** ALPN an Istio sidecar offers to an in-mesh server (Istio's ALPNInMeshWithMxc), plus h2 on HTTP/2 clusters. */
  public static final List<String> IN_MESH_ALPN = List.of("istio-peer-exchange", "istio");
  public static final List<String> IN_MESH_ALPN_H2 = List.of("istio-peer-exchange", "istio", "h2");
  /** What an Envoy sidecar offers on an HTTP inbound port (gRPC clients need h2 negotiated). */
  public static final List<String> INBOUND_HTTP_ALPN = List.of("h2", "http/1.1");

  private TlsContexts() {}

  /** A proxyless server's context; {@code requireClientCertificate} makes it mutual. */
  public static DownstreamTlsContext proxylessServer(boolean requireClientCertificate) {
    CommonTlsContext common = CommonTlsContext.newBuilder()
        .setTlsCertificateProviderInstance(instance(CERTIFICATE))
        .setValidationContext(CertificateValidationContext.newBuilder().setCaCertificateProviderInstance(instance(ROOT_CA)))
        .build();
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common)
        .setRequireClientCertificate(BoolValue.of(requireClientCertificate))
        .build();
  }

  /** A proxyless client's context: the workload certificate, the mesh roots and the server's identities. */
  public static UpstreamTlsContext proxylessClient(List<String> subjectAltNames, String sni) {
    CommonTlsContext common = CommonTlsContext.newBuilder()
        .setTlsCertificateProviderInstance(instance(CERTIFICATE))
        .setValidationContext(sans(subjectAltNames).setCaCertificateProviderInstance(instance(ROOT_CA)))
        .build();
    UpstreamTlsContext.Builder ctx = UpstreamTlsContext.newBuilder().setCommonTlsContext(common);
    if (sni != null && !sni.isEmpty()) ctx.setSni(sni);
    return ctx.build();
  }

  /** An Envoy sidecar's inbound context: Istio's ISTIO_MUTUAL server side, by SDS. */
  public static DownstreamTlsContext sidecarServer(List<String> alpn) {
    return sidecarServer(alpn, null);
  }

  /**
   * An Envoy sidecar's inbound context; with {@code trust}, a client certificate is validated
   * against the roots of the trust domain in its SPIFFE id only ({@link #spiffeValidation}).
   */
  public static DownstreamTlsContext sidecarServer(List<String> alpn, TrustBundles trust) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder()
        .addAllAlpnProtocols(alpn)
        .addTlsCertificateSdsSecretConfigs(sds(CERTIFICATE));
    if (trust != null) {
      common.setValidationContext(spiffeValidation(trust, List.of()));
    } else {
      common.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
          .setDefaultValidationContext(CertificateValidationContext.getDefaultInstance())
          .setValidationContextSdsSecretConfig(sds(ROOT_CA)));
    }
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common)
        .setRequireClientCertificate(BoolValue.of(true))
        .build();
  }

  /** An Envoy sidecar's outbound context: Istio's ISTIO_MUTUAL client side, by SDS. */
  public static UpstreamTlsContext sidecarClient(List<String> subjectAltNames, String sni, boolean http2) {
    return sidecarClient(subjectAltNames, sni, http2, null);
  }

  /**
   * An Envoy sidecar's (or router's) outbound context; with {@code trust}, the server is validated
   * against the roots of its own trust domain only, then matched against {@code subjectAltNames}.
   */
  public static UpstreamTlsContext sidecarClient(List<String> subjectAltNames, String sni, boolean http2,
      TrustBundles trust) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder()
        .addAllAlpnProtocols(http2 ? IN_MESH_ALPN_H2 : IN_MESH_ALPN)
        .addTlsCertificateSdsSecretConfigs(sds(CERTIFICATE));
    if (trust != null) {
      common.setValidationContext(spiffeValidation(trust, subjectAltNames));
    } else {
      common.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
          .setDefaultValidationContext(sans(subjectAltNames))
          .setValidationContextSdsSecretConfig(sds(ROOT_CA)));
    }
    return UpstreamTlsContext.newBuilder().setCommonTlsContext(common).setSni(sni).build();
  }

  /**
   * Envoy's SPIFFE certificate validator with one bundle per trust domain: a peer's chain is
   * checked only against the roots of the trust domain its SPIFFE id names, so a federated
   * peer's CA cannot mint identities of our domain (a single trusted_ca pool would let it).
   * Aliases of our domain carry our roots ({@link TrustBundles}); a domain with no roots is left
   * out, so its identities are refused. The roots go inline: the control plane is the one that
   * knows every domain's bundle, and a rotation is a push. Server identities are matched as typed
   * URI SANs, which this validator honours (it ignores {@code trusted_ca}, so none is set).
   */
  public static CertificateValidationContext spiffeValidation(TrustBundles trust, List<String> subjectAltNames) {
    SPIFFECertValidatorConfig.Builder spiffe = SPIFFECertValidatorConfig.newBuilder();
    trust.byTrustDomain().forEach((domain, roots) -> {
      if (roots.isEmpty()) return;
      spiffe.addTrustDomains(SPIFFECertValidatorConfig.TrustDomain.newBuilder()
          .setName(domain)
          .setTrustBundle(DataSource.newBuilder().setInlineString(Pem.encode(roots))));
    });
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder()
        .setCustomValidatorConfig(TypedExtensionConfig.newBuilder()
            .setName(SPIFFE_VALIDATOR)
            .setTypedConfig(Any.pack(spiffe.build())));
    for (String san : subjectAltNames) {
      v.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
          .setSanType(SubjectAltNameMatcher.SanType.URI)
          .setMatcher(StringMatcher.newBuilder().setExact(san)));
    }
    return v.build();
  }

  /**
   * Where an Envoy proxy finds the system's roots when a SIMPLE or MUTUAL rule names no
   * {@code caCertificates}: the Debian/Ubuntu bundle of Istio's proxy image. Istio's agent serves
   * the same file as SDS {@code file-root:system}; Weft lets Envoy read it, so the server is
   * verified either way rather than accepted unchecked.
   */
  public static final String SYSTEM_ROOTS_FILE = "/etc/ssl/certs/ca-certificates.crt";

  /**
   * An Envoy proxy's context for DestinationRule SIMPLE or MUTUAL (Istio's cluster_tls.go): the
   * client certificate and key from files for MUTUAL, the server checked against
   * {@code caCertificates} (else the system's roots), the CRL, and its names against
   * {@code subjectAltNames}, else against the SNI (as Istio's automatic SAN validation does);
   * {@code insecureSkipVerify} drops the whole validation. With {@code credentialName} the
   * certificates come from Kubernetes by SDS instead ({@link #credentialOrigination}); the caller
   * has checked that this proxy is served Secrets ({@link UpstreamTls#refusal}).
   */
  public static UpstreamTlsContext envoyOrigination(weft.model.DestinationRule.Tls tls, String sni, boolean http2) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder();
    if (http2) common.addAlpnProtocols("h2");
    if (tls.credentialName() != null) return credentialOrigination(common, tls, sni);
    if ("MUTUAL".equals(tls.mode())) {
      common.addTlsCertificates(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate.newBuilder()
          .setCertificateChain(DataSource.newBuilder().setFilename(tls.clientCertificate()))
          .setPrivateKey(DataSource.newBuilder().setFilename(tls.privateKey())));
    }
    if (!tls.insecureSkipVerify()) {
      CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder()
          .setTrustedCa(DataSource.newBuilder()
              .setFilename(tls.caCertificates() != null ? tls.caCertificates() : SYSTEM_ROOTS_FILE));
      if (tls.caCrl() != null) v.setCrl(DataSource.newBuilder().setFilename(tls.caCrl()));
      for (String san : serverNames(tls, sni)) {
        v.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
            .setSanType(san.startsWith("spiffe://") ? SubjectAltNameMatcher.SanType.URI : SubjectAltNameMatcher.SanType.DNS)
            .setMatcher(StringMatcher.newBuilder().setExact(san)));
      }
      common.setValidationContext(v);
    }
    UpstreamTlsContext.Builder ctx = UpstreamTlsContext.newBuilder().setCommonTlsContext(common);
    if (sni != null && !sni.isEmpty()) ctx.setSni(sni);
    return ctx.build();
  }

  /**
   * Istio's form for a credentialName (ApplyCustomSDSToClientCommonTLSContext): for MUTUAL the
   * client certificate and key by SDS {@code kubernetes://NAME}; unless {@code insecureSkipVerify},
   * the server checked against the CA of SDS {@code kubernetes://NAME-cacert} (the Secret
   * {@code NAME-cacert}, else NAME's own {@code ca.crt}/{@code cacert}) combined with the names
   * Weft checks for file-based origination (subjectAltNames, else the SNI). Both by ADS, waiting
   * for the secret rather than warming without it.
   */
  private static UpstreamTlsContext credentialOrigination(CommonTlsContext.Builder common,
      weft.model.DestinationRule.Tls tls, String sni) {
    String name = kubernetesSecret(tls.credentialName());
    if ("MUTUAL".equals(tls.mode())) common.addTlsCertificateSdsSecretConfigs(credentialSds(name));
    if (!tls.insecureSkipVerify()) {
      CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
      for (String san : serverNames(tls, sni)) {
        v.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
            .setSanType(san.startsWith("spiffe://") ? SubjectAltNameMatcher.SanType.URI : SubjectAltNameMatcher.SanType.DNS)
            .setMatcher(StringMatcher.newBuilder().setExact(san)));
      }
      common.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
          .setDefaultValidationContext(v)
          .setValidationContextSdsSecretConfig(credentialSds(name + CA_CERT_SUFFIX)));
    }
    UpstreamTlsContext.Builder ctx = UpstreamTlsContext.newBuilder().setCommonTlsContext(common);
    if (sni != null && !sni.isEmpty()) ctx.setSni(sni);
    return ctx.build();
  }

  /**
   * A credentialName secret by ADS. Unlike the mesh's own certificates, Envoy's default initial
   * fetch timeout (15 s) stays, as in Istio: the Secret may not exist (or not be sent to this proxy),
   * and a cluster or listener waiting for it forever would hold up the proxy's whole start.
   */
  public static SdsSecretConfig credentialSds(String name) {
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(ConfigSource.newBuilder()
            .setAds(AggregatedConfigSource.getDefaultInstance())
            .setResourceApiVersion(ApiVersion.V3))
        .build();
  }

  /** Istio's prefix of Kubernetes Secret names in SDS ({@code credentials.KubernetesSecretTypeURI}). */
  public static final String KUBERNETES_SECRET_PREFIX = "kubernetes://";
  /**
   * A Gateway API listener's Secret in another namespace, which a ReferenceGrant there allows
   * (Istio's {@code kubernetes-gateway://NS/NAME}).
   */
  public static final String KUBERNETES_GATEWAY_SECRET_PREFIX = "kubernetes-gateway://";
  /** Istio's suffix of the CA-only view of a Secret ({@code SdsCaSuffix}). */
  public static final String CA_CERT_SUFFIX = "-cacert";

  /** Istio names a credential {@code kubernetes://NAME} unless it already carries a scheme. */
  public static String kubernetesSecret(String credentialName) {
    return credentialName.contains("://") ? credentialName : KUBERNETES_SECRET_PREFIX + credentialName;
  }

  /**
   * A proxyless client's context for DestinationRule SIMPLE (gRFC A82): the system's roots, the
   * server's names as for Envoy, and the SNI (grpc-java sends it since 1.78). Everything else a rule
   * may ask for is refused before ({@link UpstreamTls#refusal}), so no client certificate here.
   */
  public static UpstreamTlsContext proxylessOrigination(weft.model.DestinationRule.Tls tls, String sni) {
    CertificateValidationContext.Builder v = sans(serverNames(tls, sni))
        .setSystemRootCerts(CertificateValidationContext.SystemRootCerts.getDefaultInstance());
    UpstreamTlsContext.Builder ctx = UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(v));
    if (sni != null && !sni.isEmpty()) ctx.setSni(sni);
    return ctx.build();
  }

  /** The rule's subjectAltNames, else the SNI the client sends (a server must prove the name it was asked for). */
  private static List<String> serverNames(weft.model.DestinationRule.Tls tls, String sni) {
    if (!tls.subjectAltNames().isEmpty()) return tls.subjectAltNames();
    return sni == null || sni.isEmpty() ? List.of() : List.of(sni);
  }

  public static TransportSocket transportSocket(Message tlsContext) {
    return TransportSocket.newBuilder().setName(TRANSPORT_SOCKET).setTypedConfig(Any.pack(tlsContext)).build();
  }

  /** {@code spiffe://…} identities match the certificate's URI SAN exactly. */
  @SuppressWarnings("deprecation") // match_subject_alt_names: what grpc-java (gRFC A29) and Istio use
  private static CertificateValidationContext.Builder sans(List<String> subjectAltNames) {
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    for (String san : subjectAltNames) v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
    return v;
  }

  private static CertificateProviderPluginInstance instance(String certificateName) {
    return CertificateProviderPluginInstance.newBuilder()
        .setInstanceName(PROVIDER_INSTANCE)
        .setCertificateName(certificateName)
        .build();
  }

  /**
   * A secret the agent serves over the proxy's ADS stream. Istio sets initial_fetch_timeout 0 so
   * that a listener waits for its certificate rather than warming without one.
   */
  private static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder()
        .setName(name)
        .setSdsConfig(ConfigSource.newBuilder()
            .setAds(AggregatedConfigSource.getDefaultInstance())
            .setInitialFetchTimeout(Duration.getDefaultInstance())
            .setResourceApiVersion(ApiVersion.V3))
        .build();
  }
}
