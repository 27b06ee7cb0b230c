package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;
import weft.model.StringMatch;
import weft.model.VirtualService;
import weft.model.VirtualService.Destination;
import weft.model.VirtualService.HttpRoute;
import weft.model.VirtualService.RouteDestination;

class VirtualServiceParserTest {
  private static final String REVIEWS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: reviews
        namespace: bookinfo
      spec:
        hosts:
        - reviews
        http:
        - name: jason
          match:
          - headers:
              End-User:
                exact: jason
            uri:
              prefix: /reviews
            ignoreUriCase: true
          route:
          - destination:
              host: reviews
              subset: v2
        - route:
          - destination:
              host: reviews
              subset: v1
              port:
                number: 9080
            weight: 80
          - destination:
              host: reviews
              subset: v2
            weight: 20
          timeout: 10s
          retries:
            attempts: 3
            perTryTimeout: 2s
            retryOn: gateway-error,connect-failure,refused-stream
          fault:
            delay:
              percentage:
                value: 0.1
              fixedDelay: 5s
            abort:
              percentage:
                value: 10
              httpStatus: 400
          rewrite:
            uri: /v1/reviews
        exportTo:
        - "."
      """;

  @Test
  void readsTheReviewsExample() {
    VirtualService vs = only(parse(REVIEWS), VirtualService.class);
    assertThat(vs.id()).isEqualTo(new ResourceId("VirtualService", "bookinfo", "reviews"));
    assertThat(vs.hosts()).containsExactly("reviews");
    assertThat(vs.gateways()).isEmpty();
    assertThat(vs.exportTo()).containsExactly(".");
    assertThat(vs.http()).hasSize(2);

    HttpRoute jason = vs.http().get(0);
    assertThat(jason.name()).isEqualTo("jason");
    assertThat(jason.match()).hasSize(1);
    var match = jason.match().get(0);
    assertThat(match.headers()).containsOnlyKeys("end-user");
    assertThat(match.headers().get("end-user")).isEqualTo(new StringMatch(StringMatch.Kind.EXACT, "jason"));
    assertThat(match.uri()).isEqualTo(new StringMatch(StringMatch.Kind.PREFIX, "/reviews"));
    assertThat(match.ignoreUriCase()).isTrue();
    assertThat(match.port()).isZero();
    assertThat(jason.route()).containsExactly(new RouteDestination(new Destination("reviews", "v2", 0), 0));
    assertThat(jason.timeout()).isNull();
    assertThat(jason.retries()).isNull();

    HttpRoute split = vs.http().get(1);
    assertThat(split.route()).containsExactly(
        new RouteDestination(new Destination("reviews", "v1", 9080), 80),
        new RouteDestination(new Destination("reviews", "v2", 0), 20));
    assertThat(split.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(split.retries()).isEqualTo(new VirtualService.Retry(3, Duration.ofSeconds(2),
        "gateway-error,connect-failure,refused-stream"));
    assertThat(split.fault().delay()).isEqualTo(new VirtualService.Fault.Delay(Duration.ofSeconds(5), 0.1));
    assertThat(split.fault().abort()).isEqualTo(new VirtualService.Fault.Abort(400, null, 10.0));
    assertThat(split.rewrite()).isEqualTo(new VirtualService.Rewrite("/v1/reviews", null));
  }

  @Test
  void acceptsWeightsThatDoNotAddUpTo100AndUnknownHosts() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: canary}
        spec:
          hosts: [ratings.prod.svc.cluster.local]
          http:
          - route:
            - destination: {host: ratings-v1.does-not-exist.svc.cluster.local}
              weight: 30
            - destination: {host: ratings-v2}
              weight: 30
        """);
    VirtualService vs = only(f, VirtualService.class);
    assertThat(vs.id().namespace()).isEqualTo("default");
    assertThat(vs.http().get(0).route()).extracting(RouteDestination::weight).containsExactly(30, 30);
    assertThat(f.problems()).isEmpty();
  }

  @Test
  void aLoneRouteWithoutWeightIsFine() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: details}
        spec:
          hosts: [details]
          http:
          - route:
            - destination: {host: details}
        """), VirtualService.class);
    assertThat(vs.http().get(0).route().get(0).weight()).isZero();
  }

  @Test
  void acceptsSnakeCaseAndStringNumbers() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: snake}
        spec:
          hosts: [reviews]
          export_to: ["*"]
          http:
          - match:
            - without_headers:
                x-canary: {}
              query_params:
                debug: {exact: "1"}
              source_labels: {app: productpage}
              port: "9080"
            route:
            - destination: {host: reviews, port: {number: "9080"}}
              weight: "100"
            retries: {attempts: "2", per_try_timeout: 500ms}
        """), VirtualService.class);
    assertThat(vs.exportTo()).containsExactly("*");
    var match = vs.http().get(0).match().get(0);
    assertThat(match.port()).isEqualTo(9080);
    assertThat(match.withoutHeaders()).containsEntry("x-canary", StringMatchParser.PRESENT);
    assertThat(match.queryParams()).containsEntry("debug", new StringMatch(StringMatch.Kind.EXACT, "1"));
    assertThat(match.sourceLabels()).containsEntry("app", "productpage");
    assertThat(vs.http().get(0).route().get(0)).isEqualTo(new RouteDestination(new Destination("reviews", null, 9080), 100));
    assertThat(vs.http().get(0).retries().attempts()).isEqualTo(2);
    assertThat(vs.http().get(0).retries().perTryTimeout()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void readsTcpRoutesAndGrpcAbort() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: mongo, namespace: backend}
        spec:
          hosts: [mongo.backend.svc.cluster.local]
          gateways: [mesh]
          tcp:
          - match:
            - port: 27017
              destinationSubnets: [10.0.0.0/8]
              sourceLabels: {app: api}
            route:
            - destination: {host: mongo.backend.svc.cluster.local, port: {number: 5555}}
          http:
          - route:
            - destination: {host: mongo.backend.svc.cluster.local}
            fault:
              abort: {grpcStatus: UNAVAILABLE}
              delay: {fixedDelay: 1s, percent: 50}
        """), VirtualService.class);
    assertThat(vs.tcp()).hasSize(1);
    assertThat(vs.tcp().get(0).match().get(0)).isEqualTo(
        new VirtualService.TcpMatch(27017, java.util.List.of("10.0.0.0/8"), java.util.Map.of("app", "api")));
    assertThat(vs.tcp().get(0).route().get(0).destination().port()).isEqualTo(5555);
    assertThat(vs.http().get(0).fault().abort()).isEqualTo(new VirtualService.Fault.Abort(0, "UNAVAILABLE", null));
    assertThat(vs.http().get(0).fault().delay().percentage()).isEqualTo(50.0);
  }

  @Test
  void routeFeaturesProxylessClientsCannotHonourGiveOneWarningEachNamingTheEffect() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: mirrored}
        spec:
          hosts: [httpbin]
          http:
          - route:
            - destination: {host: httpbin, subset: v1}
              weight: 100
            mirror:
              host: httpbin
              subset: v2
            mirrorPercentage: {value: 100.0}
            corsPolicy:
              allowOrigins: [{exact: https://example.com}]
            headers:
              request:
                set: {x-weft: "1"}
            fault:
              delay: {exponentialDelay: 1s}
        """);
    VirtualService vs = only(f, VirtualService.class);
    assertThat(warnings(f)).extracting(p -> p.field()).containsExactlyInAnyOrder(
        "spec.http[0].mirror", "spec.http[0].corsPolicy", "spec.http[0].headers",
        "spec.http[0].fault.delay.exponentialDelay");
    assertThat(warnings(f)).filteredOn(p -> p.field().equals("spec.http[0].mirror")).singleElement()
        .extracting(p -> p.message()).asString().contains("honoured by Envoy sidecars and gateways")
        .contains("proxyless gRPC clients").doesNotContain("Istio");
    var http = vs.http().get(0);
    assertThat(http.mirrors()).containsExactly(new VirtualService.Mirror(
        new VirtualService.Destination("httpbin", "v2", 0), 100.0));
    assertThat(http.cors().allowOrigins()).containsExactly(new StringMatch(StringMatch.Kind.EXACT,
        "https://example.com"));
    assertThat(http.headers().request().set()).containsEntry("x-weft", "1");
    assertThat(http.fault().delay()).isNull();
  }

  @Test
  void aHostlessVirtualServiceIsADelegateAndARootRouteNamesIt() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: root, namespace: default}
        spec:
          hosts: [bookinfo.example.com]
          gateways: [istio-system/ingress]
          http:
          - match: [{uri: {prefix: /productpage}}]
            delegate: {name: productpage, namespace: bookinfo}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: productpage, namespace: bookinfo}
        spec:
          http:
          - match: [{uri: {prefix: /productpage/v1}}]
            route: [{destination: {host: productpage-v1}}]
        """);
    assertThat(errors(f)).isEmpty();
    VirtualService root = f.resources().stream().map(VirtualService.class::cast)
        .filter(v -> v.id().name().equals("root")).findFirst().orElseThrow();
    assertThat(root.http().get(0).delegate()).isEqualTo(new VirtualService.Delegate("productpage", "bookinfo"));
    VirtualService delegate = f.resources().stream().map(VirtualService.class::cast)
        .filter(v -> v.id().name().equals("productpage")).findFirst().orElseThrow();
    assertThat(delegate.hosts()).isEmpty();
  }

  @Test
  void redirectsDirectResponsesAndPerDestinationHeadersAreRead() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: edge}
        spec:
          hosts: [httpbin]
          http:
          - match: [{uri: {exact: /old}}]
            redirect: {uri: /new, authority: other, scheme: https, derivePort: FROM_REQUEST_PORT, redirectCode: 308}
          - match: [{uri: {exact: /ping}}]
            directResponse: {status: 503, body: {bytes: aGVsbG8=}}
          - route:
            - destination: {host: httpbin}
              headers: {response: {remove: [x-internal]}}
        """), VirtualService.class);
    assertThat(vs.http().get(0).redirect()).isEqualTo(new VirtualService.Redirect("/new", "other", 0,
        "FROM_REQUEST_PORT", "https", 308));
    assertThat(vs.http().get(1).directResponse()).isEqualTo(new VirtualService.DirectResponse(503,
        "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(vs.http().get(2).route().get(0).headers().response().remove()).containsExactly("x-internal");
  }

  @Test
  void aRouteWithOnlyARedirectIsKeptWithAWarning() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: redirect}
        spec:
          hosts: [old.example.com]
          http:
          - redirect: {uri: /v2, authority: new.example.com}
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(f.resources()).hasSize(1);
    assertThat(warnings(f)).singleElement().extracting(p -> p.field()).isEqualTo("spec.http[0].redirect");
  }

  @Test
  void regexAndPresenceMatches() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: regex}
        spec:
          hosts: ["*.example.com"]
          gateways: [istio-system/ingress, mesh]
          http:
          - match:
            - uri: {regex: "^/api/v[0-9]+/.*"}
              method: {exact: GET}
              authority: {prefix: api.}
              headers:
                x-present: {}
              sourceNamespace: frontend
            route:
            - destination: {host: api.example.com}
        """), VirtualService.class);
    var m = vs.http().get(0).match().get(0);
    assertThat(m.uri()).isEqualTo(new StringMatch(StringMatch.Kind.REGEX, "^/api/v[0-9]+/.*"));
    assertThat(m.method().kind()).isEqualTo(StringMatch.Kind.EXACT);
    assertThat(m.authority().kind()).isEqualTo(StringMatch.Kind.PREFIX);
    assertThat(m.headers().get("x-present")).isEqualTo(new StringMatch(StringMatch.Kind.REGEX, ".*"));
    assertThat(m.sourceNamespace()).isEqualTo("frontend");
    assertThat(vs.gateways()).containsExactly("istio-system/ingress", "mesh");
  }

  /** The VirtualService of Istio's samples/multicluster/expose-istiod.yaml. */
  static final String EXPOSE_ISTIOD_VS = """
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: istiod-vs, namespace: istio-system}
      spec:
        hosts: ["*"]
        gateways: [istiod-gateway]
        tls:
        - match:
          - port: 15012
            sniHosts: ["*"]
          route:
          - destination:
              host: istiod.istio-system.svc.cluster.local
              port: {number: 15012}
        - match:
          - port: 15017
            sniHosts: ["*"]
          route:
          - destination:
              host: istiod.istio-system.svc.cluster.local
              port: {number: 443}
      """;

  @Test
  void tlsRoutesOfExposeIstiodAreReadWithTheirPortAndSniMatches() {
    ParsedFile f = parse(EXPOSE_ISTIOD_VS);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).isEmpty();
    VirtualService vs = only(f, VirtualService.class);
    assertThat(vs.tls()).hasSize(2);
    assertThat(vs.tls().get(0).match()).containsExactly(
        new VirtualService.TlsMatch(java.util.List.of("*"), java.util.List.of(), 15012, java.util.Map.of(),
            java.util.List.of()));
    assertThat(vs.tls().get(1).route()).containsExactly(new RouteDestination(
        new Destination("istiod.istio-system.svc.cluster.local", null, 443), 0));
  }

  @Test
  void tlsRouteWithoutMatchOrWithAnSniOutsideTheHostsIsRejectedNamingTheField() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bad-tls, namespace: istio-system}
        spec:
          hosts: ["*.example.com"]
          gateways: [eastwest]
          tls:
          - route:
            - destination: {host: a.example.com}
          - match:
            - sniHosts: [b.example.org]
              gateways: [Not_A_Gateway]
            route:
            - destination: {host: b.example.com}
          - match:
            - port: 443
            route:
            - destination: {host: c.example.com}
        """);
    assertThat(errors(f)).extracting(p -> p.field()).containsExactlyInAnyOrder(
        "spec.tls[0].match", "spec.tls[1].match[0].sniHosts[0]", "spec.tls[1].match[0].gateways[0]",
        "spec.tls[2].match[0].sniHosts");
    assertThat(errors(f)).filteredOn(p -> p.field().equals("spec.tls[1].match[0].sniHosts[0]")).singleElement()
        .extracting(p -> p.message()).asString().contains("b.example.org", "*.example.com");
  }

  @Test
  void tlsRoutesOnAMeshBoundVirtualServiceAreKeptWithAWarningThatOnlyGatewaysApplyThem() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: mesh-tls, namespace: default}
        spec:
          hosts: [api.example.com]
          tls:
          - match:
            - sniHosts: [api.example.com]
            route:
            - destination: {host: api.example.com, port: {number: 443}}
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).singleElement().extracting(p -> p.field()).isEqualTo("spec.tls");
    assertThat(only(f, VirtualService.class).tls()).hasSize(1);
  }
}
