package weft.agent.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.TlsChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

class FileTlsXdsCredentialsProviderTest {
  private final FileTlsXdsCredentialsProvider provider = new FileTlsXdsCredentialsProvider();

  @Test
  void withoutConfigItIsPlainTlsAsGrpcJavasOwn() {
    assertThat(provider.newChannelCredentials(null)).isInstanceOf(TlsChannelCredentials.class);
    assertThat(((TlsChannelCredentials) provider.newChannelCredentials(Map.of())).getTrustManagers()).isNull();
    assertThat(provider.getName()).isEqualTo("tls");
    assertThat(provider.priority()).isGreaterThan(5);
  }

  @Test
  void certificateWithoutKeyIsRefused() {
    assertThat(provider.newChannelCredentials(Map.of("certificate_file", "/x/cert-chain.pem"))).isNull();
    assertThatThrownBy(() -> ReloadingTlsFiles.fromConfig(Map.of("private_key_file", "/x/key.pem")))
        .hasMessageContaining("go together");
  }

  @Test
  void refreshIntervalIsAProtobufDurationString() {
    assertThat(ReloadingTlsFiles.parseDuration("600s")).isEqualTo(Duration.ofMinutes(10));
    assertThat(ReloadingTlsFiles.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> ReloadingTlsFiles.parseDuration("10m")).hasMessageContaining("such as \"600s\"");
    assertThatThrownBy(() -> ReloadingTlsFiles.parseDuration("0s")).hasMessageContaining("more than 0s");
    assertThatThrownBy(() -> ReloadingTlsFiles.parseDuration(600)).hasMessageContaining("such as \"600s\"");
  }

  @Test
  void aRotationWrittenWithinOneFileClockTickIsStillTaken(@TempDir Path dir) throws Exception {
    CertificateAuthority ca = CaStore.loadOrCreate(dir.resolve("ca"), "cluster.local", Clock.systemUTC());
    SpiffeId id = new SpiffeId("cluster.local", "default", "frontend");
    Path cert = dir.resolve("cert-chain.pem");
    Path key = dir.resolve("key.pem");
    KeyPair first = newKeyPair();
    X509Certificate firstLeaf = ca.issueWorkload(first.getPublic(), id, Duration.ofHours(1)).get(0);
    Files.writeString(cert, Pem.encode(firstLeaf));
    Files.writeString(key, Pem.encodePrivateKey(first.getPrivate()));
    FileTime tick = Files.getLastModifiedTime(cert);
    Files.setLastModifiedTime(key, tick);
    ReloadingTlsFiles files = ReloadingTlsFiles.fromConfig(Map.of("certificate_file", cert.toString(),
        "private_key_file", key.toString(), "refresh_interval", "600s"));
    files.channelCredentials();
    assertThat(files.currentCertificate()).isEqualTo(firstLeaf);

    // Rewritten in place by some other tool, both files keeping the time they had.
    KeyPair second = newKeyPair();
    X509Certificate secondLeaf = ca.issueWorkload(second.getPublic(), id, Duration.ofHours(1)).get(0);
    Files.writeString(cert, Pem.encode(secondLeaf));
    Files.writeString(key, Pem.encodePrivateKey(second.getPrivate()));
    Files.setLastModifiedTime(cert, tick);
    Files.setLastModifiedTime(key, tick);
    files.reloadNow();
    assertThat(files.currentCertificate()).isEqualTo(secondLeaf);

    // Half a rotation (a new key beside the old certificate) is left for the next look.
    Files.writeString(key, Pem.encodePrivateKey(newKeyPair().getPrivate()));
    files.reloadNow();
    assertThat(files.currentCertificate()).isEqualTo(secondLeaf);
  }

  private static KeyPair newKeyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  @Test
  void missingRootFileIsRefused() {
    assertThat(provider.newChannelCredentials(Map.of("ca_certificate_file", "/nonexistent/root-cert.pem"))).isNull();
  }
}
