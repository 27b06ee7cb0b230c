package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import org.junit.jupiter.api.Test;
import weft.model.ServiceEntry;
import weft.model.Sidecar;
import weft.model.VirtualService;

/** YAML Istio accepts that Weft used to reject, and messages that must not blame Istio for Weft's limits. */
class IstioAcceptsTest {
  @Test
  void upperCaseLettersInHostLabelsPortNamesAndSubsetsAreAcceptedAsIstiosChecksAreCaseInsensitive() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [API.Example.COM, "*.Internal.example.com"]
          ports: [{number: 443, name: HTTPS-Api, protocol: TLS}]
          resolution: NONE
        """), ServiceEntry.class);
    assertThat(se.hosts()).containsExactly("API.Example.COM", "*.Internal.example.com");
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: api, namespace: default}
        spec:
          hosts: [API.Example.COM]
          http:
          - match: [{sourceNamespace: Frontend}]
            route: [{destination: {host: API.Example.COM, subset: V1}}]
        """), VirtualService.class);
    assertThat(vs.http().get(0).route().get(0).destination().subset()).isEqualTo("V1");
  }

  @Test
  void partialWildcardsAreAcceptedWithoutAWarningThatBlamesIstio() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: partial, namespace: default}
        spec:
          hosts: ["*-api.example.com"]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: NONE
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["*/*-api.example.com"]
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).isEmpty();
  }

  @Test
  void sidecarEgressHostsWithTheTildeExclusionFormAreRead() {
    Sidecar sc = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: prod-us1}
        spec:
          egress:
          - hosts: ["*/*", "~prod-us2/*", "~prod-apis/foo.example.com", "~/bar.example.com"]
        """), Sidecar.class);
    assertThat(sc.egress().get(0).hosts()).contains("~prod-us2/*", "~/bar.example.com");
  }

  @Test
  void fieldsRemovedFromIstiosApiAreWarnedAndIgnoredNotRejected() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: old, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route: [{destination: {host: reviews}}]
            appendHeaders: {x-old: "1"}
            websocketUpgrade: true
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).extracting(p -> p.field())
        .contains("spec.http[0].appendHeaders", "spec.http[0].websocketUpgrade");
    assertThat(warnings(f)).filteredOn(p -> p.field().equals("spec.http[0].appendHeaders")).singleElement()
        .extracting(p -> p.message()).asString().contains("removed from Istio's API").contains("headers.request.add");
  }

  @Test
  void aWorkloadSelectorWithResolutionDnsIsNotCalledUseless() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: vms, namespace: default}
        spec:
          hosts: [vms.example.com]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
          workloadSelector: {labels: {app: vm}}
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).noneMatch(p -> p.message().contains("no effect"));
  }
}
