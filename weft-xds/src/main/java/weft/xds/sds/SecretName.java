package weft.xds.sds;

import java.util.regex.Pattern;
import weft.xds.security.TlsContexts;

/**
 * A Kubernetes Secret as an SDS resource name, parsed as Istio's credentials.ParseResourceName
 * does: {@code kubernetes://NAME} (in the proxy's namespace) or {@code kubernetes://NAMESPACE/NAME};
 * a name ending in {@code -cacert} asks for the CA certificates alone. A Gateway API listener's
 * Secret in another namespace is {@code kubernetes-gateway://NAMESPACE/NAME}: the namespace is then
 * required, and a ReferenceGrant there decides who may have it.
 *
 * @param namespace the namespace written in the name, or null when the proxy's own is meant
 * @param name the Secret's name as asked for (with {@code -cacert} when {@code caOnly})
 * @param caOnly only the CA certificates are asked for
 * @param granted named by {@code kubernetes-gateway://}: another namespace's Secret that a
 *     ReferenceGrant may open to Gateways of the proxy's namespace
 */
record SecretName(String namespace, String name, boolean caOnly, boolean granted) {
  /** Kubernetes' rules: a namespace is a DNS-1123 label, a Secret's name a DNS-1123 subdomain. */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern SUBDOMAIN = Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?"
      + "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** Whether this is a Kubernetes Secret's SDS name (well formed or not). */
  static boolean isKubernetes(String resourceName) {
    return resourceName.startsWith(TlsContexts.KUBERNETES_SECRET_PREFIX)
        || resourceName.startsWith(TlsContexts.KUBERNETES_GATEWAY_SECRET_PREFIX);
  }

  /** The parsed name, or null when it is not a Kubernetes Secret's SDS name. */
  static SecretName parse(String resourceName) {
    boolean granted = resourceName.startsWith(TlsContexts.KUBERNETES_GATEWAY_SECRET_PREFIX);
    String prefix = granted ? TlsContexts.KUBERNETES_GATEWAY_SECRET_PREFIX : TlsContexts.KUBERNETES_SECRET_PREFIX;
    if (!resourceName.startsWith(prefix)) return null;
    String rest = resourceName.substring(prefix.length());
    String namespace = null;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      namespace = rest.substring(0, slash);
      rest = rest.substring(slash + 1);
      if (!LABEL.matcher(namespace).matches()) return null;
    }
    if (granted && namespace == null) return null;
    if (!SUBDOMAIN.matcher(rest).matches()) return null;
    return new SecretName(namespace, rest, rest.endsWith(TlsContexts.CA_CERT_SUFFIX), granted);
  }

  /** The Secret that holds the CA when only the CA is asked for and no {@code NAME-cacert} Secret exists. */
  String withoutCaSuffix() {
    return caOnly ? name.substring(0, name.length() - TlsContexts.CA_CERT_SUFFIX.length()) : name;
  }
}
