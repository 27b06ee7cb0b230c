package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ResolvConfTest {
  @Test
  void nameserverLinesAreIpLiteralsAtMostThree() {
    String text = """
        # comment
        search default.svc.cluster.local svc.cluster.local
        nameserver 10.96.0.10
        nameserver  dns.example.com
        nameserver 2001:db8::53
        options ndots:5
        nameserver 192.0.2.53
        nameserver 192.0.2.54
        """;
    assertThat(ResolvConf.parse(text, "resolv.conf")).extracting(a -> a.getAddress().getHostAddress() + ":" + a.getPort())
        .containsExactly("10.96.0.10:53", "2001:db8:0:0:0:0:0:53:53", "192.0.2.53:53");
  }

  @Test
  void upstreamFlagTakesAnAddressWithAnOptionalPort() {
    assertThat(ResolvConf.parseAddress("192.0.2.1")).isEqualTo(new InetSocketAddress("192.0.2.1", 53));
    assertThat(ResolvConf.parseAddress("192.0.2.1:5353")).isEqualTo(new InetSocketAddress("192.0.2.1", 5353));
    assertThat(ResolvConf.parseAddress("[2001:db8::1]:5353").getPort()).isEqualTo(5353);
    assertThat(ResolvConf.parseAddress("2001:db8::1").getPort()).isEqualTo(53);
    assertThatThrownBy(() -> ResolvConf.parseAddress("dns.example.com")).hasMessageContaining("IP address");
    assertThatThrownBy(() -> ResolvConf.parseAddress("192.0.2.1:99999")).hasMessageContaining("1..65535");
  }
}
