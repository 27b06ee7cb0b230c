package weft.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadCertificates;
import weft.agent.cert.TokenSource;
import weft.agent.cert.TrustRoots;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;
import weft.security.SpiffeId;

/** {@code weft gateway}: the east-west gateway, routing mTLS by SNI without terminating it. */
@Command(name = "gateway", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "East-west gateway: takes its config over xDS and passes each TLS connection, by SNI "
        + "outbound_.PORT_.SUBSET_.HOST, to a local endpoint without terminating it.")
final class GatewayCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--xds-address", paramLabel = "HOST:PORT", defaultValue = "localhost:15010",
      converter = OptionValues.HostPort.class, description = "Control plane's xDS: the plaintext port, or with "
      + "--token-file the secure port (15012), reached with mutual TLS and the gateway's own certificate.")
  String xdsAddress;

  @Option(names = "--ca-address", paramLabel = "HOST:PORT", converter = OptionValues.HostPort.class, description = {
      "Control plane's CA (TLS), with --token-file. Repeatable: a renewal goes to whichever answers, the last to "
          + "answer first.", "Default: --xds-address."})
  List<String> caAddresses = new ArrayList<>();

  @Option(names = "--ca-server-name", paramLabel = "NAME", defaultValue = AgentOptions.ISTIOD_SERVER_NAME,
      description = "Name the control plane's certificate must carry (CA and secure xDS), whatever address is dialled.")
  String caServerName;

  @Option(names = "--token-file", paramLabel = "FILE", description = {
      "The gateway's token (re-read at every renewal). Turns on its workload certificate: asked of --ca-address, "
          + "renewed at half-life, and presented on the xDS channel to --xds-address, which must then be the "
          + "secure port. Needs --root-cert.", "Default: none (plaintext xDS, no certificate)."})
  Path tokenFile;

  @Option(names = "--root-cert", paramLabel = "FILE", description = {
      "The mesh root (PEM) the control plane's certificate is checked against; with --token-file.",
      "Default: none."})
  Path rootCert;

  @Option(names = "--service-account", paramLabel = "SA", defaultValue = "istio-eastwestgateway",
      description = "The gateway's service account: its certificate is for spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SA "
          + "(the token's own), and the secure port serves router config only to a gateway's service account.")
  String serviceAccount;

  @Option(names = "--trust-domain", defaultValue = "cluster.local", description = "The mesh's trust domain.")
  String trustDomain;

  @Option(names = "--cert-ttl", paramLabel = "SECONDS", converter = OptionValues.Positive.class, description = {
      "Certificate lifetime to ask for (with --token-file).", "Default: the CA's (Istio's 24 hours)."})
  Long certTtlSeconds;

  @Option(names = "--cert-dir", paramLabel = "DIR", description = {
      "Folder for the gateway's cert-chain.pem, key.pem and root-cert.pem (made if missing).",
      "Default: an owner-only temporary folder, deleted on exit."})
  Path certDir;

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
    if ((tokenFile == null) != (rootCert == null)) {
      throw new CommandFailure("--token-file and --root-cert go together: the gateway's certificate needs a token "
          + "to ask for it and the mesh root to check the control plane; give both, or neither for plaintext xDS");
    }
    if (tokenFile == null && !caAddresses.isEmpty()) {
      throw new CommandFailure("--ca-address needs --token-file and --root-cert: without them the gateway asks for "
          + "no certificate");
    }
    Paths.requireFile("--token-file", tokenFile, "the gateway's token");
    Paths.requireFile("--root-cert", rootCert, "the mesh root certificate (PEM), e.g. root-cert.pem");
    Paths.requireFolderOrAbsent("--cert-dir", certDir);
    CountDownLatch stop = new CountDownLatch(1);
    Thread hook = new Thread(stop::countDown, "weft-gateway-stop");
    try (SecureXds secure = tokenFile == null ? null : secureXds();
        Gateway gateway = start(options, secure)) {
      Runtime.getRuntime().addShutdownHook(hook);
      spec.commandLine().getErr().printf("weft gateway: TLS passthrough on :%d, health on :%d%s%n", gateway.port(),
          gateway.healthPort(), secure == null ? "" : ", xDS over mutual TLS as " + secure.id());
      spec.commandLine().getErr().flush();
      try {
        stop.await();
      } catch (InterruptedException e) {
        // Stopped by whoever runs the command in-process: a clean stop, like Ctrl-C.
        Thread.currentThread().interrupt();
      }
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException | IllegalArgumentException e) {
        // shutting down already, or never added
      }
    }
    return 0;
  }

  /** The gateway's certificate, obtained before it starts, and the files' owner-only folder if it made one. */
  private SecureXds secureXds() throws IOException {
    SpiffeId id;
    try {
      id = new SpiffeId(trustDomain, namespace, serviceAccount);
    } catch (IllegalArgumentException e) {
      throw new CommandFailure("--trust-domain, --namespace or --service-account: " + e.getMessage(), e);
    }
    Path dir = certDir;
    Path temporary = null;
    if (dir == null) {
      temporary = Files.createTempDirectory("weft-gateway-certs", PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
      dir = temporary;
    }
    List<String> cas = caAddresses.isEmpty() ? List.of(xdsAddress) : caAddresses;
    try {
      WorkloadCertificates certificates = WorkloadCertificates.start(id, cas, caServerName, TrustRoots.file(rootCert),
          TokenSource.file(tokenFile), clusterId, dir, certTtlSeconds == null ? null : Duration.ofSeconds(certTtlSeconds),
          CERTIFICATE_WAIT);
      return new SecureXds(id, certificates, temporary);
    } catch (WeftAgent.AgentException | IllegalArgumentException e) {
      deleteQuietly(temporary);
      throw new CommandFailure("cannot get the gateway's certificate: " + e.getMessage()
          + "; check --ca-address, --token-file and --root-cert", e);
    }
  }

  // As the agent's default start timeout: long enough for a control plane that is still starting.
  private static final Duration CERTIFICATE_WAIT = Duration.ofSeconds(60);

  /** The certificate the gateway presents on its xDS channel, for as long as it runs. */
  private record SecureXds(SpiffeId id, WorkloadCertificates certificates, Path temporaryDir) implements AutoCloseable {
    @Override
    public void close() {
      certificates.close();
      deleteQuietly(temporaryDir);
    }
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) return;
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // best effort: the folder is owner-only
    }
  }

  private Gateway start(GatewayOptions options, SecureXds secure) throws IOException, InterruptedException {
    try {
      return secure == null ? Gateway.start(options)
          : Gateway.start(options, secure.certificates().mutualTls(), caServerName);
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
