package weft.xds.diag;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ProxyDropsTest {
  @Test
  void notesThatDifferOnlyInTheirParticularsAreOneCause() {
    assertThat(ProxyDrops.cause("2 endpoint(s) in other networks left out: without mTLS a proxyless client reaches "
        + "only its own network")).isEqualTo(ProxyDrops.cause("7 endpoint(s) in other networks left out: without mTLS "
        + "a proxyless client reaches only its own network"));
    assertThat(ProxyDrops.cause("locality failover is configured for a.default.svc.cluster.local but DestinationRule "
        + "default/a sets no outlierDetection")).isEqualTo(ProxyDrops.cause("locality failover is configured for "
        + "b.shop.svc.cluster.local but DestinationRule shop/b-rule sets no outlierDetection"));
    assertThat(ProxyDrops.cause("not exported to namespace x (exportTo [a, b])"))
        .isNotEqualTo(ProxyDrops.cause("no service with this hostname in any cluster"));
  }

  @Test
  void dropsOfManyProxiesAreOneFindingPerCauseAndVisibilityIsOnlyInfo() {
    List<AnalysisInput.ProxyReport> proxies = List.of(
        new AnalysisInput.ProxyReport("p1", Map.of("outbound|80||a.default.svc.cluster.local",
            "query parameter matches are not available to gRPC clients; route skipped",
            "b.other.svc.cluster.local", "not exported to namespace default (exportTo [other])"), List.of()),
        new AnalysisInput.ProxyReport("p2", Map.of("outbound|80||c.default.svc.cluster.local",
            "query parameter matches are not available to gRPC clients; route skipped"),
            List.of("CDS version 3: bad cluster")));
    Set<Finding> out = new TreeSet<>();

    ProxyDrops.summarise(proxies, out);

    assertThat(out).extracting(Finding::line).containsExactly(
        "Error [WEFT0103] (proxy p2) rejected what it was sent: CDS version 3: bad cluster; it keeps its previous "
            + "configuration",
        "Warning [WEFT0101] (outbound|80||a.default.svc.cluster.local) 2 proxy(ies), 2 subject(s): query parameter "
            + "matches are not available to gRPC clients; route skipped (e.g. on p1); also "
            + "outbound|80||c.default.svc.cluster.local",
        "Info [WEFT0102] (b.other.svc.cluster.local) 1 proxy(ies), 1 subject(s): not exported to namespace default "
            + "(exportTo [other]) (e.g. on p1)");
  }
}
