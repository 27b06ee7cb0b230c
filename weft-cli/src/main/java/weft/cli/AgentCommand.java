package weft.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
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
      converter = OptionValues.HostPort.class, description = "Control plane's xDS: written to the bootstrap, or "
      + "with --xds-proxy-port dialled by the agent. Repeatable (control planes of one mesh); a HOST that resolves "
      + "to several addresses stands for all of them. More than one needs --xds-proxy-port.")
  List<String> xdsAddresses;

  @Option(names = "--xds-proxy-port", paramLabel = "PORT", converter = OptionValues.PortOrAny.class, description = {
      "Serve xDS to the workload on this loopback port (plaintext; 0: any free port) and point the bootstrap at it. "
          + "The agent then holds the stream to --xds-address itself (with the workload certificate under --xds-mtls) "
          + "and moves it to another control plane within 5 s when one dies or stops answering; the workload keeps "
          + "its config meanwhile.", "Default: off (the workload dials --xds-address itself)."})
  Integer xdsProxyPort;

  @Option(names = "--xds-mtls", defaultValue = "false", description = "Reach --xds-address over TLS (checked against "
      + "--root-cert, and as --ca-server-name when the proxy dials), presenting the workload's own certificate: what "
      + "the secure port (15012) requires unless the control plane runs with --xds-auth none. Without it, plaintext "
      + "(the 15010 port).")
  boolean xdsMtls;

  @Option(names = "--ca-address", paramLabel = "HOST:PORT", defaultValue = "localhost:15012",
      converter = OptionValues.HostPort.class, description = "Control plane's CA (TLS). Repeatable: a renewal goes "
      + "to whichever answers, the last to answer first.")
  List<String> caAddresses;

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

  @Option(names = "--mesh-id", paramLabel = "ID", defaultValue = "", description = {
      "MESH_ID metadata: the mesh the workload belongs to (MeshConfig defaultConfig.meshId).",
      "Default: the trust domain."})
  String meshId;

  @Option(names = "--trust-domain-alias", paramLabel = "DOMAIN", description = {
      "Another name of --trust-domain (MeshConfig trustDomainAliases): identities in it are checked against our "
          + "roots in the SPIFFE bundle map. Repeatable.", "Default: none."})
  List<String> trustDomainAliases = new java.util.ArrayList<>();

  @Option(names = "--peer-trust-bundle", paramLabel = "DOMAIN=FILE", description = {
      "A peer trust domain and a PEM file of its roots: written under that domain only into "
          + "spiffe-bundle-map.json beside the certificates (gRFC A87; grpc-java reads it when "
          + "GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true). Re-read at each rotation. Repeatable.", "Default: none."})
  Map<String, Path> peerTrustBundles = new LinkedHashMap<>();

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = {
      "Workload label (LABELS metadata); repeatable.", "Default: none."})
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--auto-register-group", paramLabel = "NAME", description = {
      "Join the WorkloadGroup NAME of --namespace (node metadata AUTO_REGISTER_GROUP): the control plane "
          + "registers this workload as a WorkloadEntry from the group's template while it is connected, if "
          + "its certificate or token is the group's service account.", "Default: none."})
  String autoRegisterGroup;

  @Option(names = "--cert-ttl", paramLabel = "SECONDS", converter = OptionValues.Positive.class, description = {
      "Certificate lifetime to ask for.", "Default: the CA's (Istio's 24 hours)."})
  Long certTtlSeconds;

  @Option(names = "--dns-port", paramLabel = "PORT", converter = OptionValues.PortOrAny.class, description = {
      "Answer DNS on this port (UDP and TCP; Istio's is 15053; 0: any free port): mesh names (A, AAAA, SRV, PTR, "
          + "and the search forms name, name.ns, name.ns.svc relative to --namespace) from the workload's name table, "
          + "which the agent subscribes to over xDS; names under svc.cluster.local that nobody serves are NXDOMAIN; "
          + "other names go to --dns-upstream, cached by TTL. glibc resolvers only use port 53: give --dns-port 53 "
          + "with --dns-address 127.0.0.1 in the workload's network namespace (see README).",
      "Default: off."})
  Integer dnsPort;

  @Option(names = "--dns-address", paramLabel = "IP", defaultValue = "127.0.0.1", converter = IpLiteral.class,
      description = "Address the DNS listens on (with --dns-port).")
  InetAddress dnsAddress;

  @Option(names = "--dns-upstream", paramLabel = "IP[:PORT]", converter = DnsUpstream.class, description = {
      "Where names outside the mesh are forwarded (IPv6 as [ADDR]:PORT). Repeatable. The agent's own address is "
          + "never used.", "Default: the nameservers of /etc/resolv.conf."})
  List<InetSocketAddress> dnsUpstreams;

  @Option(names = "--dns-rate-limit", paramLabel = "QPS", defaultValue = "1000", converter = OptionValues.Positive.class,
      description = "DNS queries per second answered from one source address (bursts of twice as many); the rest "
          + "get no answer.")
  long dnsRateLimit;

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
          .xdsServers(xdsAddresses, xdsMtls ? XdsTransport.MUTUAL_TLS : XdsTransport.PLAINTEXT)
          .xdsProxyPort(xdsProxyPort).caAddresses(caAddresses).caServerName(caServerName)
          .rootCertificateFile(rootCert).tokenFile(tokenFile).outputDir(out);
      trustDomainAliases.forEach(builder::trustDomainAlias);
      String mesh = meshId.isEmpty() ? trustDomain : meshId;
      if (!mesh.matches("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")) {
        throw new IllegalArgumentException("--mesh-id '" + weft.model.text.ClientText.forLog(mesh) + "' is not a mesh "
            + "id: lower-case letters, digits, '.' and '-' (as MeshConfig defaultConfig.meshId), e.g. mesh1");
      }
      builder.metadata("MESH_ID", mesh);
      if (autoRegisterGroup != null) {
        if (!autoRegisterGroup.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
          throw new IllegalArgumentException("--auto-register-group '"
              + weft.model.text.ClientText.forLog(autoRegisterGroup) + "' is not a WorkloadGroup name (a DNS-1123 "
              + "subdomain: lower-case letters, digits, '-' and '.')");
        }
        builder.metadata("AUTO_REGISTER_GROUP", autoRegisterGroup);
      }
      for (Map.Entry<String, Path> peer : peerTrustBundles.entrySet()) {
        Paths.requireFile("--peer-trust-bundle " + peer.getKey(), peer.getValue(), "the peer's root certificates (PEM)");
        builder.peerTrustBundle(peer.getKey(), peer.getValue());
      }
      if (certTtlSeconds != null) builder.certTtl(Duration.ofSeconds(certTtlSeconds));
      if (dnsPort != null) {
        int qps = (int) Math.min(dnsRateLimit, Integer.MAX_VALUE / 2);
        builder.dnsPort(dnsPort).dnsListenAddress(dnsAddress).dnsRateLimit(qps, 2 * qps);
        if (dnsUpstreams != null && !dnsUpstreams.isEmpty()) builder.dnsUpstreams(dnsUpstreams);
      }
      options = builder.build();
    } catch (IllegalArgumentException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    WeftAgent.runStandalone(options);
    return 0;
  }

  /** An IP literal, never a name to look up. */
  static final class IpLiteral implements ITypeConverter<InetAddress> {
    @Override
    public InetAddress convert(String value) {
      try {
        InetSocketAddress a = weft.dns.server.ResolvConf.parseAddress(value.contains(":") && !value.startsWith("[")
            ? "[" + value + "]" : value);
        return a.getAddress();
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("'" + value + "' is not an IP address, e.g. 127.0.0.1");
      }
    }
  }

  /** {@code IP[:PORT]} of an upstream DNS resolver. */
  static final class DnsUpstream implements ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String value) {
      try {
        return weft.dns.server.ResolvConf.parseAddress(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage() + ", e.g. 10.96.0.10 or 10.96.0.10:53");
      }
    }
  }
}
