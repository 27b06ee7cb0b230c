package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.Sidecar;

class SidecarParserTest {
  @Test
  void readsEgressListeners() {
    Sidecar sc = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: ratings
          namespace: prod-us1
        spec:
          workloadSelector:
            labels:
              app: ratings
          egress:
          - port:
              number: 9080
            hosts:
            - prod-us1/*
          - hosts:
            - istio-system/*
            - "./*"
            - "*/*.example.com"
            - "~/*"
        """), Sidecar.class);
    assertThat(sc.workloadSelector()).isEqualTo(Map.of("app", "ratings"));
    assertThat(sc.egress()).containsExactly(new Sidecar.Egress(9080, List.of("prod-us1/*")),
        new Sidecar.Egress(0, List.of("istio-system/*", "./*", "*/*.example.com", "~/*")));
  }

  @Test
  void namespaceWideSidecarHasNoSelectorAndWarnsAboutIngress() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: prod}
        spec:
          egress:
          - hosts: ["./*", "istio-system/*"]
          ingress:
          - port: {number: 9080, protocol: HTTP, name: somename}
            defaultEndpoint: 127.0.0.1:8080
          outboundTrafficPolicy:
            mode: REGISTRY_ONLY
        """);
    Sidecar sc = only(f, Sidecar.class);
    assertThat(sc.workloadSelector()).isNull();
    assertThat(sc.outboundTrafficPolicy()).isEqualTo("REGISTRY_ONLY");
    assertThat(warnings(f)).extracting(p -> p.field()).containsExactlyInAnyOrder("spec.ingress");
    assertThat(errors(f)).isEmpty();
  }
}
