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
import weft.agent.bootstrap.XdsTransport;

/**
 * {@code weft agent}: the workload side as a separate process, for non-Java workloads. Keeps the
 * workload's certificate files fresh and writes the gRPC xDS bootstrap file.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Obtain and rotate a workload's SPIFFE certificate and write its gRPC xDS bootstrap.")
final class AgentCommand implements Callable<Integer> {
  @Option(names = "--xds-address", paramLabel = "HOST:PORT", defaultValue = "localhost:15010",
      converter = OptionValues.HostPort.class, description = "Control plane's plaintext xDS, written to the bootstrap.")
  String xdsAddress;

  @Option(names = "--xds-mtls", defaultValue = "false", description = "Reach --xds-address over TLS (checked against "
      + "--root-cert), presenting the workload's own certificate: what the secure port (15012) requires unless the "
      + "control plane runs with --xds-auth none. Without it the bootstrap uses plaintext (the 15010 port).")
  boolean xdsMtls;

  @Option(names = "--ca-address", paramLabel = "HOST:PORT", defaultValue = "localhost:15012",
      converter = OptionValues.HostPort.class, description = "Control plane's CA (TLS).")
  String caAddress;

  @Option(names = "--ca-server-name", paramLabel = "NAME", defaultValue = AgentOptions.ISTIOD_SERVER_NAME,
      description = "Name the CA's certificate must carry, whatever address is dialled.")
  String caServerName;

  @Option(names = "--root-cert", required = true, paramLabel = "FILE",
      description = "The mesh root (PEM) to trust the CA with.")
  Path rootCert;

  @Option(names = "--token-file", required = true, paramLabel = "FILE",
      description = "The workload's token (re-read at every renewal).")
  Path tokenFile;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "Folder for cert-chain.pem, key.pem, root-cert.pem and grpc-bootstrap.json (made if missing).")
  Path out;

  @Option(names = "--namespace", required = true, paramLabel = "NS", description = "The workload's namespace.")
  String namespace;

  @Option(names = "--service-account", required = true, paramLabel = "SA",
      description = "The workload's service account: its identity is spiffe://TRUST_DOMAIN/ns/NS/sa/SA.")
  String serviceAccount;

  @Option(names = "--pod-name", required = true, paramLabel = "NAME", description = "Pod name in the node id.")
  String podName;

  @Option(names = "--ip", required = true, description = "The workload's IP in the node id.")
  String ip;

  @Option(names = "--cluster-id", paramLabel = "ID", defaultValue = "cluster1",
      description = "CLUSTER_ID metadata: the cluster the workload runs in.")
  String clusterId;

  @Option(names = "--network", paramLabel = "ID", defaultValue = "",
      description = "NETWORK metadata (empty: the cluster's network).")
  String network;

  @Option(names = "--locality", paramLabel = "REGION/ZONE/SUBZONE", defaultValue = "",
      description = "The workload's locality (empty: none).")
  String locality;

  @Option(names = "--trust-domain", defaultValue = "cluster.local", description = "The mesh's trust domain.")
  String trustDomain;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = {
      "Workload label (LABELS metadata); repeatable.", "Default: none."})
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--cert-ttl", paramLabel = "SECONDS", converter = OptionValues.Positive.class, description = {
      "Certificate lifetime to ask for.", "Default: the CA's (Istio's 24 hours)."})
  Long certTtlSeconds;

  @Override
  public Integer call() throws Exception {
    Paths.requireFile("--root-cert", rootCert, "the mesh root certificate (PEM), e.g. root-cert.pem");
    Paths.requireFile("--token-file", tokenFile, "the workload's token");
    Paths.requireFolderOrAbsent("--out", out);
    AgentOptions options;
    try {
      WorkloadIdentity identity = WorkloadIdentity.builder().trustDomain(trustDomain).namespace(namespace)
          .serviceAccount(serviceAccount).podName(podName).ip(ip).clusterId(clusterId).network(network)
          .labels(labels).locality(locality).build();
      AgentOptions.Builder builder = AgentOptions.builder().identity(identity)
          .xdsServer(xdsAddress, xdsMtls ? XdsTransport.MUTUAL_TLS : XdsTransport.PLAINTEXT).caAddress(caAddress).caServerName(caServerName)
          .rootCertificateFile(rootCert).tokenFile(tokenFile).outputDir(out);
      if (certTtlSeconds != null) builder.certTtl(Duration.ofSeconds(certTtlSeconds));
      options = builder.build();
    } catch (IllegalArgumentException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    WeftAgent.runStandalone(options);
    return 0;
  }
}
