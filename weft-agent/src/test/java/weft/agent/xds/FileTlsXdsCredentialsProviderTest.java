package weft.agent.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.TlsChannelCredentials;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
  void missingRootFileIsRefused() {
    assertThat(provider.newChannelCredentials(Map.of("ca_certificate_file", "/nonexistent/root-cert.pem"))).isNull();
  }
}
