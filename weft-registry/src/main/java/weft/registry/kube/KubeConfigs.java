package weft.registry.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one way Weft turns a kubeconfig into a fabric8 client {@link Config}: remote secrets, the
 * secrets folder and {@code --kubeconfig} all come through here.
 *
 * <p>A kubeconfig is read by {@link KubeconfigReader} (strict, whitelisted fields only) and the
 * client is built from those fields on {@code new ConfigBuilder(Config.empty())} with
 * auto-configuration off. fabric8 never sees the text: {@code Config.fromKubeconfig} would run
 * {@code exec} plugins and read files while parsing, and auto-configuration reads
 * {@code ~/.kube/config}, {@code KUBECONFIG}, {@code kubernetes.*} system properties and the
 * pod's service-account token. In fabric8 7.5.2, {@code Config.empty()} carries
 * {@code autoConfigure=false} and {@code ConfigBuilder.build()} runs auto-configuration only when
 * that flag is true (or unset and not disabled by property), so setting it false explicitly keeps
 * the environment out even if the copy from {@code empty()} ever changed; a {@code Config} without
 * a file and with auto-configuration off also refreshes to itself on a 401, reading nothing.
 */
public final class KubeConfigs {
  /**
   * The largest kubeconfig or Secret read: Kubernetes' own limit for a Secret's data (1 MiB), so
   * nothing a real API server would store is refused, and nothing bigger is parsed.
   */
  public static final int MAX_BYTES = 1024 * 1024;

  /** A client configuration and what was accepted with a warning (field path → message). */
  public record Checked(Config config, Map<String, String> warnings) {
    public Checked {
      warnings = Map.copyOf(warnings);
    }
  }

  private KubeConfigs() {}

  /**
   * Checks and reads a remote secret's kubeconfig, using its current context. {@code secretRef} and
   * {@code clusterId} only name the input in errors.
   */
  public static Checked parse(String secretRef, String clusterId, String kubeconfigYaml)
      throws InvalidKubeconfigException {
    if (kubeconfigYaml != null && kubeconfigYaml.length() > MAX_BYTES) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "", "is " + kubeconfigYaml.length()
          + " characters long; at most " + MAX_BYTES + " (1 MiB, Kubernetes' limit for a Secret) are read");
    }
    try {
      Kubeconfig k = KubeconfigReader.read(kubeconfigYaml, null);
      return new Checked(config(k), k.warnings());
    } catch (KubeconfigReader.Refused e) {
      throw new InvalidKubeconfigException(secretRef, clusterId, e.field, e.problem);
    } catch (RuntimeException e) {
      throw new InvalidKubeconfigException(secretRef, clusterId, "", "cannot be used ("
          + KubeconfigReader.clean(String.valueOf(e)) + ")");
    }
  }

  /**
   * Reads a kubeconfig file of the control plane's own cluster ({@code --kubeconfig}) by the same
   * rules, at most {@link #MAX_BYTES}. {@code context} null means its current context.
   */
  public static Checked readFile(Path file, String clusterId, String context) throws InvalidKubeconfigException {
    return readFile("--kubeconfig", file, clusterId, context);
  }

  /** As {@link #readFile(Path, String, String)}, for the file a given flag names (in errors). */
  public static Checked readFile(String flag, Path file, String clusterId, String context)
      throws InvalidKubeconfigException {
    String ref = flag + " " + file;
    String advice = "; write one with only the control plane's context and everything inline, for example with "
        + "kubectl config view --minify --flatten --context NAME";
    if (!Files.isRegularFile(file)) {
      throw new InvalidKubeconfigException(ref, clusterId, "", Files.exists(file) ? "is not a regular file"
          : "does not exist");
    }
    String text;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new InvalidKubeconfigException(ref, clusterId, "", "is larger than " + MAX_BYTES + " bytes (1 MiB)"
            + advice);
      }
      text = new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidKubeconfigException(ref, clusterId, "", "cannot be read (" + e.getMessage() + ")");
    }
    try {
      Kubeconfig k = KubeconfigReader.read(text, context);
      return new Checked(config(k), k.warnings());
    } catch (KubeconfigReader.Refused e) {
      throw new InvalidKubeconfigException(ref, clusterId, e.field, e.problem + advice);
    } catch (RuntimeException e) {
      throw new InvalidKubeconfigException(ref, clusterId, "", "cannot be used ("
          + KubeconfigReader.clean(String.valueOf(e)) + ")");
    }
  }

  /** The client configuration of checked fields, and nothing from the environment. */
  static Config config(Kubeconfig k) {
    ConfigBuilder b = new ConfigBuilder(Config.empty())
        .withAutoConfigure(false)
        .withMasterUrl(k.server())
        .withTrustCerts(k.skipTlsVerify())
        .withDisableHostnameVerification(k.skipTlsVerify())
        .withCaCertData(k.caData())
        .withOauthToken(k.token())
        .withClientCertData(k.clientCertData())
        .withClientKeyData(k.clientKeyData())
        .withUsername(k.username())
        .withPassword(k.password())
        .withImpersonateUsername(k.impersonateUser());
    if (k.clientKeyAlgorithm() != null) b.withClientKeyAlgo(k.clientKeyAlgorithm());
    if (!k.impersonateGroups().isEmpty()) b.withImpersonateGroups(k.impersonateGroups().toArray(String[]::new));
    if (!k.impersonateExtra().isEmpty()) b.withImpersonateExtras(k.impersonateExtra());
    if (k.proxyUrl() != null) {
      URI proxy = URI.create(k.proxyUrl());
      String withoutUser = proxy.getScheme() + "://" + proxy.getHost() + (proxy.getPort() < 0 ? "" : ":"
          + proxy.getPort());
      b.withHttpProxy(withoutUser).withHttpsProxy(withoutUser);
      if (proxy.getRawUserInfo() != null) {
        String[] userPassword = proxy.getRawUserInfo().split(":", 2);
        b.withProxyUsername(URLDecoder.decode(userPassword[0], StandardCharsets.UTF_8));
        if (userPassword.length > 1) b.withProxyPassword(URLDecoder.decode(userPassword[1], StandardCharsets.UTF_8));
      }
    }
    return b.build();
  }
}
