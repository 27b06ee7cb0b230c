package weft.registry.kube;

import java.util.List;
import java.util.Map;

/**
 * The fields of one kubeconfig context that Weft uses, each already checked; nothing else of the
 * kubeconfig survives the reading. Null means "not set".
 *
 * @param context the context these fields come from
 * @param server the API server's URL (http or https)
 * @param caData PEM certificates to trust, base64, or null for the JVM's trust store
 * @param skipTlsVerify the kubeconfig turns certificate checks off (allowed, with a warning)
 * @param proxyUrl an {@code http://} proxy to reach the server through
 * @param token a bearer token
 * @param clientCertData a client certificate (PEM, base64), always with {@code clientKeyData}
 * @param clientKeyAlgorithm {@code RSA} or {@code EC}, the type of {@code clientKeyData}
 * @param warnings what was accepted but deserves a look, field path → message
 */
record Kubeconfig(String context, String server, String caData, boolean skipTlsVerify, String proxyUrl,
    String token, String clientCertData, String clientKeyData, String clientKeyAlgorithm, String username,
    String password, String impersonateUser, List<String> impersonateGroups,
    Map<String, List<String>> impersonateExtra, Map<String, String> warnings) {
  Kubeconfig {
    impersonateGroups = List.copyOf(impersonateGroups);
    impersonateExtra = Map.copyOf(impersonateExtra);
    warnings = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(warnings));
  }
}
