package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.DestinationRule;
import weft.model.RequestAuthentication;
import weft.model.ResourceId;

/** Names, namespaces and endpoint addresses are refused alone with the field named; fail-closed TLS is an error. */
class NamesAddressesAndTlsTest {
  static final String GOOD = """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: good.one, namespace: default}
      spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
      """;

  @Test
  void aNamespaceWithEscapeCodesIsRefusedAloneEscapedAndNamed() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: vs, namespace: "prod\\e[31m\\nFAKE LOG LINE"}
        spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
        """ + GOOD);
    assertThat(ids(f)).containsExactly(new ResourceId("VirtualService", "default", "good.one"));
    ConfigProblem p = errors(f).get(0);
    assertThat(errors(f)).hasSize(1);
    assertThat(p.field()).isEqualTo("metadata.namespace");
    assertThat(p.describe()).doesNotContain("\n").doesNotContain("\u001b").contains("\\u001b[31m\\u000aFAKE LOG LINE")
        .contains("DNS-1123 label");
  }

  @Test
  void resourceNamesFollowTheirKindsRule() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: reviews.v1, namespace: default}
        spec: {ports: [{name: http, port: 9080}]}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: Bookinfo}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: "reviews_rule", namespace: default}
        spec: {host: reviews}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: reviews-v1.abc, namespace: default}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec: {ports: [{name: http, port: 9080}]}
        """ + GOOD);
    assertThat(ids(f)).containsExactly(new ResourceId("Pod", "default", "reviews-v1.abc"),
        new ResourceId("Service", "default", "reviews"), new ResourceId("VirtualService", "default", "good.one"));
    assertThat(errors(f)).extracting(p -> p.resource().kind() + " " + p.field()).containsExactly(
        "Service metadata.name", "Namespace metadata.name", "DestinationRule metadata.name");
    assertThat(errors(f).get(0).message()).contains("DNS-1123 label");
    assertThat(errors(f).get(2).message()).contains("DNS-1123 subdomain");
  }

  static String slice(String addressType, String address) {
    return """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: %s
        ports: [{name: http, port: 9080}]
        endpoints:
        - addresses: ["10.1.0.1"]
        - addresses: ["%s"]
        """.formatted(addressType, address);
  }

  @Test
  void anEndpointSliceAddressOfTheOtherFamilyOrNoFamilyIsRefusedWithTheField() {
    ParsedFile v6InV4 = parse(slice("IPv4", "fd00::1"));
    assertThat(v6InV4.resources()).isEmpty();
    assertThat(errors(v6InV4)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("endpoints[1].addresses[0]");
      assertThat(p.message()).contains("an IPv6 address, but addressType is IPv4");
    });
    ParsedFile v4InV6 = parse(slice("IPv6", "10.1.0.2").replace("10.1.0.1", "fd00::2"));
    assertThat(errors(v4InV6)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("endpoints[1].addresses[0]");
      assertThat(p.message()).contains("an IPv4 address, but addressType is IPv6");
    });
    ParsedFile neither = parse(slice("IPv4", "unix:///var/run/x.sock"));
    assertThat(errors(neither)).singleElement().satisfies(p -> assertThat(p.message()).contains("not an IP address"));
    assertThat(parse(slice("IPv4", "10.1.0.2")).problems()).isEmpty();
  }

  @Test
  void aUnixSocketEndpointNeedsAServiceEntryWithOnePort() {
    String entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: db, namespace: default}
        spec:
          hosts: [db.local]
          ports: [{number: 5432, name: tcp-db, protocol: TCP}%s]
          resolution: STATIC
          endpoints: [{address: "unix:///var/run/db.sock"}]
        """;
    assertThat(parse(entry.formatted("")).problems()).isEmpty();
    ParsedFile two = parse(entry.formatted(", {number: 5433, name: tcp-other, protocol: TCP}"));
    assertThat(two.resources()).isEmpty();
    assertThat(errors(two)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.endpoints[0].address");
      assertThat(p.message()).contains("exactly one port");
    });
  }

  @Test
  void simpleTlsWithTheSystemRootsIsReadWithoutProblemsAndCredentialNameIsAnErrorThatKeepsTheRule() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: external, namespace: default}
        spec:
          host: api.example.com
          trafficPolicy:
            portLevelSettings:
            - port: {number: 443}
              tls: {mode: SIMPLE, sni: api.example.com, subjectAltNames: [api.example.com]}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy:
              tls: {mode: MUTUAL, credentialName: client-cert}
        """);
    assertThat(ids(f)).containsExactly(new ResourceId("DestinationRule", "default", "external"));
    DestinationRule dr = (DestinationRule) f.resources().get(0);
    DestinationRule.Tls simple = dr.trafficPolicy().portLevelSettings().get(0).tls();
    assertThat(simple.originates()).isTrue();
    assertThat(simple.caCertificates()).isNull();
    assertThat(dr.subsets().get(0).trafficPolicy().tls().credentialName()).isEqualTo("client-cert");
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.subsets[0].trafficPolicy.tls.credentialName");
      assertThat(p.message()).contains("sent over SDS only to Envoy proxies that proved their identity on the secure "
          + "port").contains("proxyless gRPC clients").contains("plaintext port").contains("left out")
          .contains("caCertificates, clientCertificate and privateKey");
    });
  }

  @Test
  void tlsFilesAreReadAndWhatProxylessClientsCannotHonourIsAnError() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: db-mtls, namespace: default}
        spec:
          host: mydb.example.com
          trafficPolicy:
            tls:
              mode: MUTUAL
              clientCertificate: /etc/certs/client.pem
              privateKey: /etc/certs/client-key.pem
              caCertificates: /etc/certs/root.pem
              insecureSkipVerify: false
        """);
    DestinationRule.Tls tls = ((DestinationRule) f.resources().get(0)).trafficPolicy().tls();
    assertThat(tls).isEqualTo(new DestinationRule.Tls("MUTUAL", null, java.util.List.of(), "/etc/certs/root.pem",
        "/etc/certs/client.pem", "/etc/certs/client-key.pem", null, false, null));
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.trafficPolicy.tls.mode");
      assertThat(p.message()).contains("proxyless gRPC clients").contains("caCertificates (a file)")
          .contains("Envoy proxies originate it");
    });
    ParsedFile half = parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: half, namespace: default}
        spec:
          host: mydb.example.com
          trafficPolicy:
            tls: {mode: SIMPLE, clientCertificate: /etc/certs/client.pem}
        """);
    assertThat(errors(half)).extracting(ConfigProblem::message)
        .anySatisfy(m -> assertThat(m).contains("clientCertificate and privateKey go together"));
  }

  @Test
  void requestAuthenticationKeepsEveryFieldOfItsRules() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: default}
        spec:
          selector: {matchLabels: {app: reviews}}
          jwtRules:
          - issuer: https://accounts.example.com
            jwksUri: https://accounts.example.com/.well-known/jwks.json
            audiences: [reviews]
            fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
            forwardOriginalToken: true
            outputClaimToHeaders: [{header: x-sub, claim: sub}]
            timeout: 5s
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(f.resources()).singleElement().isEqualTo(new RequestAuthentication(
        new ResourceId("RequestAuthentication", "default", "jwt"), java.util.Map.of("app", "reviews"),
        java.util.List.of(), java.util.List.of(new RequestAuthentication.JwtRule("https://accounts.example.com",
            java.util.List.of("reviews"), "https://accounts.example.com/.well-known/jwks.json", null,
            java.util.List.of(new RequestAuthentication.TokenHeader("x-jwt", "Bearer ")), java.util.List.of(),
            java.util.List.of(), null, java.util.List.of(new RequestAuthentication.ClaimToHeader("x-sub", "sub")),
            true, java.time.Duration.ofSeconds(5)))));
    assertThat(warnings(f)).isEmpty();
  }

  @Test
  void anInlineKeySetEnvoyCannotReadRejectsTheRequestAuthentication() {
    for (String jwks : java.util.List.of("not json", "{\"keys\": []}", "{\"keys\": [{\"kty\": \"RSA\", \"e\": \"AQAB\"}]}",
        "{\"keys\": [{\"kty\": \"RSA\", \"n\": \"a b\", \"e\": \"AQAB\"}]}", "[1]",
        "{\"keys\": [{\"kty\": \"DSA\"}]}")) {
      ParsedFile f = parse("""
          apiVersion: security.istio.io/v1
          kind: RequestAuthentication
          metadata: {name: jwt, namespace: default}
          spec:
            jwtRules:
            - issuer: https://accounts.example.com
              jwks: '%s'
          """.formatted(jwks));
      assertThat(f.resources()).as(jwks).isEmpty();
      assertThat(errors(f)).as(jwks).singleElement().satisfies(p -> {
        assertThat(p.field()).isEqualTo("spec.jwtRules[0].jwks");
        assertThat(p.message()).contains("key set");
      });
    }
    String many = "{\"keys\": [" + String.join(",", java.util.Collections.nCopies(weft.model.Jwks.MAX_KEYS + 1,
        "{\"kty\": \"oct\", \"k\": \"AAAA\"}")) + "]}";
    assertThat(weft.model.Jwks.problem(many)).contains("at most " + weft.model.Jwks.MAX_KEYS);
    assertThat(weft.model.Jwks.problem("x".repeat(weft.model.Jwks.MAX_CHARS + 1))).contains("characters");
  }

  @Test
  void requestAuthenticationBreakingTheSchemaIsRefusedWithTheField() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: default}
        spec:
          jwtRules:
          - jwksUri: "file:///etc/passwd"
            issuerr: typo
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).containsExactlyInAnyOrder("spec.jwtRules[0].issuer",
        "spec.jwtRules[0].jwksUri", "spec.jwtRules[0].issuerr");
  }
}
