package weft.xds.sds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.ResourceId;
import weft.model.TlsSecret;
import weft.xds.security.TlsContexts;
import weft.xds.Generated;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * The SDS resources a proxy asked for by name, as Istio's SecretGen decides them. A Secret is sent
 * only to a proxy that proved its identity on the secure port ({@link Proxy#servedSecrets}) and
 * only when it lives in that proven namespace, whether the name leaves the namespace implicit
 * ({@code kubernetes://NAME}) or writes it ({@code kubernetes://NS/NAME}); a gateway's Secrets are
 * therefore those of the gateway's own namespace, as in Istio, and a key only when Kubernetes RBAC
 * lets the proxy's service account read Secrets there ({@link SecretAccess}; CA certificates are
 * public). A Gateway API listener's certificate, {@code kubernetes-gateway://NS/NAME}, follows
 * Istio's other rule: sent when a Gateway of the proxy's proven namespace references it and the
 * translation verified that reference (same namespace, or a ReferenceGrant in NS), without RBAC. {@code NAME-cacert} is the CA alone,
 * from the Secret {@code NAME-cacert} if it exists, else from NAME's {@code ca.crt}/{@code cacert}.
 *
 * <p>A name the proxy may not have, or that holds nothing to send, is left out of the answer (an
 * empty answer for it; never a partial secret) and its reason recorded in the view under the
 * name, where {@code /debug/status} shows it and the stream logs it within its budget. Nothing of
 * a Secret's content is ever put in a reason.
 */
public final class SecretResources {
  private SecretResources() {}

  /** Whether the name asks for a Kubernetes Secret (which is then sent or refused with a reason). */
  public static boolean isKubernetesSecret(String resourceName) {
    return SecretName.isKubernetes(resourceName);
  }

  public static SortedMap<String, Generated> generated(ProxyView view, Collection<String> names) {
    SortedMap<String, Generated> out = new TreeMap<>();
    Map<ResourceId, TlsSecret> secrets = view.snapshot().secrets();
    for (String name : names) {
      Secret secret = secret(view, secrets, name);
      if (secret != null) out.put(name, Generated.of(Any.pack(secret)));
    }
    return out;
  }

  private static Secret secret(ProxyView view, Map<ResourceId, TlsSecret> secrets, String name) {
    Proxy proxy = view.proxy();
    SecretName ref = SecretName.parse(name);
    if (ref == null) {
      view.drop(name, "SDS " + name + " is not a Kubernetes Secret name (kubernetes://NAME, kubernetes://NS/NAME or "
          + "kubernetes-gateway://NS/NAME); "
          + "the control plane serves only those, the proxy's agent serves its own certificates");
      return null;
    }
    if (proxy.verifiedNamespace().isEmpty()) {
      view.drop(name, "SDS " + name + " not sent: Secrets go only to a proxy that proved its identity on the "
          + "secure port (15012, --xds-auth certificate|token|any), and this one did not");
      return null;
    }
    String namespace = ref.namespace() != null ? ref.namespace() : proxy.verifiedNamespace();
    if (ref.granted()) {
      // Istio's rule for a Gateway API listener's certificateRefs: only references the translation
      // verified (the Secret in the Gateway's namespace, or a ReferenceGrant there allowing it) for a
      // Gateway of the proxy's proven namespace; Kubernetes RBAC is not asked for these.
      String reference = TlsContexts.KUBERNETES_GATEWAY_SECRET_PREFIX + namespace + "/" + ref.withoutCaSuffix();
      if (!view.snapshot().gatewayCertificates().contains(proxy.verifiedNamespace() + " " + reference)) {
        view.drop(name, "SDS " + name + " not sent: no Gateway API Gateway of namespace " + proxy.verifiedNamespace()
            + " (the proxy's proven namespace) has a verified certificateRef to Secret " + namespace + "/"
            + ref.withoutCaSuffix() + " (in another namespace a ReferenceGrant there must allow it)");
        return null;
      }
    } else if (!namespace.equals(proxy.verifiedNamespace())) {
      view.drop(name, "SDS " + name + " not sent: the Secret is in namespace " + namespace + " and the proxy proved "
          + "namespace " + proxy.verifiedNamespace() + "; a proxy is sent only its own namespace's Secrets");
      return null;
    } else if (!ref.caOnly() && !proxy.servedSecrets()) {
      // CA certificates are public; a key needs the account's right to read Secrets (Istio's SubjectAccessReview).
      view.drop(name, "SDS " + name + " not sent: " + proxy.secretsRefusal());
      return null;
    }
    if (ref.caOnly()) {
      TlsSecret own = secrets.get(new ResourceId("Secret", namespace, ref.name()));
      TlsSecret holder = own != null ? own : secrets.get(new ResourceId("Secret", namespace, ref.withoutCaSuffix()));
      if (holder == null) {
        view.drop(name, "SDS " + name + " not sent: neither Secret " + namespace + "/" + ref.name() + " nor "
            + namespace + "/" + ref.withoutCaSuffix() + " exists (or was accepted)");
        return null;
      }
      if (!holder.hasCaCertificates()) {
        view.drop(name, "SDS " + name + " not sent: Secret " + namespace + "/" + holder.id().name() + " holds no CA "
            + "certificates (data key ca.crt or cacert)");
        return null;
      }
      return Secret.newBuilder().setName(name)
          .setValidationContext(CertificateValidationContext.newBuilder().setTrustedCa(inline(holder.caCertificates())))
          .build();
    }
    TlsSecret s = secrets.get(new ResourceId("Secret", namespace, ref.name()));
    if (s == null) {
      view.drop(name, "SDS " + name + " not sent: Secret " + namespace + "/" + ref.name() + " does not exist (or was "
          + "not accepted; see the config problems)");
      return null;
    }
    if (!s.hasCertificate()) {
      view.drop(name, "SDS " + name + " not sent: Secret " + namespace + "/" + ref.name() + " holds no certificate "
          + "and key (data keys tls.crt and tls.key, or cert and key)");
      return null;
    }
    return Secret.newBuilder().setName(name)
        .setTlsCertificate(TlsCertificate.newBuilder()
            .setCertificateChain(inline(s.certificateChain()))
            .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(s.privateKey().pem()))))
        .build();
  }

  private static DataSource inline(String pem) {
    return DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.US_ASCII)).build();
  }
}
