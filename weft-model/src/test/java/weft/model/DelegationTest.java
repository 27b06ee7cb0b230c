package weft.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/** Delegates merged into their roots as Istio merges them (the shape of Istio's delegation examples). */
class DelegationTest {
  static final String ROOT = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: root, namespace: default}
      spec:
        hosts: [bookinfo.example.com]
        http:
        - name: pp
          match: [{uri: {prefix: /productpage}}, {uri: {exact: /login}}]
          timeout: 3s
          delegate: {name: productpage, namespace: bookinfo}
        - match: [{uri: {prefix: /reviews}}]
          delegate: {name: missing}
        - route: [{destination: {host: catchall}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: productpage, namespace: bookinfo}
      spec:
        http:
        - name: v2
          match: [{uri: {prefix: /productpage/v2}, headers: {end-user: {exact: jason}}}]
          route: [{destination: {host: productpage-v2}}]
        - route: [{destination: {host: productpage-v1}}]
          timeout: 1s
      """;

  static List<VirtualService> virtualServices(String yaml) {
    ParsedFile f = ResourceParser.parse("test.yaml", yaml);
    assertThat(f.problems()).filteredOn(p -> p.severity() == ConfigProblem.Severity.ERROR).isEmpty();
    return f.resources().stream().map(VirtualService.class::cast).toList();
  }

  @Test
  void delegateRoutesTakeTheRootsPlaceWithIntersectedMatchesAndTheRootsUnsetSettings() {
    Delegation.Merged merged = Delegation.merge(virtualServices(ROOT), List.of("*"));

    assertThat(merged.virtualServices()).singleElement().satisfies(vs -> {
      assertThat(vs.id().name()).isEqualTo("root");
      var http = vs.http();
      // productpage/v2 lies under /productpage but not under /login; the match-less route takes both root matches.
      assertThat(http).hasSize(3);
      assertThat(http.get(0).name()).isEqualTo("pp-v2");
      assertThat(http.get(0).match()).singleElement().satisfies(m -> {
        assertThat(m.uri()).isEqualTo(new StringMatch(StringMatch.Kind.PREFIX, "/productpage/v2"));
        assertThat(m.headers()).containsKey("end-user");
      });
      assertThat(http.get(0).timeout()).hasSeconds(3);
      assertThat(http.get(1).match()).extracting(m -> m.uri().value()).containsExactly("/productpage", "/login");
      assertThat(http.get(1).timeout()).hasSeconds(1);
      assertThat(http.get(1).route().get(0).destination().host()).isEqualTo("productpage-v1");
      assertThat(http.get(2).route().get(0).destination().host()).isEqualTo("catchall");
      assertThat(http).allSatisfy(r -> assertThat(r.delegate()).isNull());
    });
    assertThat(merged.problems()).singleElement().satisfies(p -> {
      assertThat(p.root().name()).isEqualTo("root");
      assertThat(p.field()).isEqualTo("spec.http[1].delegate");
      assertThat(p.message()).contains("default/missing does not exist");
    });
  }

  @Test
  void aDelegateNotExportedToTheRootsNamespaceContributesNothing() {
    String yaml = ROOT.replace("metadata: {name: productpage, namespace: bookinfo}\nspec:\n",
        "metadata: {name: productpage, namespace: bookinfo}\nspec:\n  exportTo: [\".\"]\n");
    assertThat(yaml).isNotEqualTo(ROOT);
    Delegation.Merged merged = Delegation.merge(virtualServices(yaml), List.of("*"));

    assertThat(merged.virtualServices().get(0).http()).extracting(r -> r.route().get(0).destination().host())
        .containsExactly("catchall");
    assertThat(merged.problems()).anySatisfy(p -> assertThat(p.message()).contains("not exported to namespace "
        + "default"));
  }
}
