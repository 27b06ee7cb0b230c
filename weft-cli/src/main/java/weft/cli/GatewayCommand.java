package weft.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;

/** {@code weft gateway}: the east-west gateway, routing mTLS by SNI without terminating it. */
@Command(name = "gateway", mixinStandardHelpOptions = true,
    description = "East-west gateway: takes its config over xDS and passes each TLS connection, by SNI "
        + "outbound_.PORT_.SUBSET_.HOST, to a local endpoint without terminating it.")
final class GatewayCommand implements Callable<Integer> {
  @Option(names = "--xds-address", defaultValue = "localhost:15010", description = "Control plane xDS (default ${DEFAULT-VALUE}).")
  String xdsAddress;

  @Option(names = "--pod-name", defaultValue = "istio-eastwestgateway", description = "Default ${DEFAULT-VALUE}.")
  String podName;

  @Option(names = "--namespace", defaultValue = "istio-system", description = "Default ${DEFAULT-VALUE}.")
  String namespace;

  @Option(names = "--ip", required = true, description = "The gateway's own address (node id).")
  String ip;

  @Option(names = "--cluster-id", defaultValue = "", description = "CLUSTER_ID metadata.")
  String clusterId;

  @Option(names = "--network", defaultValue = "", description = "NETWORK metadata: the network this gateway serves.")
  String network;

  @Option(names = "--label", description = "Gateway label KEY=VALUE (selects Gateway resources; default istio=eastwestgateway).")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--port", defaultValue = "15443", description = "Port to listen on (default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--health-port", defaultValue = "15021", description = "/healthz and /stats (default ${DEFAULT-VALUE}).")
  int healthPort;

  @Override
  public Integer call() throws Exception {
    GatewayOptions options = GatewayOptions.defaults(xdsAddress, podName, ip).withNamespace(namespace)
        .withCluster(clusterId, network).withListen("0.0.0.0", port).withXdsListenerPort(15443)
        .withHealthPort(healthPort);
    if (!labels.isEmpty()) options = options.withLabels(labels);
    CountDownLatch stop = new CountDownLatch(1);
    try (Gateway gateway = Gateway.start(options)) {
      Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "weft-gateway-stop"));
      System.err.printf("weft gateway: TLS passthrough on :%d, health on :%d%n", gateway.port(), gateway.healthPort());
      stop.await();
    }
    return 0;
  }
}
