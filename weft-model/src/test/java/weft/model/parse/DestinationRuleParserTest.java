package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.DestinationRule;
import weft.model.LocalityLbSetting;

class DestinationRuleParserTest {
  @Test
  void readsSubsetsLoadBalancingOutlierDetectionAndConnectionPool() {
    DestinationRule dr = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: reviews
          namespace: bookinfo
        spec:
          host: reviews.bookinfo.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              simple: LEAST_REQUEST
            connectionPool:
              tcp:
                maxConnections: 100
                connectTimeout: 30ms
              http:
                http1MaxPendingRequests: 10
                http2MaxRequests: 1000
                maxRequestsPerConnection: 10
                maxRetries: 3
            outlierDetection:
              consecutive5xxErrors: 7
              consecutiveGatewayErrors: 5
              interval: 5m
              baseEjectionTime: 15m
              maxEjectionPercent: 50
              minHealthPercent: 30
            tls:
              mode: ISTIO_MUTUAL
              sni: reviews.bookinfo.svc.cluster.local
              subjectAltNames: [spiffe://cluster.local/ns/bookinfo/sa/reviews]
            portLevelSettings:
            - port: {number: 9080}
              loadBalancer: {simple: ROUND_ROBIN}
          subsets:
          - name: v1
            labels:
              version: v1
          - name: v2
            labels:
              version: v2
            trafficPolicy:
              loadBalancer:
                consistentHash:
                  httpCookie: {name: user}
                  ringHash: {minimumRingSize: 1024}
          exportTo: [".", istio-system]
        """), DestinationRule.class);
    assertThat(dr.host()).isEqualTo("reviews.bookinfo.svc.cluster.local");
    DestinationRule.TrafficPolicy tp = dr.trafficPolicy();
    assertThat(tp.port()).isZero();
    assertThat(tp.loadBalancer()).isEqualTo(new DestinationRule.LoadBalancer("LEAST_REQUEST", null, null));
    assertThat(tp.connectionPool()).isEqualTo(
        new DestinationRule.ConnectionPool(100, Duration.ofMillis(30), 10, 1000, 10, 3));
    assertThat(tp.outlierDetection()).isEqualTo(new DestinationRule.OutlierDetection(7, 5, Duration.ofMinutes(5),
        Duration.ofMinutes(15), 50, 30));
    assertThat(tp.tls()).isEqualTo(new DestinationRule.Tls("ISTIO_MUTUAL", "reviews.bookinfo.svc.cluster.local",
        List.of("spiffe://cluster.local/ns/bookinfo/sa/reviews")));
    assertThat(tp.portLevelSettings()).singleElement().satisfies(p -> {
      assertThat(p.port()).isEqualTo(9080);
      assertThat(p.loadBalancer().simple()).isEqualTo("ROUND_ROBIN");
    });
    assertThat(dr.subsets()).extracting(DestinationRule.Subset::name).containsExactly("v1", "v2");
    assertThat(dr.subsets().get(0).labels()).isEqualTo(Map.of("version", "v1"));
    assertThat(dr.subsets().get(0).trafficPolicy()).isNull();
    assertThat(dr.subsets().get(1).trafficPolicy().loadBalancer().consistentHash())
        .isEqualTo(new DestinationRule.ConsistentHash(null, "user", false, null, 1024));
    assertThat(dr.exportTo()).containsExactly(".", "istio-system");
    assertThat(dr.workloadSelector()).isNull();
  }

  @Test
  void readsLocalityFailoverAndWorkloadSelector() {
    DestinationRule dr = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: helloworld, namespace: sample}
        spec:
          host: helloworld.sample.svc.cluster.local
          workloadSelector:
            matchLabels: {app: client}
          exportTo: ["."]
          trafficPolicy:
            loadBalancer:
              localityLbSetting:
                enabled: true
                failover:
                - from: us-east
                  to: us-west
                failoverPriority: [topology.istio.io/network]
            outlierDetection:
              consecutive5xxErrors: 1
              interval: 1s
              baseEjectionTime: 1m
        """), DestinationRule.class);
    LocalityLbSetting lb = dr.trafficPolicy().loadBalancer().localityLbSetting();
    assertThat(lb.enabled()).isTrue();
    assertThat(lb.failover()).containsExactly(new LocalityLbSetting.Failover("us-east", "us-west"));
    assertThat(lb.failoverPriority()).containsExactly("topology.istio.io/network");
    assertThat(dr.workloadSelector()).isEqualTo(Map.of("app", "client"));
  }

  @Test
  void readsLocalityDistribute() {
    DestinationRule dr = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: distribute}
        spec:
          host: helloworld
          trafficPolicy:
            loadBalancer:
              localityLbSetting:
                distribute:
                - from: us-west/zone1/*
                  to:
                    "us-west/zone1/*": 80
                    "us-west/zone2/*": 20
        """), DestinationRule.class);
    var d = dr.trafficPolicy().loadBalancer().localityLbSetting().distribute().get(0);
    assertThat(d.from()).isEqualTo("us-west/zone1/*");
    assertThat(d.to()).isEqualTo(Map.of("us-west/zone1/*", 80, "us-west/zone2/*", 20));
  }

  @Test
  void deprecatedConsecutiveErrorsIsReadAsGatewayErrorsWithAWarning() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1alpha3
        kind: DestinationRule
        metadata: {name: old}
        spec:
          host: old
          trafficPolicy:
            outlierDetection:
              consecutiveErrors: 4
        """);
    DestinationRule dr = only(f, DestinationRule.class);
    assertThat(dr.trafficPolicy().outlierDetection().consecutiveGatewayErrors()).isEqualTo(4);
    assertThat(warnings(f)).singleElement().satisfies(w -> {
      assertThat(w.field()).isEqualTo("spec.trafficPolicy.outlierDetection.consecutiveErrors");
      assertThat(w.message()).contains("deprecated");
    });
  }

  @Test
  void unimplementedTrafficPolicyFieldsAreWarnings() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: tunnel}
        spec:
          host: external.example.com
          trafficPolicy:
            proxyProtocol: {version: V2}
            tls:
              mode: DISABLE
              credentialName: client-secret
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(f.resources()).hasSize(1);
    assertThat(warnings(f)).extracting(p -> p.field()).containsExactlyInAnyOrder(
        "spec.trafficPolicy.proxyProtocol", "spec.trafficPolicy.tls");
  }
}
