package weft.xds.sds;

import java.util.regex.Pattern;
import weft.xds.security.TlsContexts;

/**
 * A Kubernetes Secret as an SDS resource name, parsed as Istio's credentials.ParseResourceName
 * does: {@code kubernetes://NAME} (in the proxy's namespace) or {@code kubernetes://NAMESPACE/NAME};
 * a name ending in {@code -cacert} asks for the CA certificates alone.
 *
 * @param namespace the namespace written in the name, or null when the proxy's own is meant
 * @param name the Secret's name as asked for (with {@code -cacert} when {@code caOnly})
 * @param caOnly only the CA certificates are asked for
 */
record SecretName(String namespace, String name, boolean caOnly) {
  /** Kubernetes' rules: a namespace is a DNS-1123 label, a Secret's name a DNS-1123 subdomain. */
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern SUBDOMAIN = Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?"
      + "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  /** The parsed name, or null when it is not a Kubernetes Secret's SDS name. */
  static SecretName parse(String resourceName) {
    if (!resourceName.startsWith(TlsContexts.KUBERNETES_SECRET_PREFIX)) return null;
    String rest = resourceName.substring(TlsContexts.KUBERNETES_SECRET_PREFIX.length());
    String namespace = null;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      namespace = rest.substring(0, slash);
      rest = rest.substring(slash + 1);
      if (!LABEL.matcher(namespace).matches()) return null;
    }
    if (!SUBDOMAIN.matcher(rest).matches()) return null;
    return new SecretName(namespace, rest, rest.endsWith(TlsContexts.CA_CERT_SUFFIX));
  }

  /** The Secret that holds the CA when only the CA is asked for and no {@code NAME-cacert} Secret exists. */
  String withoutCaSuffix() {
    return caOnly ? name.substring(0, name.length() - TlsContexts.CA_CERT_SUFFIX.length()) : name;
  }
}
