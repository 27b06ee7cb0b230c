package weft.agent.bootstrap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import weft.agent.WorkloadIdentity;

/**
 * The gRPC xDS bootstrap of a proxyless workload, in Istio's conventions (the form istio-agent
 * writes for {@code GENERATOR=grpc} workloads), as grpc-java 1.85 reads it:
 * <ul>
 *   <li>{@code xds_servers}: one server. {@code channel_creds} types grpc-java knows are
 *       {@code insecure}, {@code tls} and {@code google_default}; the first it knows is used. For
 *       {@code tls} the config is gRFC A65's ({@code ca_certificate_file}, optionally
 *       {@code certificate_file} and {@code private_key_file}, {@code refresh_interval}); grpc-java
 *       1.85 itself ignores that config and would trust only the JDK's roots, which is why this module
 *       registers a {@code tls} provider that honours it ({@link weft.agent.xds.FileTlsXdsCredentialsProvider}).
 *   <li>{@code node}: Istio's id {@code sidecar~IP~POD.NS~NS.svc.DOMAIN}, metadata and locality
 *       ({@code region}, {@code zone}, {@code sub_zone}: the names grpc-java reads).
 *   <li>{@code server_listener_resource_name_template}: required for an xDS server;
 *       {@code xds.istio.io/grpc/lds/inbound/%s}, grpc-java puts {@code IP:PORT} for {@code %s}.
 *   <li>{@code certificate_providers}: instance {@code default} of plugin {@code file_watcher} with
 *       {@code certificate_file}, {@code private_key_file}, {@code ca_certificate_file} and
 *       {@code refresh_interval} (a protobuf Duration string such as {@code "600s"}; grpc-java keeps
 *       whole seconds and needs at least one).
 * </ul>
 */
public final class XdsBootstrap {
  /** Istio's listener name for a proxyless server; {@code %s} is the listening {@code IP:PORT}. */
  public static final String SERVER_LISTENER_TEMPLATE = "xds.istio.io/grpc/lds/inbound/%s";
  /** The certificate-provider instance Istio's generated TLS contexts name. */
  public static final String CERTIFICATE_PROVIDER_INSTANCE = "default";
  /** grpc-java's certificate-provider plugin that reads PEM files. */
  public static final String FILE_WATCHER = "file_watcher";
  /** grpc-java's own default for {@code refresh_interval}: ten minutes. */
  public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(600);

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, Object> document;

  private XdsBootstrap(Map<String, Object> document) {
    this.document = document;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The document as JSON-ready maps and lists (what {@code overrideBootstrapForTest} takes). */
  public Map<String, Object> toMap() {
    return document;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(document) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("maps of strings always serialise", e);
    }
  }

  /** Istio's node metadata for a proxyless gRPC workload. */
  static Map<String, Object> nodeMetadata(WorkloadIdentity w) {
    Map<String, Object> md = new LinkedHashMap<>();
    md.put("GENERATOR", "grpc");
    md.put("NAMESPACE", w.namespace());
    md.put("SERVICE_ACCOUNT", w.serviceAccount());
    md.put("INSTANCE_IPS", w.ip());
    if (!w.clusterId().isEmpty()) {
      md.put("CLUSTER_ID", w.clusterId());
    }
    if (!w.network().isEmpty()) {
      md.put("NETWORK", w.network());
    }
    md.put("LABELS", new TreeMap<>(w.labels()));
    return md;
  }

  static Map<String, Object> locality(String locality) {
    String[] l = (locality + "//").split("/", -1);
    Map<String, Object> out = new LinkedHashMap<>();
    if (!l[0].isEmpty()) {
      out.put("region", l[0]);
    }
    if (!l[1].isEmpty()) {
      out.put("zone", l[1]);
    }
    if (!l[2].isEmpty()) {
      out.put("sub_zone", l[2]);
    }
    return out;
  }

  /** protobuf's JSON form of a Duration, whole seconds (grpc-java drops fractions). */
  static String durationString(Duration d) {
    return Math.max(1, d.toSeconds()) + "s";
  }

  /** Server, identity and the certificate files are required; the rest has Istio's defaults. */
  public static final class Builder {
    private String serverUri;
    private XdsTransport transport = XdsTransport.PLAINTEXT;
    private WorkloadIdentity identity;
    private Path certificateFile;
    private Path privateKeyFile;
    private Path caCertificateFile;
    private Path spiffeTrustBundleMapFile;
    private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;
    private final Map<String, Object> extraMetadata = new LinkedHashMap<>();

