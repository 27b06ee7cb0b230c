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
    assertThat(sc.ingress()).containsExactly(
        new Sidecar.Ingress(9080, "HTTP", "somename", null, "DEFAULT", "127.0.0.1:8080", null));
    // Honoured for Envoy sidecars; the warnings name what proxyless gRPC workloads do instead.
    assertThat(warnings(f)).extracting(p -> p.field())
        .containsExactlyInAnyOrder("spec.ingress", "spec.outboundTrafficPolicy");
    assertThat(warnings(f)).allSatisfy(p -> assertThat(p.message()).contains("applied to Envoy sidecars")
        .contains("proxyless gRPC"));
    assertThat(errors(f)).isEmpty();
  }

  @Test
  void readsEgressPortBindCaptureModeIngressAndConnectionPools() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: bookinfo, namespace: bookinfo}
        spec:
          workloadSelector: {labels: {app: productpage}}
          ingress:
          - port: {number: 9080, protocol: HTTP, name: http}
            defaultEndpoint: 0.0.0.0:8080
            connectionPool: {tcp: {maxConnections: 7}}
          - port: {number: 9443, protocol: TCP, name: tcp}
            bind: 10.1.2.3
            captureMode: NONE
            defaultEndpoint: unix:///var/run/app.sock
          inboundConnectionPool:
            http: {http1MaxPendingRequests: 3, maxRequestsPerConnection: 2}
          egress:
          - port: {number: 3306, protocol: MYSQL, name: mysql}
            bind: 127.0.0.1
            captureMode: NONE
            hosts: ["*/mysql.example.com"]
          - captureMode: IPTABLES
            hosts: ["istio-system/*"]
        """);
    Sidecar sc = only(f, Sidecar.class);
    assertThat(sc.egress()).containsExactly(
        new Sidecar.Egress(3306, List.of("*/mysql.example.com"), "MySQL", "127.0.0.1", "NONE"),
        new Sidecar.Egress(0, List.of("istio-system/*"), null, null, "IPTABLES"));
    assertThat(sc.egress().get(0).bindsToPort()).isTrue();
    assertThat(sc.ingress()).hasSize(2);
    assertThat(sc.ingress().get(1)).isEqualTo(new Sidecar.Ingress(9443, "TCP", "tcp", "10.1.2.3", "NONE",
        "unix:///var/run/app.sock", null));
    assertThat(sc.inboundConnectionPool(9080).maxConnections()).isEqualTo(7);
    assertThat(sc.inboundConnectionPool(9443).http1MaxPendingRequests()).isEqualTo(3);
    assertThat(sc.inboundConnectionPool(9443).maxRequestsPerConnection()).isEqualTo(2);
    // Exactly one warning per field, each naming the effect for proxyless gRPC workloads.
    assertThat(warnings(f)).extracting(p -> p.field()).containsExactlyInAnyOrder("spec.egress[0].port",
        "spec.egress[0].bind", "spec.egress[1].captureMode", "spec.ingress", "spec.inboundConnectionPool");
  }

  @Test
  void rejectsWhatIstioRejectsInListeners() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: bad, namespace: shop}
        spec:
          ingress:
          - port: {number: 80, protocol: HTTP, targetPort: 8080}
            defaultEndpoint: 10.0.0.1:8080
          - port: {number: 80, protocol: HTTP}
            bind: not-an-ip
          egress:
          - port: {number: 0}
            hosts: ["./*"]
          - port: {number: 81}
            captureMode: SOMETIMES
            hosts: ["./*"]
        """);
    assertThat(errors(f)).extracting(p -> p.field()).containsExactlyInAnyOrder(
        "spec.ingress[0].port.targetPort", "spec.ingress[0].defaultEndpoint", "spec.ingress[1].port.number",
        "spec.ingress[1].bind", "spec.egress[0].bind", "spec.egress[1].captureMode");
  }

  @Test
  void defaultEndpointFormsAreIstios() {
    assertThat(SidecarParser.defaultEndpoint("127.0.0.1:8080")).isNull();
    assertThat(SidecarParser.defaultEndpoint("0.0.0.0:8080")).isNull();
    assertThat(SidecarParser.defaultEndpoint("[::1]:8080")).isNull();
    assertThat(SidecarParser.defaultEndpoint("[::]:8080")).isNull();
    assertThat(SidecarParser.defaultEndpoint(":8080")).isNull();
    assertThat(SidecarParser.defaultEndpoint("unix:///var/run/a.sock")).isNull();
    assertThat(SidecarParser.defaultEndpoint("10.0.0.1:8080")).contains("must send to the workload itself");
    assertThat(SidecarParser.defaultEndpoint("127.0.0.1")).contains("no port");
    assertThat(SidecarParser.defaultEndpoint("127.0.0.1:0")).contains("no valid port");
    assertThat(SidecarParser.defaultEndpoint("::1:80")).contains("brackets");
  }

  @Test
  void egressProxyIsReadWithAllowAnyAndRefusedWithRegistryOnly() {
    ParsedFile ok = parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: out, namespace: shop}
        spec:
          outboundTrafficPolicy:
            mode: ALLOW_ANY
            egressProxy: {host: egress.istio-system.svc.cluster.local, port: {number: 3128}}
        """);
    Sidecar sc = only(ok, Sidecar.class);
    assertThat(sc.egressProxy()).isEqualTo(new weft.model.VirtualService.Destination(
        "egress.istio-system.svc.cluster.local", null, 3128));
    assertThat(warnings(ok)).extracting(p -> p.field()).containsExactly("spec.outboundTrafficPolicy.egressProxy");
    ParsedFile bad = parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: out, namespace: shop}
        spec:
          outboundTrafficPolicy:
            mode: REGISTRY_ONLY
            egressProxy: {host: egress.istio-system.svc.cluster.local}
        """);
    assertThat(errors(bad)).extracting(p -> p.message()).anySatisfy(m -> assertThat(m).contains("only with ALLOW_ANY"))
        .anySatisfy(m -> assertThat(m).contains("port is missing"));
  }
}
