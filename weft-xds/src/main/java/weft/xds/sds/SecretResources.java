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
import weft.xds.Generated;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * The SDS resources a proxy asked for by name, as Istio's SecretGen decides them. A Secret is sent
 * only to a proxy that proved its identity on the secure port ({@link Proxy#servedSecrets}) and
 * only when it lives in that proven namespace, whether the name leaves the namespace implicit
 * ({@code kubernetes://NAME}) or writes it ({@code kubernetes://NS/NAME}); a gateway's Secrets are
 * therefore those of the gateway's own namespace, as in Istio. {@code NAME-cacert} is the CA alone,
 * from the Secret {@code NAME-cacert} if it exists, else from NAME's {@code ca.crt}/{@code cacert}.
 *
 * <p>A name the proxy may not have, or that holds nothing to send, is left out of the answer (an
 * empty answer for it; never a partial secret) and its reason recorded in the view under the
 * name, where {@code /debug/status} shows it and the stream logs it within its budget. Nothing of
 * a Secret's content is ever put in a reason.
 */
public final class SecretResources {
  private SecretResources() {}

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
      view.drop(name, "SDS " + name + " is not a Kubernetes Secret name (kubernetes://NAME or kubernetes://NS/NAME); "
          + "the control plane serves only those, the proxy's agent serves its own certificates");
      return null;
    }
    if (!proxy.servedSecrets()) {
      view.drop(name, "SDS " + name + " not sent: Secrets go only to a proxy that proved its identity on the "
          + "secure port (15012, --xds-auth certificate|token|any), and this one did not");
      return null;
    }
    String namespace = ref.namespace() != null ? ref.namespace() : proxy.verifiedNamespace();
    if (!namespace.equals(proxy.verifiedNamespace())) {
      view.drop(name, "SDS " + name + " not sent: the Secret is in namespace " + namespace + " and the proxy proved "
          + "namespace " + proxy.verifiedNamespace() + "; a proxy is sent only its own namespace's Secrets");
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
