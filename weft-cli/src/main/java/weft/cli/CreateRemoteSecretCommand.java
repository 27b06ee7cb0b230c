package weft.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.operator.RemoteSecretMaker;

@Command(name = "create-remote-secret", mixinStandardHelpOptions = true,
    description = "Give a control plane read access to a cluster: creates a read-only service account there "
        + "and prints the Istio-format remote Secret (kubeconfig with its token) to stdout.")
final class CreateRemoteSecretCommand implements Callable<Integer> {
  @Option(names = "--kubeconfig", required = true, description = "Kubeconfig of the cluster to be discovered.")
  Path kubeconfig;

  @Option(names = "--context", description = "Context in the kubeconfig (default: its current context).")
  String context;

  @Option(names = "--name", required = true, description = "The cluster's id in the mesh (its CLUSTER_ID).")
  String clusterId;

  @Option(names = "--namespace", defaultValue = "istio-system", description = "Where the account and Secret live (default ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = "--service-account", defaultValue = "istio-reader-service-account",
      description = "The read-only account to create (default ${DEFAULT-VALUE}).")
  String serviceAccount;

  @Option(names = "--token-seconds", defaultValue = "31536000", description = "Token lifetime (default one year).")
  long tokenSeconds;

  @Override
  public Integer call() throws Exception {
    Config config = Config.fromKubeconfig(context, Files.readString(kubeconfig), kubeconfig.toString());
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      System.out.print(RemoteSecretMaker.toYaml(
          new RemoteSecretMaker(client).make(clusterId, namespace, serviceAccount, tokenSeconds)));
    }
    return 0;
  }
}