    private Builder() {}

    /** @param uri the control plane's xDS address, {@code host:port} or a gRPC target URI */
    public Builder xdsServer(String uri, XdsTransport transport) {
      this.serverUri = Objects.requireNonNull(uri, "uri");
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    public Builder identity(WorkloadIdentity identity) {
      this.identity = Objects.requireNonNull(identity);
      return this;
    }

    /** The three PEM files the agent keeps (see {@link weft.agent.cert.CertificateFiles}). */
    public Builder certificateFiles(Path certificateChain, Path privateKey, Path rootCertificates) {
      this.certificateFile = certificateChain.toAbsolutePath();
      this.privateKeyFile = privateKey.toAbsolutePath();
      this.caCertificateFile = rootCertificates.toAbsolutePath();
      return this;
    }

    /** How often gRPC re-reads the files; at least a second. */
    /**
     * gRFC A87's SPIFFE trust-bundle map for the {@code file_watcher} provider: with it grpc-java
     * checks a peer against the roots of the peer's own trust domain instead of one CA pool. grpc-java
     * 1.85 reads it only when {@code GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true} was set (environment or
     * system property) before its xDS classes loaded; otherwise it ignores the key.
     */
    public Builder spiffeTrustBundleMapFile(Path file) {
      this.spiffeTrustBundleMapFile = file == null ? null : file.toAbsolutePath();
      return this;
    }

    public Builder refreshInterval(Duration interval) {
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("refresh interval must be at least 1s (grpc-java counts whole seconds), got "
            + interval);
      }
      this.refreshInterval = interval;
      return this;
    }

    /** More node metadata (Istio's DNS_CAPTURE, REQUESTED_NETWORK_VIEW, ...); the agent's own keys win. */
    public Builder metadata(String key, Object value) {
      extraMetadata.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    public XdsBootstrap build() {
      if (serverUri == null || serverUri.isBlank()) {
        throw new IllegalStateException("the bootstrap needs the control plane's xDS address");
      }
      Objects.requireNonNull(identity, "identity");
      if (certificateFile == null) {
        throw new IllegalStateException("the bootstrap needs the certificate files (certificate_providers)");
      }
      Map<String, Object> files = new LinkedHashMap<>();
      files.put("certificate_file", certificateFile.toString());
      files.put("private_key_file", privateKeyFile.toString());
      files.put("ca_certificate_file", caCertificateFile.toString());
      files.put("refresh_interval", durationString(refreshInterval));

      Map<String, Object> creds = new LinkedHashMap<>();
      switch (transport) {
        case PLAINTEXT -> creds.put("type", "insecure");
        case TLS -> {
          creds.put("type", "tls");
          Map<String, Object> config = new LinkedHashMap<>();
          config.put("ca_certificate_file", caCertificateFile.toString());
          config.put("refresh_interval", durationString(refreshInterval));
          creds.put("config", config);
        }
        case MUTUAL_TLS -> {
          creds.put("type", "tls");
          creds.put("config", new LinkedHashMap<>(files));
        }
        default -> throw new IllegalStateException("unknown transport " + transport);
      }
      Map<String, Object> server = new LinkedHashMap<>();
      server.put("server_uri", serverUri);
      server.put("channel_creds", List.of(creds));
      // What Istio writes; grpc-java 1.85 no longer needs it (v3 is all it speaks) and ignores it.
      server.put("server_features", List.of("xds_v3"));

      Map<String, Object> metadata = new LinkedHashMap<>(extraMetadata);
      metadata.putAll(nodeMetadata(identity));
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("id", identity.nodeId());
      node.put("metadata", metadata);
      node.put("locality", locality(identity.locality()));

      Map<String, Object> provider = new LinkedHashMap<>();
      provider.put("plugin_name", FILE_WATCHER);
      Map<String, Object> providerFiles = new LinkedHashMap<>(files);
      if (spiffeTrustBundleMapFile != null) {
        providerFiles.put("spiffe_trust_bundle_map_file", spiffeTrustBundleMapFile.toString());
      }
      provider.put("config", providerFiles);

      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("xds_servers", List.of(server));
      doc.put("node", node);
      doc.put("server_listener_resource_name_template", SERVER_LISTENER_TEMPLATE);
      doc.put("certificate_providers", Map.of(CERTIFICATE_PROVIDER_INSTANCE, provider));
      return new XdsBootstrap(doc);
    }
  }
}
