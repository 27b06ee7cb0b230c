package weft.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;

/** {@code weft gateway}: the east-west gateway, routing mTLS by SNI without terminating it. */
@Command(name = "gateway", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "East-west gateway: takes its config over xDS and passes each TLS connection, by SNI "
        + "outbound_.PORT_.SUBSET_.HOST, to a local endpoint without terminating it.")
final class GatewayCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--xds-address", paramLabel = "HOST:PORT", defaultValue = "localhost:15010",
      converter = OptionValues.HostPort.class, description = "Control plane's plaintext xDS.")
  String xdsAddress;

  @Option(names = "--pod-name", defaultValue = "istio-eastwestgateway", description = "Pod name in the node id.")
  String podName;

  @Option(names = "--namespace", defaultValue = "istio-system", description = "Namespace in the node id.")
  String namespace;

  @Option(names = "--ip", required = true, description = "The gateway's own address (node id).")
  String ip;

  @Option(names = "--cluster-id", paramLabel = "ID", defaultValue = "",
      description = "CLUSTER_ID metadata (empty: the control plane's own cluster).")
  String clusterId;

  @Option(names = "--network", paramLabel = "ID", defaultValue = "",
      description = "NETWORK metadata: the network this gateway serves (empty: none).")
  String network;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = {
      "Gateway label; selects Gateway resources; repeatable.", "Default: istio=eastwestgateway."})
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--port", paramLabel = "PORT", defaultValue = "15443", converter = OptionValues.PortOrAny.class,
      description = "Port to accept TLS on (0: any free port, printed).")
  int port;

  @Option(names = "--health-port", paramLabel = "PORT", defaultValue = "15021",
      converter = OptionValues.PortOrAny.class, description = "/healthz and /stats (0: any free port, printed).")
  int healthPort;

  @Override
  public Integer call() throws Exception {
    GatewayOptions options = GatewayOptions.defaults(xdsAddress, podName, ip).withNamespace(namespace)
        .withCluster(clusterId, network).withListen("0.0.0.0", port).withXdsListenerPort(GatewayOptions.DEFAULT_PORT)
        .withHealthPort(healthPort);
    if (!labels.isEmpty()) options = options.withLabels(labels);
    CountDownLatch stop = new CountDownLatch(1);
    try (Gateway gateway = start(options)) {
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "weft-gateway-stop"));
      spec.commandLine().getErr().printf("weft gateway: TLS passthrough on :%d, health on :%d%n", gateway.port(),
          gateway.healthPort());
      spec.commandLine().getErr().flush();
      stop.await();
    }
    return 0;
  }

  private static Gateway start(GatewayOptions options) throws IOException, InterruptedException {
    try {
      return Gateway.start(options);
    } catch (Gateway.ListenException e) {
      String flag = e.which() == Gateway.ListenException.Port.HEALTH ? "--health-port" : "--port";
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (String.valueOf(cause.getMessage()).contains("already in use")) {
        throw new CommandFailure("port " + e.port() + " (" + flag + ") is already in use; stop the process that "
            + "holds it or choose another port with " + flag, e);
      }
      throw new CommandFailure("cannot listen on port " + e.port() + " (" + flag + "): " + cause.getMessage()
          + "; choose another port with " + flag, e);
    }
  }
}
