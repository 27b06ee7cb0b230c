package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static weft.model.parse.Yamls.FILE;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.Random;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

class ResourceParserTest {
  private static final String VALID_VS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: ok}
      spec:
        hosts: [ok]
        http:
        - route:
          - destination: {host: ok}
      """;

  @Test
  void malformedYamlMakesTheFileUnreadable() {
    ParsedFile f = parse(VALID_VS + "---\nkind: [unclosed\n  metadata: {name: x\n");
    assertThat(f.unreadable()).isTrue();
    assertThat(f.resources()).isEmpty();
    assertThat(f.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.ERROR);
      assertThat(p.file()).isEqualTo(FILE);
      assertThat(p.resource()).isNull();
      assertThat(p.message()).startsWith(FILE + " is not valid YAML at line");
    });
  }

  @Test
  void duplicateKeysMakeTheFileUnreadable() {
    ParsedFile f = parse("apiVersion: v1\nkind: Namespace\nkind: Pod\nmetadata: {name: x}\n");
    assertThat(f.unreadable()).isTrue();
    assertThat(f.problems().get(0).message()).contains("kind");
  }

  @Test
  void emptyFilesAndDocumentsAreSkipped() {
    assertThat(parse("").problems()).isEmpty();
    assertThat(parse("# just a comment\n").resources()).isEmpty();
    ParsedFile f = parse("---\n---\n" + VALID_VS + "---\n\n---\n");
    assertThat(f.problems()).isEmpty();
    assertThat(ids(f)).containsExactly(new ResourceId("VirtualService", "default", "ok"));
  }

  @Test
  void otherKindsAreSkippedWithOneWarningPerKind() {
    ParsedFile f = parse("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: reviews-v1}
        spec: {replicas: 1}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: reviews-v2}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ingress}
        ---
        apiVersion: serving.knative.dev/v1
        kind: Service
        metadata: {name: knative}
        ---
        """ + VALID_VS);
    assertThat(errors(f)).isEmpty();
    assertThat(ids(f)).containsExactly(new ResourceId("VirtualService", "default", "ok"));
    assertThat(warnings(f)).extracting(ConfigProblem::message).containsExactly(
        "kind Deployment (apps/v1) is not used by Weft yet; skipped (2 documents)",
        "kind ConfigMap (v1) is not used by Weft yet; skipped",
        "kind Service (serving.knative.dev/v1) is not used by Weft yet; skipped");
  }

  @Test
  void aTrustDomainFederationBesideTheClustersConfigIsLeftToTheFederationWithoutAWarning() {
    ParsedFile f = parse("""
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: mesh2}
        spec: {trustDomain: mesh2.example}
        ---
        """ + VALID_VS);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).isEmpty();
    assertThat(ids(f)).containsExactly(new ResourceId("VirtualService", "default", "ok"));
  }

  @Test
  void documentsWithoutKindOrNameAreErrorsForThemselvesOnly() {
    ParsedFile f = parse("""
        metadata: {name: no-kind}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        spec: {hosts: [x]}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {namespace: prod}
        ---
        hello
        ---
        """ + VALID_VS);
    assertThat(ids(f)).containsExactly(new ResourceId("VirtualService", "default", "ok"));
    assertThat(errors(f)).extracting(ConfigProblem::field)
        .containsExactly("kind", "metadata.name", "metadata.name", "");
    assertThat(errors(f).get(0).message()).contains("document 1");
    assertThat(errors(f).get(3).message()).contains("document 4");
  }

  @Test
  void wrongApiVersionsAreErrors() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v2
        kind: VirtualService
        metadata: {name: future}
        ---
        kind: DestinationRule
        metadata: {name: no-api-version}
        ---
        apiVersion: discovery.k8s.io/v1beta1
        kind: EndpointSlice
        metadata: {name: old}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).containsOnly("apiVersion");
    assertThat(errors(f)).hasSize(3);
    assertThat(errors(f).get(1).message()).contains("networking.istio.io/v1");
  }

  @Test
  void unknownTopLevelFieldOfAnIstioResourceIsAnError() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: typo}
        specs: {host: reviews}
        status: {observedGeneration: 1}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).contains("specs");
  }

  @Test
  void camelAndSnakeSpellingOfOneFieldTogetherIsAnError() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: twice}
        spec:
          hosts: [a]
          exportTo: ["."]
          export_to: ["*"]
          http: [{route: [{destination: {host: a}}]}]
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).singleElement().extracting(ConfigProblem::field).isEqualTo("spec.export_to");
  }

  @Test
  void neverThrowsOnArbitraryInput() {
    Random random = new Random(42);
    String alphabet = "ab:- \n[]{}\"'#&*!|>,.%@`0123456789\t";
    String base = VALID_VS + "---\n" + """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: dr}
        spec:
          host: reviews
          trafficPolicy: {loadBalancer: {simple: RANDOM}}
          subsets: [{name: v1, labels: {version: v1}}]
        """;
    for (int i = 0; i < 2000; i++) {
      StringBuilder b = new StringBuilder(base);
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(b.length());
        b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String text = b.toString();
      assertThatCode(() -> {
        ParsedFile f = ResourceParser.parse(FILE, text);
        assertThat(f.problems()).noneMatch(p -> p.message().contains("could not read"));
        assertThat(f.resources().size()).isLessThanOrEqualTo(2);
      }).as(text).doesNotThrowAnyException();
    }
  }

  @Test
  void nullContentIsAnEmptyFile() {
    assertThat(ResourceParser.parse(FILE, null).resources()).isEmpty();
  }
}
