package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import weft.dns.nds.NameTable;

/** The server against a resolver client it was not written with: dig (bind9-dnsutils, installed by .ci/run). */
class DigInteropTest {
  private static DnsServer server;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(digAvailable(), "dig is not installed (apt-get install bind9-dnsutils)");
    NameTable table = DnsTruncationTest.bigTable().toBuilder().putAllTable(Tables.mesh().getTableMap()).build();
    MeshNames names = MeshNames.compile(table, "default");
    server = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .names(c -> names).start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static boolean digAvailable() {
    try {
      Process p = new ProcessBuilder("dig", "-v").redirectErrorStream(true).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String dig(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("dig", "@" + server.address().getAddress().getHostAddress(),
        "-p", Integer.toString(server.port()), "+time=5", "+tries=1"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  private static long answerLines(String out, String name) {
    return out.lines().filter(l -> l.startsWith(name) && l.contains("\tA\t")).count();
  }

  @Test
  void digRetriesATruncatedAnswerOverTcpAndGetsItAll() throws Exception {
    String udpOnly = dig("+noedns", "+ignore", "some.default.svc.cluster.local", "A");
    assertThat(udpOnly).containsPattern("flags:[^;]* tc[ ;]");

    String out = dig("+noedns", "some.default.svc.cluster.local", "A");
    assertThat(out).contains("Truncated, retrying in TCP mode");
    assertThat(out).contains("status: NOERROR");
    assertThat(answerLines(out, "some.default.svc.cluster.local.")).isEqualTo(DnsTruncationTest.SOME);
  }

  @Test
  void digWithEdnsGetsTheLargerAnswerOverUdpAndOurOpt() throws Exception {
    String out = dig("+bufsize=1232", "some.default.svc.cluster.local", "A");
    assertThat(out).doesNotContain("Truncated");
    assertThat(out).contains("EDNS: version: 0").contains("udp: 1232");
    assertThat(out).containsPattern("flags: qr aa rd ra;");
    assertThat(answerLines(out, "some.default.svc.cluster.local.")).isEqualTo(DnsTruncationTest.SOME);
  }

  @Test
  void digReadsSrvRecords() throws Exception {
    String out = dig("+short", "_grpc._tcp.echo.default.svc.cluster.local", "SRV");
    assertThat(out.strip()).isEqualTo("0 100 7070 echo.default.svc.cluster.local.");
    String nx = dig("nobody.default.svc.cluster.local", "A");
    assertThat(nx).contains("status: NXDOMAIN");
  }
}
