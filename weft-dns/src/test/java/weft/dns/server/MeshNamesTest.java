package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;
import org.xbill.DNS.ReverseMap;
import weft.dns.nds.NameTable;

class MeshNamesTest {
  private static Name n(String s) {
    return Name.fromConstantString(s);
  }

  @Test
  void hostileEntriesAreSkippedAloneAndAddressesAreNeverLookedUp() {
    NameTable t = NameTable.newBuilder()
        .putTable("good.default.svc.cluster.local", Tables.service("good", "default", List.of("10.0.0.1")))
        .putTable("bad..name", Tables.external(List.of("10.0.0.2")))
        .putTable("x".repeat(300), Tables.external(List.of("10.0.0.3")))
        .putTable("resolves.example.com", Tables.external(List.of("localhost", "example.com", "10.0.0.4")))
        .putTable("none.example.com", Tables.external(List.of("not-an-ip")))
        .putTable("ports.example.com", Tables.external(List.of("10.0.0.5")).toBuilder()
            .addWeftPorts(Tables.port("http", 0, "HTTP")).addWeftPorts(Tables.port("bad name", 80, "HTTP"))
            .addWeftPorts(Tables.port("ok", 8080, "HTTP")).build())
        .build();
    MeshNames names = MeshNames.compile(t, "default");
    assertThat(names.lookup(n("good.default.svc.cluster.local.")).ipv4()).hasSize(1);
    assertThat(names.lookup(n("resolves.example.com.")).ipv4()).extracting(a -> a.getHostAddress())
        .containsExactly("10.0.0.4");
    assertThat(names.lookup(n("none.example.com."))).isNull();
    assertThat(names.lookup(n("ports.example.com.")).ports()).containsExactly(new MeshNames.Port("ok", 8080, false));
    assertThat(names.skipped()).anyMatch(s -> s.contains("bad..name"))
        .anyMatch(s -> s.contains("'localhost' is not an IP literal"))
        .anyMatch(s -> s.contains("none.example.com") && s.contains("no address"))
        .anyMatch(s -> s.contains("port 'http' 0"));
  }

  @Test
  void shortNamesAreOnlyForTheClientsNamespaceAndFullNamesWin() {
    NameTable t = NameTable.newBuilder()
        .putTable("echo.default.svc.cluster.local", Tables.service("echo", "default", List.of("10.0.0.1")))
        .putTable("echo.other.svc.cluster.local", Tables.service("echo", "other", List.of("10.0.0.2")))
        // A ServiceEntry host that is also a search form of a Service: the table's own key wins.
        .putTable("echo.other", Tables.external(List.of("240.240.0.9")))
        // A shortname that does not match its key gets no search forms.
        .putTable("liar.default.svc.cluster.local", Tables.service("someone-else", "default", List.of("10.0.0.3")))
        .build();
    MeshNames fromDefault = MeshNames.compile(t, "default");
    assertThat(fromDefault.lookup(n("echo.")).ipv4().get(0).getHostAddress()).isEqualTo("10.0.0.1");
    assertThat(fromDefault.lookup(n("echo.other.")).ipv4().get(0).getHostAddress()).isEqualTo("240.240.0.9");
    assertThat(fromDefault.lookup(n("echo.other.svc.")).ipv4().get(0).getHostAddress()).isEqualTo("10.0.0.2");
    assertThat(fromDefault.lookup(n("someone-else."))).isNull();
    MeshNames fromOther = MeshNames.compile(t, "other");
    assertThat(fromOther.lookup(n("ECHO.")).ipv4().get(0).getHostAddress()).isEqualTo("10.0.0.2");
  }

  @Test
  void aStatefulSetPodsNameHasSearchFormsToo() {
    NameTable t = NameTable.newBuilder()
        .putTable("web-0.web.default.svc.cluster.local", Tables.service("web-0.web", "default", List.of("10.1.0.10")))
        .putTable("a.b.c.default.svc.cluster.local", Tables.service("a.b.c", "default", List.of("10.1.0.11")))
        .build();
    MeshNames names = MeshNames.compile(t, "default");
    for (String form : List.of("web-0.web.", "web-0.web.default.", "web-0.web.default.svc.")) {
      assertThat(names.lookup(n(form))).as(form).isNotNull();
    }
    assertThat(MeshNames.compile(t, "other").lookup(n("web-0.web."))).isNull();
    assertThat(names.lookup(n("a.b.c."))).as("three labels is no Kubernetes short name").isNull();
  }

  @Test
  void wildcardEntriesAnswerNamesBelowThemThatHaveNoEntry() {
    NameTable t = NameTable.newBuilder()
        .putTable("*.example.com", Tables.external(List.of("240.240.0.1")))
        .putTable("*.eu.example.com", Tables.external(List.of("240.240.0.2")))
        .putTable("exact.eu.example.com", Tables.external(List.of("240.240.0.3")))
        .build();
    MeshNames names = MeshNames.compile(t, "");
    assertThat(names.lookup(n("a.example.com.")).ipv4().get(0).getHostAddress()).isEqualTo("240.240.0.1");
    assertThat(names.lookup(n("a.b.eu.example.com.")).ipv4().get(0).getHostAddress()).isEqualTo("240.240.0.2");
    assertThat(names.lookup(n("exact.eu.example.com.")).ipv4().get(0).getHostAddress()).isEqualTo("240.240.0.3");
    assertThat(names.lookup(n("example.com."))).isNull();
  }

  @Test
  void reverseNamesListEveryHostOfAnAddressInOrder() throws Exception {
    NameTable t = NameTable.newBuilder()
        .putTable("b.example.com", Tables.external(List.of("240.240.0.1")))
        .putTable("a.example.com", Tables.external(List.of("240.240.0.1")))
        .build();
    assertThat(MeshNames.compile(t, "").reverse(ReverseMap.fromAddress("240.240.0.1")))
        .containsExactly(n("a.example.com."), n("b.example.com."));
  }
}
