package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.FILE;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import weft.model.ConfigProblem;
import weft.model.Gateway;
import weft.model.Gateway.Port;
import weft.model.Gateway.Server;
import weft.model.Gateway.Tls;
import weft.model.ResourceId;

class GatewayParserTest {
  private static final Tls REDIRECT_ONLY = new Tls("PASSTHROUGH", true, null, null, null, null, List.of());

  // ---- Istio's own examples ----

  /** The example of Istio's Gateway reference (networking/v1alpha3/gateway.proto). */
  @Test
  void readsTheGatewayReferenceExample() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: my-gateway
          namespace: some-config-namespace
        spec:
          selector:
            app: my-gateway-controller
          servers:
          - port:
              number: 80
              name: http
              protocol: HTTP
            hosts:
            - uk.bookinfo.com
            - eu.bookinfo.com
            tls:
              httpsRedirect: true # sends 301 redirect for http requests
          - port:
              number: 443
              name: https-443
              protocol: HTTPS
            hosts:
            - uk.bookinfo.com
            - eu.bookinfo.com
            tls:
              mode: SIMPLE # enables HTTPS on this port
              serverCertificate: /etc/certs/servercert.pem
              privateKey: /etc/certs/privatekey.pem
          - port:
              number: 9443
              name: https-9443
              protocol: HTTPS
            hosts:
            - "bookinfo-namespace/*.bookinfo.com"
            tls:
              mode: SIMPLE # enables HTTPS on this port
              credentialName: bookinfo-secret # fetches certs from Kubernetes secret
          - port:
              number: 9080
              name: http-wildcard
              protocol: HTTP
            hosts:
            - "*"
          - port:
              number: 2379 # to expose internal service via external port 2379
              name: mongo
              protocol: MONGO
            hosts:
            - "*"
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(f.problems()).isEmpty();
    assertThat(gw.id()).isEqualTo(new ResourceId("Gateway", "some-config-namespace", "my-gateway"));
    assertThat(gw.selector()).isEqualTo(Map.of("app", "my-gateway-controller"));
    List<String> bookinfo = List.of("uk.bookinfo.com", "eu.bookinfo.com");
    assertThat(gw.servers()).containsExactly(
        new Server(new Port(80, "HTTP", "http", 0), bookinfo, REDIRECT_ONLY, null, null),
        new Server(new Port(443, "HTTPS", "https-443", 0), bookinfo,
            new Tls("SIMPLE", false, null, "/etc/certs/servercert.pem", "/etc/certs/privatekey.pem", null, List.of()),
            null, null),
        new Server(new Port(9443, "HTTPS", "https-9443", 0), List.of("bookinfo-namespace/*.bookinfo.com"),
            new Tls("SIMPLE", false, "bookinfo-secret", null, null, null, List.of()), null, null),
        new Server(new Port(9080, "HTTP", "http-wildcard", 0), List.of("*"), null, null, null),
        new Server(new Port(2379, "MONGO", "mongo", 0), List.of("*"), null, null, null));
  }

  /** An ingress gateway as Istio's secure-ingress task writes it: HTTP 80 redirecting to HTTPS 443. */
  @Test
  void readsAnIngressGatewayWithHttpAndHttpsCredential() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata:
          name: mygateway
          namespace: istio-system
        spec:
          selector:
            istio: ingressgateway # use istio default ingress gateway
          servers:
          - port:
              number: 80
              name: http
              protocol: HTTP
            hosts:
            - httpbin.example.com
            tls:
              httpsRedirect: true
          - port:
              number: 443
              name: https
              protocol: HTTPS
            tls:
              mode: SIMPLE
              credentialName: httpbin-credential # must be the same as secret
            hosts:
            - httpbin.example.com
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(f.problems()).isEmpty();
    assertThat(gw.selector()).isEqualTo(Map.of("istio", "ingressgateway"));
    assertThat(gw.servers()).containsExactly(
        new Server(new Port(80, "HTTP", "http", 0), List.of("httpbin.example.com"), REDIRECT_ONLY, null, null),
        new Server(new Port(443, "HTTPS", "https", 0), List.of("httpbin.example.com"),
            new Tls("SIMPLE", false, "httpbin-credential", null, null, null, List.of()), null, null));
  }

  /** Istio's multicluster east-west gateway (samples/multicluster/expose-services.yaml). */
  @Test
  void readsTheCrossNetworkGateway() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1beta1
        kind: Gateway
        metadata:
          name: cross-network-gateway
          namespace: istio-system
        spec:
          selector:
            istio: eastwestgateway
          servers:
            - port:
                number: 15443
                name: tls
                protocol: TLS
              tls:
                mode: AUTO_PASSTHROUGH
              hosts:
                - "*.local"
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(f.problems()).isEmpty();
    assertThat(gw.id()).isEqualTo(new ResourceId("Gateway", "istio-system", "cross-network-gateway"));
    assertThat(gw.selector()).isEqualTo(Map.of("istio", "eastwestgateway"));
    assertThat(gw.servers()).containsExactly(new Server(new Port(15443, "TLS", "tls", 0), List.of("*.local"),
        new Tls("AUTO_PASSTHROUGH", false, null, null, null, null, List.of()), null, null));
  }

  // ---- reading ----

  @Test
  void acceptsSnakeCaseProtocolsInAnyCaseAndEveryForm() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: prod}
        spec:
          servers:
          - port: {number: "8443", name: https, protocol: https}
            name: web
            bind: 10.0.0.1
            hosts: ["./*.example.com", "*/api.example.com", "prod/*", "10.1.2.3"]
            tls:
              mode: MUTUAL
              server_certificate: /etc/certs/server.pem
              private_key: /etc/certs/key.pem
              ca_certificates: /etc/certs/ca.pem
              subject_alt_names: [spiffe://cluster.local/ns/prod/sa/client]
          - port: {number: 27017, name: mongo, protocol: Mongo}
            hosts: ["*"]
          - port: {number: 8081, name: grpc-web, protocol: grpc-Web}
            hosts: ["*"]
          - port: {number: 8080, name: plain, protocol: http}
            hosts: ["*"]
            tls: {https_redirect: true}
          - port: {number: 0, name: socket, protocol: TCP}
            bind: unix:///var/run/gateway.sock
            hosts: ["*"]
          - port: {name: abstract, protocol: TCP}
            bind: unix://@gateway
            hosts: ["*"]
          - port: {number: 9443, name: istio-mtls, protocol: TLS}
            hosts: ["*.global"]
            tls: {mode: ISTIO_MUTUAL, subjectAltNames: [a]}
          - port: {number: 9444, name: optional, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: OPTIONAL_MUTUAL, credentialName: optional-cred}
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(f.problems()).isEmpty();
    assertThat(gw.selector()).isEmpty();
    assertThat(gw.servers()).containsExactly(
        new Server(new Port(8443, "HTTPS", "https", 0),
            List.of("./*.example.com", "*/api.example.com", "prod/*", "10.1.2.3"),
            new Tls("MUTUAL", false, null, "/etc/certs/server.pem", "/etc/certs/key.pem", "/etc/certs/ca.pem",
                List.of("spiffe://cluster.local/ns/prod/sa/client")), "web", "10.0.0.1"),
        new Server(new Port(27017, "MONGO", "mongo", 0), List.of("*"), null, null, null),
        new Server(new Port(8081, "GRPC-WEB", "grpc-web", 0), List.of("*"), null, null, null),
        new Server(new Port(8080, "HTTP", "plain", 0), List.of("*"), REDIRECT_ONLY, null, null),
        new Server(new Port(0, "TCP", "socket", 0), List.of("*"), null, null, "unix:///var/run/gateway.sock"),
        new Server(new Port(0, "TCP", "abstract", 0), List.of("*"), null, null, "unix://@gateway"),
        new Server(new Port(9443, "TLS", "istio-mtls", 0), List.of("*.global"),
            new Tls("ISTIO_MUTUAL", false, null, null, null, null, List.of("a")), null, null),
        new Server(new Port(9444, "HTTPS", "optional", 0), List.of("*"),
            new Tls("OPTIONAL_MUTUAL", false, "optional-cred", null, null, null, List.of()), null, null));
  }

  @Test
  void everyIstioVersionIsRoutedToTheGatewayReader() {
    for (String version : List.of("v1", "v1beta1", "v1alpha3")) {
      ParsedFile f = parse("apiVersion: networking.istio.io/" + version + "\nkind: Gateway\nmetadata: {name: gw}\n"
          + "spec:\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n");
      assertThat(only(f, Gateway.class).id()).isEqualTo(new ResourceId("Gateway", "default", "gw"));
      assertThat(f.problems()).isEmpty();
    }
  }

  @Test
  void unsetTlsModeIsPassthroughAndCertificatesWithoutAModeAreAWarning() {
    // Istio's TLSmode enum starts at PASSTHROUGH: a server that names a secret but no mode does not
    // terminate TLS. Istio accepts it with a warning; so does Weft, keeping Istio's reading.
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw}
        spec:
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {credentialName: my-secret}
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(gw.servers().get(0).tls().mode()).isEqualTo("PASSTHROUGH");
    assertThat(gw.servers().get(0).tls().credentialName()).isEqualTo("my-secret");
    assertThat(warnings(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.servers[0].tls");
      assertThat(p.message()).contains("PASSTHROUGH").contains("mode: SIMPLE");
    });
  }

  @Test
  void httpsRedirectOnANonHttpServerIsAWarning() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw}
        spec:
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls: {mode: SIMPLE, credentialName: s, httpsRedirect: true}
        """);
    assertThat(only(f, Gateway.class).servers().get(0).tls().httpsRedirect()).isTrue();
    assertThat(warnings(f)).singleElement().extracting(ConfigProblem::field)
        .isEqualTo("spec.servers[0].tls.httpsRedirect");
  }

  // ---- fields Istio knows and Weft does not ----

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"minProtocolVersion: TLSV1_2", "max_protocol_version: TLSV1_3",
      "cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384]", "verifyCertificateSpki: [abc]", "verifyCertificateHash: [abc]",
      "caCertCredentialName: ca-secret", "insecureSkipVerify: true"})
  void anUnimplementedTlsFieldIsOneWarning(String field) {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw}
        spec:
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["*"]
            tls:
              mode: SIMPLE
              credentialName: secret
              FIELD
        """.replace("FIELD", field));
    only(f, Gateway.class);
    String name = field.substring(0, field.indexOf(':'));
    assertThat(f.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.WARNING);
      assertThat(p.file()).isEqualTo(FILE);
      assertThat(p.resource()).isEqualTo(new ResourceId("Gateway", "default", "gw"));
      assertThat(p.field()).isEqualTo("spec.servers[0].tls." + name);
      assertThat(p.message()).isEqualTo("spec.servers[0].tls." + name + " is not implemented by Weft yet; ignored");
    });
  }

  @Test
  void alternativeCertificateSourcesAreOneWarningEachAndSatisfyIstio() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw}
        spec:
          servers:
          - port: {number: 443, name: a, protocol: HTTPS}
            hosts: ["a.example.com"]
            tls: {mode: SIMPLE, credentialNames: [rsa-cert, ecdsa-cert]}
          - port: {number: 8443, name: b, protocol: HTTPS}
            hosts: ["b.example.com"]
            tls:
              mode: SIMPLE
              tlsCertificates:
              - {serverCertificate: /etc/rsa.pem, privateKey: /etc/rsa.key}
            defaultEndpoint: 127.0.0.1:8080
        """);
    Gateway gw = only(f, Gateway.class);
    assertThat(gw.servers()).extracting(s -> s.tls().credentialName()).containsOnlyNulls();
    assertThat(warnings(f)).extracting(ConfigProblem::field).containsExactly("spec.servers[0].tls.credentialNames",
        "spec.servers[1].tls.tlsCertificates", "spec.servers[1].defaultEndpoint");
  }

  // ---- typos ----

  @Test
  void aTypoIsAnErrorWithASuggestion() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gw}
        spec:
          selecter: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https, protocl: HTTPS}
            hots: ["*"]
            tls: {mode: SIMPLE, credentialNmae: secret}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field).contains("spec.selecter", "spec.servers[0].port.protocl",
        "spec.servers[0].hots", "spec.servers[0].tls.credentialNmae");
    assertThat(errors(f)).extracting(ConfigProblem::message).contains(
        "spec.selecter is not a field of Gateway; did you mean spec.selector? (known fields: selector, servers)",
        "spec.servers[0].hots is not a field of Server; did you mean spec.servers[0].hosts? (known fields: bind, port, "
            + "hosts, tls, defaultEndpoint, name)");
    assertThat(errors(f)).filteredOn(p -> p.field().equals("spec.servers[0].port.protocl")).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("did you mean spec.servers[0].port.protocol?"));
    assertThat(errors(f)).filteredOn(p -> p.field().equals("spec.servers[0].tls.credentialNmae")).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("did you mean spec.servers[0].tls.credentialName?"));
  }

  // ---- Istio's validation: the bad Gateway alone is rejected ----

  private static final String SIBLING = """
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: sibling, namespace: default}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: ["*"]
      """;
  private static final ResourceId SIBLING_ID = new ResourceId("Gateway", "default", "sibling");
  private static final ResourceId BAD = new ResourceId("Gateway", "default", "bad");

  static Stream<Arguments> violations() {
    return Stream.of(
        spec("no servers", "selector: {istio: ingressgateway}\n", "spec.servers", "is missing"),
        spec("empty servers", "servers: []\n", "spec.servers", "is empty"),
        spec("servers not a list", "servers: {port: {number: 80}}\n", "spec.servers", "must be a list"),
        spec("malformed selector", """
            selector: {app: "has space"}
            servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
            """, "spec.selector.app", "label value"),
        spec("selector with bad key", """
            selector: {"app/": web}
            servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
            """, "spec.selector.app/", "label key"),
        spec("duplicate port names", """
            servers:
            - port: {number: 80, name: web, protocol: HTTP}
              hosts: ["*"]
            - port: {number: 8080, name: web, protocol: HTTP}
              hosts: ["*"]
            """, "spec.servers[1].port.name", "must be unique within a Gateway"),
        spec("typo in spec", "server: []\n", "spec.server", "did you mean spec.servers?"),
        server("server without port", "hosts: [\"*\"]\n", "spec.servers[0].port", "is missing"),
        server("port number zero", "port: {number: 0, name: http, protocol: HTTP}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.number", "between 1 and 65535"),
        server("port number too big", "port: {number: 70000, name: http, protocol: HTTP}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.number", "between 1 and 65535"),
        server("port number missing", "port: {name: http, protocol: HTTP}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.number", "is missing"),
        server("port number not a number", "port: {number: eighty, name: http, protocol: HTTP}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.number", "whole number"),
        server("protocol missing", "port: {number: 80, name: http}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.protocol", "is missing"),
        server("unknown protocol", "port: {number: 80, name: http, protocol: SPDY}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.protocol", "unknown protocol \"SPDY\""),
        server("port name missing", "port: {number: 80, protocol: HTTP}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.name", "is missing"),
        server("targetPort on a gateway", "port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n"
            + "hosts: [\"*\"]\n", "spec.servers[0].port.targetPort", "Istio refuses it"),
        server("no hosts", "port: {number: 80, name: http, protocol: HTTP}\n", "spec.servers[0].hosts",
            "is missing"),
        server("empty hosts", "port: {number: 80, name: http, protocol: HTTP}\nhosts: []\n",
            "spec.servers[0].hosts", "is empty"),
        host("short host name", "reviews", "short name"),
        host("short host name after namespace", "prod/reviews", "short name"),
        host("wildcard not first", "foo.*.example.com", "not a valid DNS name"),
        host("invalid namespace", "Prod/*", "invalid namespace \"Prod\""),
        host("tilde namespace", "~/*", "invalid namespace \"~\""),
        host("empty namespace", "/foo.example.com", "empty part"),
        host("empty dns name", "prod/", "empty part"),
        host("invalid label", "foo_bar.example.com", "not a valid DNS name"),
        host("numeric top-level label", "example.123", "all digits"),
        tls("unknown tls mode", "HTTPS", "{mode: STRICT, credentialName: s}", "spec.servers[0].tls.mode",
            "must be one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL, OPTIONAL_MUTUAL"),
        server("HTTPS without tls", "port: {number: 443, name: https, protocol: HTTPS}\nhosts: [\"*\"]\n",
            "spec.servers[0].tls", "is missing"),
        server("TLS with null tls", "port: {number: 443, name: tls, protocol: TLS}\nhosts: [\"*\"]\ntls: null\n",
            "spec.servers[0].tls", "is missing"),
        tls("SIMPLE without certificates", "HTTPS", "{mode: SIMPLE}", "spec.servers[0].tls",
            "needs credentialName (a Kubernetes secret), or serverCertificate and privateKey"),
        tls("SIMPLE without private key", "HTTPS", "{mode: SIMPLE, serverCertificate: /c.pem}",
            "spec.servers[0].tls.privateKey", "is missing"),
        tls("SIMPLE without certificate", "TLS", "{mode: SIMPLE, privateKey: /k.pem}",
            "spec.servers[0].tls.serverCertificate", "is missing"),
        tls("MUTUAL without certificates", "HTTPS", "{mode: MUTUAL, caCertificates: /ca.pem}", "spec.servers[0].tls",
            "mode MUTUAL needs credentialName"),
        tls("MUTUAL without CA", "HTTPS", "{mode: MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}",
            "spec.servers[0].tls.caCertificates", "is missing"),
        tls("OPTIONAL_MUTUAL without CA", "HTTPS",
            "{mode: OPTIONAL_MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}",
            "spec.servers[0].tls.caCertificates", "is missing"),
        tls("ISTIO_MUTUAL with credentialName", "TLS", "{mode: ISTIO_MUTUAL, credentialName: s}",
            "spec.servers[0].tls.credentialName", "cannot be used with mode ISTIO_MUTUAL"),
        tls("ISTIO_MUTUAL with certificate files", "HTTPS",
            "{mode: ISTIO_MUTUAL, serverCertificate: /c.pem, privateKey: /k.pem}",
            "spec.servers[0].tls.serverCertificate", "cannot be used with mode ISTIO_MUTUAL"),
        tls("two certificate sources", "HTTPS",
            "{mode: SIMPLE, credentialName: s, serverCertificate: /c.pem, privateKey: /k.pem}",
            "spec.servers[0].tls", "more than one certificate source"),
        tls("CRL with SIMPLE", "HTTPS", "{mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, caCrl: /crl}",
            "spec.servers[0].tls.caCrl", "not supported with mode SIMPLE"),
        tls("terminating TLS on plain HTTP", "HTTP", "{mode: SIMPLE, credentialName: s}", "spec.servers[0].tls",
            "plain-text HTTP server can only use tls for httpsRedirect"),
        tls("certificate files on plain HTTP", "HTTP", "{httpsRedirect: true, serverCertificate: /c.pem}",
            "spec.servers[0].tls", "plain-text HTTP server"),
        tls("tls on a TCP server", "TCP", "{mode: PASSTHROUGH}", "spec.servers[0].tls",
            "a TCP server cannot have TLS settings"),
        tls("tls on a MONGO server", "mongo", "{httpsRedirect: true}", "spec.servers[0].tls",
            "a MONGO server cannot have TLS settings"),
        tls("tls not a mapping", "HTTPS", "SIMPLE", "spec.servers[0].tls", "must be a mapping"),
        tls("httpsRedirect not a boolean", "HTTP", "{httpsRedirect: yes please}", "spec.servers[0].tls.httpsRedirect",
            "true or false"),
        server("bind not an IP", "port: {number: 80, name: http, protocol: HTTP}\nhosts: [\"*\"]\nbind: localhost\n",
            "spec.servers[0].bind", "not an IP address"),
        server("unix bind with a port", "port: {number: 80, name: http, protocol: HTTP}\nhosts: [\"*\"]\n"
            + "bind: unix:///var/run/gw.sock\n", "spec.servers[0].port.number", "must be 0"),
        server("unix bind with a relative path", "port: {name: http, protocol: HTTP}\nhosts: [\"*\"]\n"
            + "bind: unix://gw.sock\n", "spec.servers[0].bind", "absolute socket path"),
        server("typo in server", "port: {number: 80, name: http, protocol: HTTP}\nhots: [\"*\"]\n",
            "spec.servers[0].hots", "did you mean spec.servers[0].hosts?"),
        server("typo in port", "port: {number: 80, name: http, protocol: HTTP, nmae: x}\nhosts: [\"*\"]\n",
            "spec.servers[0].port.nmae", "did you mean spec.servers[0].port.name?"),
        tls("typo in tls", "HTTPS", "{mode: SIMPLE, credential_nam: s}", "spec.servers[0].tls.credential_nam",
            "did you mean spec.servers[0].tls.credentialName?"),
        tls("field of no schema in tls", "HTTPS", "{mode: SIMPLE, credentialName: s, sni: example.com}",
            "spec.servers[0].tls.sni", "not a field of ServerTLSSettings"));
  }

  private static Arguments spec(String name, String spec, String field, String message) {
    String yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: bad, namespace: default}\n"
        + "spec:\n" + indent(spec);
    return Arguments.of(name, yaml, field, message);
  }

  private static Arguments server(String name, String server, String field, String message) {
    String item = indent(server);
    return spec(name, "servers:\n- " + item.substring(2), field, message);
  }

  private static Arguments host(String name, String host, String message) {
    return server(name, "port: {number: 80, name: http, protocol: HTTP}\nhosts: [\"" + host + "\"]\n",
        "spec.servers[0].hosts[0]", message);
  }

  private static Arguments tls(String name, String protocol, String tls, String field, String message) {
    return server(name, "port: {number: 443, name: p, protocol: " + protocol + "}\nhosts: [\"*\"]\ntls: " + tls + "\n",
        field, message);
  }

  private static String indent(String s) {
    return s.lines().map(l -> "  " + l).reduce("", (a, b) -> a + b + "\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("violations")
  void rejectsTheGatewayAloneWithAnErrorNamingFileResourceAndField(String name, String yaml, String field,
      String message) {
    ParsedFile f = parse(yaml + "---\n" + SIBLING);

    assertThat(ids(f)).containsExactly(SIBLING_ID);
    assertThat(errors(f))
        .as("errors of %s: %s", name, f.problems())
        .anySatisfy(p -> {
          assertThat(p.file()).isEqualTo(FILE);
          assertThat(p.resource()).isEqualTo(BAD);
          assertThat(p.field()).isEqualTo(field);
          assertThat(p.message()).contains(message);
        });
    assertThat(errors(f)).allSatisfy(p -> assertThat(p.resource()).isEqualTo(BAD));
    assertThat(errors(f).get(0).describe()).contains(FILE).contains(BAD.toString());
  }

  @Test
  void aGatewayNameWithDotsIsRefusedAsIstioRefusesIt() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: my.gateway, namespace: prod}
        spec:
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
        ---
        """ + SIBLING);
    assertThat(ids(f)).containsExactly(SIBLING_ID);
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.resource()).isEqualTo(new ResourceId("Gateway", "prod", "my.gateway"));
      assertThat(p.field()).isEqualTo("metadata.name");
      assertThat(p.message()).contains("DNS-1123 label");
    });
  }
}
