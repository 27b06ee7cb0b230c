package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import weft.dns.nds.NameTable;

class DnsServerTest {
  private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  private DnsServer server;
  private DnsServer upstream;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private DnsServer start(NameTable table, String namespace, List<InetSocketAddress> upstreams) throws Exception {
    MeshNames names = MeshNames.compile(table, namespace);
    server = DnsServer.builder().address(ANY_LOOPBACK).names(client -> names).upstreams(upstreams).start();
    return server;
  }

  static Message ask(DnsServer s, String name, int type) throws Exception {
    SimpleResolver r = new SimpleResolver(s.address());
    r.setTimeout(java.time.Duration.ofSeconds(5));
    return r.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
  }

  private static List<String> rdata(Message m, int section) {
    return m.getSection(section).stream().map(Record::rdataToString).toList();
  }

  @Test
  void meshNamesAnswerAuthoritativelyWithTheQueryFlagsCopied() throws Exception {
    start(Tables.mesh(), "default", List.of());
    Message a = ask(server, "echo.default.svc.cluster.local.", Type.A);
    assertThat(a.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(a.getHeader().getFlag(Flags.QR)).isTrue();
    assertThat(a.getHeader().getFlag(Flags.AA)).isTrue();
    assertThat(a.getHeader().getFlag(Flags.RA)).isTrue();
    assertThat(a.getHeader().getFlag(Flags.RD)).isTrue();
    assertThat(rdata(a, Section.ANSWER)).containsExactly("10.96.0.10");
    assertThat(a.getSection(Section.ANSWER).get(0)).isInstanceOf(ARecord.class);

    Message aaaa = ask(server, "echo.default.svc.cluster.local.", Type.AAAA);
    assertThat(aaaa.getSection(Section.ANSWER)).singleElement().isInstanceOf(AAAARecord.class);
    assertThat(rdata(aaaa, Section.ANSWER)).containsExactly("fd00:0:0:0:0:0:0:10");

    Message external = ask(server, "API.Example.COM.", Type.A);
    assertThat(rdata(external, Section.ANSWER)).containsExactly("240.240.1.2");
    // A name with no data of the type asked: NOERROR, empty (not NXDOMAIN).
    Message noV6 = ask(server, "db.data.svc.cluster.local.", Type.AAAA);
    assertThat(noV6.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(noV6.getSection(Section.ANSWER)).isEmpty();
  }

  @Test
  void searchFormsResolveRelativeToTheClientsNamespace() throws Exception {
    start(Tables.mesh(), "default", List.of());
    for (String form : List.of("echo.", "echo.default.", "echo.default.svc.")) {
      Message m = ask(server, form, Type.A);
      assertThat(rdata(m, Section.ANSWER)).as(form).containsExactly("10.96.0.10");
      assertThat(m.getSection(Section.ANSWER).get(0).getName()).hasToString(form);
    }
    assertThat(rdata(ask(server, "db.data.", Type.A), Section.ANSWER)).containsExactly("10.96.0.20");
    // "db" alone is only a name from the data namespace: forwarded, and there is no upstream.
    assertThat(ask(server, "db.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
  }

  @Test
  void srvAnswersNamedPortsWithTheHostsAddressesAsAdditional() throws Exception {
    start(Tables.mesh(), "default", List.of());
    Message m = ask(server, "_grpc._tcp.echo.default.svc.cluster.local.", Type.SRV);
    assertThat(m.getSection(Section.ANSWER)).singleElement().satisfies(r -> {
      SRVRecord srv = (SRVRecord) r;
      assertThat(srv.getPort()).isEqualTo(7070);
      assertThat(srv.getTarget()).hasToString("echo.default.svc.cluster.local.");
    });
    assertThat(rdata(m, Section.ADDITIONAL)).contains("10.96.0.10", "fd00:0:0:0:0:0:0:10");
    assertThat(((SRVRecord) ask(server, "_dns._udp.echo.", Type.SRV).getSection(Section.ANSWER).get(0)).getPort())
        .isEqualTo(53);
    assertThat(ask(server, "_http._tcp.echo.default.svc.cluster.local.", Type.SRV).getRcode())
        .isEqualTo(Rcode.NXDOMAIN);
  }

  @Test
  void ptrNamesTheHostOfAMeshAddress() throws Exception {
    start(Tables.mesh(), "default", List.of());
    Message m = ask(server, ReverseMap.fromAddress("10.96.0.10").toString(), Type.PTR);
    assertThat(m.getSection(Section.ANSWER)).singleElement()
        .satisfies(r -> assertThat(((PTRRecord) r).getTarget()).hasToString("echo.default.svc.cluster.local."));
    Message v6 = ask(server, ReverseMap.fromAddress("fd00::10").toString(), Type.PTR);
    assertThat(rdata(v6, Section.ANSWER)).containsExactly("echo.default.svc.cluster.local.");
  }

  @Test
  void unknownClusterNamesAreNxdomainAndNeverForwarded() throws Exception {
    upstream = stubUpstream();
    start(Tables.mesh(), "default", List.of(upstream.address()));
    Message m = ask(server, "nobody.default.svc.cluster.local.", Type.A);
    assertThat(m.getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(m.getHeader().getFlag(Flags.AA)).isTrue();
    assertThat(ask(server, "nobody.default.svc.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    assertThat(upstream.queries()).isZero();
  }

  @Test
  void otherNamesAreForwardedAndCachedByTtl() throws Exception {
    upstream = stubUpstream();
    start(Tables.mesh(), "default", List.of(upstream.address()));
    Message first = ask(server, "example.org.", Type.A);
    assertThat(first.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(first.getHeader().getFlag(Flags.AA)).isFalse();
    assertThat(rdata(first, Section.ANSWER)).containsExactly("192.0.2.80");
    Message second = ask(server, "EXAMPLE.org.", Type.A);
    assertThat(rdata(second, Section.ANSWER)).containsExactly("192.0.2.80");
    assertThat(upstream.queries()).isEqualTo(1);
  }

  @Test
  void anUpstreamThatIsTheServerItselfIsDropped() throws Exception {
    MeshNames names = MeshNames.compile(Tables.mesh(), "default");
    // Bind first to learn a port, then start a server on it naming itself (by loopback) upstream.
    try (DnsServer probe = DnsServer.builder().address(ANY_LOOPBACK).names(c -> names).start()) {
      int port = probe.port();
      probe.close();
      server = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
          .names(c -> names).upstreams(List.of(new InetSocketAddress("127.0.0.1", port))).start();
    }
    assertThat(server.upstreams()).isEmpty();
    assertThat(ask(server, "example.org.", Type.A).getRcode()).isEqualTo(Rcode.REFUSED);
  }

  @Test
  void aNewTableIsUsedForTheNextQuery() throws Exception {
    AtomicReference<MeshNames> current = new AtomicReference<>(MeshNames.EMPTY);
    server = DnsServer.builder().address(ANY_LOOPBACK).names(c -> current.get()).start();
    assertThat(ask(server, "echo.default.svc.cluster.local.", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    current.set(MeshNames.compile(Tables.mesh(), "default"));
    assertThat(rdata(ask(server, "echo.default.svc.cluster.local.", Type.A), Section.ANSWER))
        .containsExactly("10.96.0.10");
  }

  /** An upstream resolver on loopback: a DnsServer that owns example.org. */
  static DnsServer stubUpstream() throws Exception {
    NameTable t = NameTable.newBuilder().putTable("example.org", Tables.external(List.of("192.0.2.80"))).build();
    MeshNames names = MeshNames.compile(t, "");
    return DnsServer.builder().address(ANY_LOOPBACK).names(c -> names).start();
  }
}
