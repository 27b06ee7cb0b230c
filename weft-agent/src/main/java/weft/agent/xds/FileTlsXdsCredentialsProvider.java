package weft.agent.xds;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.xds.XdsCredentialsProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code tls} channel credentials of the xDS bootstrap, as gRFC A65 defines their config:
 * {@code ca_certificate_file} (the roots the control plane is checked against; the JDK's roots when
 * absent), {@code certificate_file} and {@code private_key_file} together (the workload's own
 * certificate, for mutual TLS), {@code refresh_interval} (how often the files are re-read).
 *
 * <p>grpc-java 1.85's own {@code tls} provider ignores the config and trusts only the JDK's roots, so
 * a proxyless workload could not reach the control plane's TLS port (15012), whose certificate comes
 * from the mesh CA. grpc-java picks, per name, the registered provider of highest priority; this one
 * is registered (META-INF/services) one above grpc-java's. Without a config it gives exactly what
 * grpc-java's does. Once grpc-java reads the A65 config itself, this class can go.
 *
 * <p>{@link XdsCredentialsProvider} is marked {@code @Internal} in grpc-java: it is the only hook there
 * is, and the test suite checks that grpc-java still picks this provider.
 */
public final class FileTlsXdsCredentialsProvider extends XdsCredentialsProvider {
  private static final System.Logger LOG = System.getLogger(FileTlsXdsCredentialsProvider.class.getName());
  static final String NAME = "tls";
  // grpc-java's TlsXdsCredentialsProvider has priority 5; the highest priority per name wins.
  static final int PRIORITY = 6;

  @Override
  protected ChannelCredentials newChannelCredentials(Map<String, ?> jsonConfig) {
    if (jsonConfig == null || jsonConfig.isEmpty()) {
      return TlsChannelCredentials.create();
    }
    try {
      return ReloadingTlsFiles.fromConfig(jsonConfig).channelCredentials();
    } catch (IllegalArgumentException | IllegalStateException e) {
      // grpc-java's providers answer a config they cannot use with null: the bootstrap is then rejected
      // with "no supported channel credentials found" for that server.
      LOG.log(System.Logger.Level.ERROR, "xDS bootstrap channel_creds 'tls': " + e.getMessage());
      return null;
    }
  }

  /**
   * The same credentials for a channel of the agent's own (the xDS proxy's upstream): roots from
   * {@code ca}, and the workload's certificate and key when both are given, re-read every {@code refresh}.
   *
   * @throws IllegalStateException when the files cannot be read now
   */
  public static ChannelCredentials fromFiles(Path ca, Path certificate, Path key, Duration refresh) {
    Map<String, Object> config = new HashMap<>();
    config.put("ca_certificate_file", ca.toString());
    if (certificate != null) {
      config.put("certificate_file", certificate.toString());
      config.put("private_key_file", key.toString());
    }
    config.put("refresh_interval", Math.max(1, refresh.toSeconds()) + "s");
    return ReloadingTlsFiles.fromConfig(config).channelCredentials();
  }

  @Override
  protected String getName() {
    return NAME;
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public int priority() {
    return PRIORITY;
  }
}
