package weft.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;

/**
 * {@code weft agent}: the workload side as a separate process, for non-Java workloads. Keeps the
 * workload's certificate files fresh and writes the gRPC xDS bootstrap file.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = "Obtain and rotate a workload's SPIFFE certificate and write its gRPC xDS bootstrap.")
final class AgentCommand implements Callable<Integer> {
  @Option(names = "--xds-address", defaultValue = "localhost:15010", description = "Control plane xDS (default ${DEFAULT-VALUE}).")
  String xdsAddress;

  @Option(names = "--xds-mtls", description = "Reach --xds-address over TLS (checked against --root-cert), presenting the "
      + "workload's own certificate: what the secure port (15012) requires unless the control plane runs with "
      + "--xds-auth none. Without it the bootstrap uses plaintext (the 15010 port).")
  boolean xdsMtls;

  @Option(names = "--ca-address", defaultValue = "localhost:15012", description = "Control plane CA, TLS (default ${DEFAULT-VALUE}).")
  String caAddress;

  @Option(names = "--ca-server-name", defaultValue = "istiod.istio-system.svc", description = "Name on the CA's certificate.")
  String caServerName;

  @Option(names = "--root-cert", required = true, description = "The mesh root (PEM) to trust the CA with.")
  Path rootCert;

  @Option(names = "--token-file", required = true, description = "The workload's token (re-read at every renewal).")
  Path tokenFile;

  @Option(names = "--out", required = true, description = "Folder for cert-chain.pem, key.pem, root-cert.pem, grpc-bootstrap.json.")
  Path out;

  @Option(names = "--namespace", required = true)
  String namespace;

  @Option(names = "--service-account", required = true)
  String serviceAccount;

  @Option(names = "--pod-name", required = true)
  String podName;

  @Option(names = "--ip", required = true)
  String ip;

  @Option(names = "--cluster-id", defaultValue = "cluster1")
  String clusterId;

  @Option(names = "--network", defaultValue = "")
  String network;

  @Option(names = "--locality", defaultValue = "", description = "region/zone/subzone")
  String locality;

  @Option(names = "--trust-domain", defaultValue = "cluster.local")
  String trustDomain;

  @Option(names = "--label", description = "Workload label KEY=VALUE; repeatable.")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--cert-ttl", description = "Requested certificate lifetime in seconds (default: the CA's).")
  Long certTtlSeconds;

  @Override
  public Integer call() throws Exception {
    WorkloadIdentity identity = WorkloadIdentity.builder().trustDomain(trustDomain).namespace(namespace)
        .serviceAccount(serviceAccount).podName(podName).ip(ip).clusterId(clusterId).network(network)
        .labels(labels).locality(locality).build();
    AgentOptions.Builder options = AgentOptions.builder().identity(identity)
        .xdsServer(xdsAddress, xdsMtls ? weft.agent.bootstrap.XdsTransport.MUTUAL_TLS
            : weft.agent.bootstrap.XdsTransport.PLAINTEXT).caAddress(caAddress).caServerName(caServerName)
        .rootCertificateFile(rootCert).tokenFile(tokenFile).outputDir(out);
    if (certTtlSeconds != null) options.certTtl(Duration.ofSeconds(certTtlSeconds));
    WeftAgent.runStandalone(options.build());
    return 0;
  }
}
