package weft.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import weft.operator.KubeconfigFile;
import weft.operator.RemoteSecretMaker;

@Command(name = "create-remote-secret", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Give a control plane read access to a cluster: creates a read-only service account there "
        + "and prints the Istio-format remote Secret (kubeconfig with its token) to stdout.")
final class CreateRemoteSecretCommand implements Callable<Integer> {
  /** The API server's minimum for a TokenRequest's expirationSeconds. */
  private static final long MIN_TOKEN_SECONDS = 600;

  @Spec
  CommandSpec spec;

  @Option(names = "--kubeconfig", required = true, paramLabel = "FILE",
      description = "Kubeconfig of the cluster to be discovered (credential plugins such as exec are not run).")
  Path kubeconfig;

  @Option(names = "--context", paramLabel = "NAME",
      description = {"Context in the kubeconfig; one it does not have is an error.",
          "Default: the kubeconfig's current-context."})
  String context;

  @Option(names = "--name", required = true, paramLabel = "CLUSTER_ID",
      description = "The cluster's id in the mesh (its CLUSTER_ID).")
  String clusterId;

  @Option(names = "--namespace", defaultValue = "istio-system", description = "Where the account and Secret live.")
  String namespace;

  @Option(names = "--service-account", defaultValue = "istio-reader-service-account",
      description = "The read-only account to create.")
  String serviceAccount;

  @Option(names = "--token-seconds", defaultValue = "31536000", converter = OptionValues.Positive.class,
      description = "Token lifetime in seconds (one year; the API server's minimum is 600).")
  long tokenSeconds;

  @Option(names = "--connect-timeout", defaultValue = "5", converter = OptionValues.Positive.class,
      paramLabel = "SECONDS", description = "How long to wait for the API server to accept a connection.")
  long connectTimeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (clusterId.isBlank()) throw new CommandFailure("--name is empty; give the cluster's id in the mesh");
    if (tokenSeconds < MIN_TOKEN_SECONDS) {
      throw new CommandFailure("--token-seconds " + tokenSeconds + " is below the API server's minimum of "
          + MIN_TOKEN_SECONDS);
    }
    Config config;
    try {
      config = KubeconfigFile.read(kubeconfig, context);
    } catch (KubeconfigFile.Problem e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    // One attempt, bounded: an unreachable server is reported at once, not after fabric8's retries.
    int timeoutMillis = Math.toIntExact(Math.min(Integer.MAX_VALUE, connectTimeoutSeconds * 1000));
    config.setConnectionTimeout(timeoutMillis);
    config.setRequestTimeout(Math.max(timeoutMillis, 10_000));
    config.setRequestRetryBackoffLimit(0);
    String server = config.getMasterUrl().replaceAll("/$", "");
    String where = "the API server " + server + " (" + (context == null ? "current context" : "context " + context)
        + " of " + kubeconfig + ")";
    String yaml;
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      yaml = RemoteSecretMaker.toYaml(new RemoteSecretMaker(client).make(clusterId, namespace, serviceAccount,
          tokenSeconds));
    } catch (KubernetesClientException e) {
      throw new CommandFailure(describe(e, where), e);
    } catch (IOException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(yaml);
    out.flush();
    return 0;
  }

  private String describe(KubernetesClientException e, String where) {
    if (e.getCode() == 401) {
      return where + " did not accept the credentials (401 Unauthorized); refresh them or use another --context";
    }
    if (e.getCode() == 403) {
      return where + " refused (403 Forbidden): the user needs rights to create service accounts in "
          + namespace + ", cluster roles and cluster role bindings; use an admin context";
    }
    if (e.getCode() > 0) {
      return where + " answered " + e.getCode() + ": " + firstLine(e.getStatus() != null
          && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage());
    }
    String why;
    if (causedBy(e, HttpConnectTimeoutException.class) || causedBy(e, java.net.SocketTimeoutException.class)
        || causedBy(e, java.net.http.HttpTimeoutException.class)) {
      why = "no connection within " + connectTimeoutSeconds + " s (--connect-timeout)";
    } else if (causedBy(e, ConnectException.class)) {
      why = "connection refused";
    } else if (causedBy(e, UnknownHostException.class) || causedBy(e, java.nio.channels.UnresolvedAddressException.class)) {
      why = "unknown host";
    } else if (causedBy(e, javax.net.ssl.SSLException.class)) {
      why = "TLS failed: " + firstLine(rootCause(e).getMessage());
    } else {
      why = firstLine(rootCause(e).toString());
    }
    return "cannot reach " + where + ": " + why + "; check that the cluster is up and the kubeconfig's server address";
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) return true;
    }
    return false;
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t;
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
