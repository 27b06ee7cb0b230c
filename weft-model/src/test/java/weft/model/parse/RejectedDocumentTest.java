package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import org.junit.jupiter.api.Test;
import weft.model.ResourceId;

/** A rejected document still says who it claims to be, so its last good version can keep serving. */
class RejectedDocumentTest {
  private static final String SLICE = """
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: echo-abc, namespace: default, labels: {kubernetes.io/service-name: echo}}
      addressType: IPv4
      endpoints: [{addresses: [10.0.0.1]}]
      ports: [{name: grpc, port: 9080}]
      """;

  @Test
  void acceptedResourcesKnowTheirDocument() {
    ParsedFile parsed = parse(SLICE + "---\n" + SLICE.replace("echo-abc", "echo-def"));

    assertThat(parsed.positions()).containsEntry(new ResourceId("EndpointSlice", "default", "echo-abc"), "document 1")
        .containsEntry(new ResourceId("EndpointSlice", "default", "echo-def"), "document 2");
    assertThat(parsed.rejected()).isEmpty();
  }

  @Test
  void wrongApiVersionKeepsKindNamespaceAndName() {
    ParsedFile parsed = parse(SLICE.replace("discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"));

    assertThat(parsed.resources()).isEmpty();
    assertThat(errors(parsed)).singleElement().satisfies(p -> assertThat(p.field()).isEqualTo("apiVersion"));
    assertThat(parsed.rejected()).containsExactly(
        new RejectedDocument("document 1", "EndpointSlice", "default", "echo-abc"));
  }

  @Test
  void nonStringNameIsNamedInTheErrorAndSalvagedAsText() {
    ParsedFile parsed = parse(SLICE.replace("name: echo-abc", "name: 1234"));

    assertThat(errors(parsed)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("metadata.name");
      assertThat(p.message()).contains("not a string");
    });
    assertThat(parsed.rejected()).containsExactly(new RejectedDocument("document 1", "EndpointSlice", "default", "1234"));
  }

  @Test
  void mappingAsNameLeavesOnlyKindAndPosition() {
    ParsedFile parsed = parse(SLICE.replace("name: echo-abc", "name: {a: b}"));

    assertThat(parsed.rejected()).containsExactly(new RejectedDocument("document 1", "EndpointSlice", "default", null));
  }

  @Test
  void misspeltKindSaysDidYouMeanAndClaimsTheKindItWasMeantToBe() {
    ParsedFile parsed = parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntri
        metadata: {name: ext, namespace: web}
        spec: {hosts: [example.com]}
        """);

    assertThat(errors(parsed)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("kind");
      assertThat(p.message()).contains("ServiceEntri", "did you mean ServiceEntry?");
    });
    assertThat(warnings(parsed)).isEmpty();
    assertThat(parsed.rejected()).containsExactly(new RejectedDocument("document 1", "ServiceEntry", "web", "ext"));
  }

  @Test
  void kindsOfOtherApisAndValidKindsWeftDoesNotReadAreStillOnlySkipped() {
    ParsedFile parsed = parse("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: r}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: f}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: g}
        """);

    assertThat(errors(parsed)).isEmpty();
    assertThat(warnings(parsed)).hasSize(3).allSatisfy(p -> assertThat(p.message()).contains("not used by Weft yet")
        .doesNotContain("did you mean"));
    assertThat(parsed.rejected()).isEmpty();
  }
}
