package weft.registry.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The API server of the cluster this process runs in, the way a pod reaches it: the address from
 * {@code KUBERNETES_SERVICE_HOST}/{@code KUBERNETES_SERVICE_PORT}, and the pod's service-account
 * token and CA from the mounted service-account folder. Every input is checked; nothing else is read
 * (fabric8's own auto-configuration would also read {@code ~/.kube/config} and run {@code exec}).
 * The token is re-read for every request, because the kubelet rotates the projected file.
 */
public final class InClusterConfig {
  /** Where the kubelet mounts a pod's service-account token, CA and namespace. */
  public static final Path SERVICE_ACCOUNT_DIR = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
  /** A bound token is a JWT of a few kilobytes; anything far larger is not one. */
  private static final int MAX_TOKEN_BYTES = 64 * 1024;
  private static final int MAX_CA_BYTES = 1024 * 1024;
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]+");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]+");

  private InClusterConfig() {}

  /**
   * The client configuration, or an {@link IllegalArgumentException} that says what is missing or
   * wrong, where, and what to do.
   */
  public static Config read(Map<String, String> env, Path serviceAccountDir) {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.get("KUBERNETES_SERVICE_PORT");
    if (host == null || host.isBlank() || port == null || port.isBlank()) {
      throw new IllegalArgumentException("--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
          + "set: this is not a pod (Kubernetes sets them in every container); give --kubeconfig instead");
    }
    if (!HOST.matcher(host).matches()) {
      throw new IllegalArgumentException("--in-cluster: KUBERNETES_SERVICE_HOST " + quote(host)
          + " is not a host name or IP address");
    }
    int portNumber;
    try {
      portNumber = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      portNumber = -1;
    }
    if (portNumber < 1 || portNumber > 65535) {
      throw new IllegalArgumentException("--in-cluster: KUBERNETES_SERVICE_PORT " + quote(port)
          + " is not a port number (1-65535)");
    }
    Path tokenFile = serviceAccountDir.resolve("token");
    String firstToken = readToken(tokenFile);
    String caPem = readCa(serviceAccountDir.resolve("ca.crt"));
    String server = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + portNumber;
    TokenFile tokens = new TokenFile(tokenFile, firstToken);
    return new ConfigBuilder(Config.empty())
        .withAutoConfigure(false)
        .withMasterUrl(server)
        .withCaCertData(Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)))
        .withOauthTokenProvider(tokens::current)
        .build();
  }

  /** The token file, re-read on every request; a read that fails keeps the last good token. */
  private static final class TokenFile {
    private final Path file;
    private volatile String last;

    TokenFile(Path file, String first) {
      this.file = file;
      this.last = first;
    }

    String current() {
      try {
        last = readToken(file);
      } catch (IllegalArgumentException e) {
        // Mid-rotation or briefly unreadable: the last token is still valid for a while.
      }
      return last;
    }
  }

  static String readToken(Path file) {
    String token = readSmall(file, MAX_TOKEN_BYTES, "the pod's service-account token").strip();
    if (token.isEmpty() || !TOKEN.matcher(token).matches()) {
      throw new IllegalArgumentException("--in-cluster: " + file + " does not hold a bearer token (empty, or "
          + "characters no token has); check the pod's service-account token mount");
    }
    return token;
  }

  private static String readCa(Path file) {
    String pem = readSmall(file, MAX_CA_BYTES, "the cluster's CA certificate");
    try {
      if (CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))).isEmpty()) {
        throw new CertificateException("no certificate in it");
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException("--in-cluster: " + file + " is not a PEM certificate (" + e.getMessage()
          + "); check the pod's service-account mount");
    }
    return pem;
  }

  private static String readSmall(Path file, int max, String what) {
    try {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("--in-cluster: " + file + " (" + what + ") is missing; is "
            + "automountServiceAccountToken off for this pod?");
      }
      if (Files.size(file) > max) {
        throw new IllegalArgumentException("--in-cluster: " + file + " (" + what + ") is larger than " + max
            + " bytes; it is not what the kubelet mounts");
      }
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new IllegalArgumentException("--in-cluster: cannot read " + file + " (" + what + "): " + e.getMessage(),
          e);
    }
  }

  private static String quote(String s) {
    String shown = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
  }
}
