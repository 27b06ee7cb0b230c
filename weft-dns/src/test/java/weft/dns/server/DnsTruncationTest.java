package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import weft.dns.nds.NameTable;

/** Answers larger than the client's UDP size: TC over UDP, in full over TCP; EDNS0 sizes and versions. */
class DnsTruncationTest {
  /** 100 addresses: about 1.6 kB of A records, over both 512 and 1232 bytes. */
  static final int MANY = 100;
  /** 40 addresses: about 700 bytes, over 512 but within an EDNS0 size of 1232. */
  static final int SOME = 40;
  private DnsServer server;

  static NameTable bigTable() {
    return NameTable.newBuilder()
        .putTable("many.default.svc.cluster.local", Tables.service("many", "default", addresses(MANY)))
        .putTable("some.default.svc.cluster.local", Tables.service("some", "default", addresses(SOME)))
        .build();
  }

  static List<String> addresses(int n) {
    List<String> ips = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ips.add("10.1." + (i / 250) + "." + (i % 250 + 1));
    }
    return ips;
  }

  @BeforeEach
  void start() throws Exception {
    MeshNames names = MeshNames.compile(bigTable(), "default");
    server = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .names(c -> names).start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private SimpleResolver resolver(boolean tcp, int ednsSize) {
    SimpleResolver r = new SimpleResolver(server.address());
    r.setTimeout(Duration.ofSeconds(5));
    r.setTCP(tcp);
    r.setIgnoreTruncation(true); // see the truncated answer itself, not dnsjava's retry over TCP
    if (ednsSize > 0) {
      r.setEDNS(0, ednsSize, 0, List.of());
    } else {
      r.setEDNS(-1, 0, 0, List.of());
    }
    return r;
  }

  private static Message query(String name) throws Exception {
    return Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN));
  }

  @Test
  void withoutEdnsAnAnswerOver512BytesIsTruncatedAndComesInFullOverTcp() throws Exception {
    Message udp = resolver(false, 0).send(query("some.default.svc.cluster.local."));
    assertThat(udp.getHeader().getFlag(Flags.TC)).isTrue();
    assertThat(udp.numBytes()).isLessThanOrEqualTo(512);
    assertThat(udp.getOPT()).isNull();

    Message tcp = resolver(true, 0).send(query("some.default.svc.cluster.local."));
    assertThat(tcp.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(tcp.getSection(Section.ANSWER)).hasSize(SOME);
  }

  @Test
  void anEdnsClientGetsUpToItsSizeOverUdp() throws Exception {
    Message fits = resolver(false, 1232).send(query("some.default.svc.cluster.local."));
    assertThat(fits.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(fits.getSection(Section.ANSWER)).hasSize(SOME);
    assertThat(fits.getOPT()).isNotNull();
    assertThat(fits.numBytes()).isGreaterThan(512);
    // Name compression: every answer's owner is a 2-byte pointer to the question's name. Header 12,
    // question 32 + 4, 40 answers of 2 + 10 + 4, our OPT 11.
    assertThat(fits.numBytes()).isEqualTo(12 + 36 + SOME * 16 + 11);

    Message tooBig = resolver(false, 4096).send(query("many.default.svc.cluster.local."));
    // We never send more than 1232 bytes over UDP, whatever the client offers.
    assertThat(tooBig.getHeader().getFlag(Flags.TC)).isTrue();
    assertThat(tooBig.numBytes()).isLessThanOrEqualTo(QueryHandler.MAX_UDP_SIZE);
    assertThat(tooBig.getOPT()).as("the OPT survives truncation").isNotNull();

    Message small = resolver(false, 100).send(query("some.default.svc.cluster.local."));
    assertThat(small.numBytes()).as("an EDNS size under 512 counts as 512").isLessThanOrEqualTo(512);
    assertThat(small.getHeader().getFlag(Flags.TC)).isTrue();
  }

  @Test
  void dnsjavasOwnRetryOverTcpGetsTheWholeAnswer() throws Exception {
    SimpleResolver r = new SimpleResolver(server.address());
    r.setTimeout(Duration.ofSeconds(5));
    Message m = r.send(query("many.default.svc.cluster.local."));
    assertThat(m.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(m.getSection(Section.ANSWER)).hasSize(MANY);
  }

  @Test
  void anUnknownEdnsVersionIsBadvers() throws Exception {
    SimpleResolver r = resolver(false, 0);
    Message q = query("some.default.svc.cluster.local.");
    q.addRecord(new OPTRecord(1232, 0, 1, 0), Section.ADDITIONAL);
    Message m = r.send(q);
    assertThat(m.getRcode()).isEqualTo(Rcode.BADVERS);
    assertThat(m.getSection(Section.ANSWER)).isEmpty();
  }
}
