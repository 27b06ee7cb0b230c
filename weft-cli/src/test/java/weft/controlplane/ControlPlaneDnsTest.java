package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * The control plane's own DNS ({@code --dns-port}): a query is answered with the view of the proxy
 * its source stands for ({@code --dns-client}), else of this cluster's {@code default} namespace.
 */
class ControlPlaneDnsTest {
  static String service(String name, String ns, String vip, String exportTo) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s%s}
        spec: {clusterIP: %s, ports: [{name: http, port: 80}]}
        ---
        """.formatted(name, ns, exportTo == null ? "" : ", annotations: {networking.istio.io/exportTo: \"" + exportTo
        + "\"}", vip);
  }

  /** The A records answered to a query sent from {@code source}; empty for NXDOMAIN, null for another RCODE. */
  static List<String> query(int port, String source, String name) throws Exception {
    SimpleResolver r = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    r.setLocalAddress(new InetSocketAddress(InetAddress.getByName(source), 0));
    r.setTimeout(Duration.ofSeconds(10));
    Message answer = r.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
    int rcode = answer.getRcode();
    if (rcode == Rcode.NXDOMAIN) return List.of();
    if (rcode != Rcode.NOERROR) return null;
    List<String> ips = new ArrayList<>();
    for (Record rec : answer.getSection(Section.ANSWER)) {
      if (rec instanceof ARecord a) ips.add(a.getAddress().getHostAddress());
    }
    return ips;
  }

  @Test
  void answersWithTheViewOfTheProxyTheSourceStandsFor(@TempDir Path dir) throws Exception {
    Path c1 = Files.createDirectories(dir.resolve("cluster1"));
    Path c2 = Files.createDirectories(dir.resolve("cluster2"));
    Files.writeString(c1.resolve("services.yaml"), service("both", "default", "10.96.0.2", null)
        + service("private", "default", "10.96.0.9", "."));
    Files.writeString(c2.resolve("services.yaml"), service("both", "default", "10.97.0.2", null)
        + service("echo", "default", "10.97.0.1", null));
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(c1).withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", c2))
        .withDns(new ControlPlaneOptions.Dns(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            List.of(DnsClientRule.parse("127.0.0.0/8=cluster1/default"),
                DnsClientRule.parse("127.0.0.2/32=cluster2/other")), List.of()));
    try (ControlPlane cp = ControlPlane.start(options)) {
      int port = cp.dnsPort();
      // 127.0.0.1: cluster1/default (the /8). The remote-only service answers with cluster2's VIP.
      assertThat(query(port, "127.0.0.1", "echo.default.svc.cluster.local.")).containsExactly("10.97.0.1");
      assertThat(query(port, "127.0.0.1", "both.default.svc.cluster.local.")).containsExactly("10.96.0.2");
      assertThat(query(port, "127.0.0.1", "private.default.svc.cluster.local.")).containsExactly("10.96.0.9");
      assertThat(query(port, "127.0.0.1", "nobody.default.svc.cluster.local.")).isEmpty(); // NXDOMAIN
      // 127.0.0.2: the more specific /32, cluster2/other: its own VIP, and no service exported only to default.
      assertThat(query(port, "127.0.0.2", "both.default.svc.cluster.local.")).containsExactly("10.97.0.2");
      assertThat(query(port, "127.0.0.2", "private.default.svc.cluster.local.")).isEmpty();

      // A change reaches the answers.
      Files.writeString(c1.resolve("more.yaml"), service("late", "default", "10.96.0.7", null));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> List.of("10.96.0.7").equals(query(port, "127.0.0.1", "late.default.svc.cluster.local.")));
    }
  }

  @Test
  void withoutRulesEverySourceGetsThisClustersDefaultNamespace(@TempDir Path dir) throws Exception {
    Path c1 = Files.createDirectories(dir.resolve("cluster1"));
    Files.writeString(c1.resolve("services.yaml"), service("both", "default", "10.96.0.2", null)
        + service("private", "other", "10.96.0.9", "."));
    ControlPlaneOptions options = ControlPlaneOptions.forConfigDir(c1).withPorts(0, 0).withDns(
        new ControlPlaneOptions.Dns(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), List.of(), List.of()));
    try (ControlPlane cp = ControlPlane.start(options)) {
      assertThat(query(cp.dnsPort(), "127.0.0.3", "both.default.svc.cluster.local.")).containsExactly("10.96.0.2");
      assertThat(query(cp.dnsPort(), "127.0.0.3", "private.other.svc.cluster.local.")).isEmpty();
    }
  }

  @Test
  void badDnsClientRulesAreRefusedWithWhatToWrite() {
    assertThatThrownBy(() -> DnsClientRule.parse("10.0.0.0/8")).hasMessageContaining("CIDR=CLUSTER_ID/NAMESPACE");
    assertThatThrownBy(() -> DnsClientRule.parse("example.com/8=c/default")).hasMessageContaining("not an IP address");
    assertThatThrownBy(() -> DnsClientRule.parse("10.0.0.0/33=c/default")).hasMessageContaining("0 to 32");
    assertThatThrownBy(() -> DnsClientRule.parse("10.0.0.0/8=c/Bad_NS")).hasMessageContaining("DNS-1123");
    assertThatThrownBy(() -> DnsClientRule.parse("10.0.0.0/8=c\nx/default")).hasMessageContaining("\\u000a");
    DnsClientRule v6 = DnsClientRule.parse("fd00::/8=cluster2/default");
    assertThat(v6.prefix()).isEqualTo(8);
  }
}
