package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;

import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.ServiceExport;
import weft.model.ServiceImport;

class McsParserTest {
  @Test
  void aServiceExportIsReadWithItsCreationTime() {
    ServiceExport e = only(parse("""
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: reviews, namespace: bookinfo, creationTimestamp: "2026-01-02T03:04:05Z"}
        status:
          conditions: [{type: Valid, status: "True"}]
        """), ServiceExport.class);
    assertThat(e.id()).isEqualTo(new ResourceId("ServiceExport", "bookinfo", "reviews"));
    assertThat(e.creationTimestamp()).isEqualTo("2026-01-02T03:04:05Z");
  }

  @Test
  void aServiceImportIsReadWithItsVipsAndPorts() {
    ServiceImport i = only(parse("""
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: reviews, namespace: bookinfo}
        spec:
          type: ClusterSetIP
          ips: [242.0.0.7, "fd00::7"]
          sessionAffinity: None
          ports:
          - {name: grpc, port: 9080, protocol: TCP, appProtocol: grpc}
          - {port: 9090}
        """), ServiceImport.class);
    assertThat(i.type()).isEqualTo("ClusterSetIP");
    assertThat(i.ips()).containsExactly("242.0.0.7", "fd00::7");
    assertThat(i.ports()).containsExactly(new ServiceImport.Port("grpc", 9080, "TCP", "grpc"),
        new ServiceImport.Port("", 9090, "TCP", ""));
  }

  @Test
  void aMalformedServiceImportIsRejectedAloneAndEachProblemNamesItsField() {
    var parsed = parse("""
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: bad-ip, namespace: default}
        spec: {type: ClusterSetIP, ips: ["not-an-ip"], ports: [{port: 80}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: bad-port, namespace: default}
        spec: {ports: [{name: http, port: 70000}, {name: http}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: bad-type, namespace: default}
        spec: {type: LoadBalancer, ports: [{port: 80}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: headless-with-ip, namespace: default}
        spec: {type: Headless, ips: [10.0.0.1], ports: [{port: 80}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: two-v4, namespace: default}
        spec: {ips: [10.0.0.1, 10.0.0.2], ports: [{port: 80}]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: typo, namespace: default}
        spec: {ports: [{port: 80}], ipz: [10.0.0.1]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: no-spec, namespace: default}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: good, namespace: default}
        spec: {ips: [10.0.0.9], ports: [{port: 80}]}
        """);
    assertThat(ids(parsed)).containsExactly(new ResourceId("ServiceImport", "default", "good"));
    List<String> lines = errors(parsed).stream().map(ConfigProblem::describe).toList();
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("bad-ip").contains("spec.ips[0]")
        .contains("is not an IP address"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("bad-port").contains("spec.ports[0].port")
        .contains("1 and 65535"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("bad-port").contains("spec.ports[1].port")
        .contains("is missing"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("bad-port").contains("is used by another port"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("bad-type").contains("spec.type")
        .contains("ClusterSetIP, Headless"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("headless-with-ip").contains("must be empty"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("two-v4").contains("at most one IPv4"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("typo").contains("spec.ipz")
        .contains("did you mean spec.ips"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("no-spec").contains("needs a spec"));
  }

  @Test
  void aServiceExportWithASpecFieldOrABadNameIsRejectedAlone() {
    var parsed = parse("""
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: reviews, namespace: default}
        spec: {clusters: [c2]}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: "Bad_Name", namespace: default}
        ---
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: ratings, namespace: default}
        """);
    assertThat(ids(parsed)).containsExactly(new ResourceId("ServiceExport", "default", "ratings"));
    assertThat(errors(parsed).stream().map(ConfigProblem::describe)).anySatisfy(l -> assertThat(l)
        .contains("ServiceExport default/reviews").contains("spec.clusters"));
    assertThat(errors(parsed).stream().map(ConfigProblem::describe)).anySatisfy(l -> assertThat(l)
        .contains("metadata.name").contains("Bad_Name"));
  }

  @Test
  void aWrongMcsVersionIsRejectedWithTheOneToUse() {
    var parsed = parse("""
        apiVersion: multicluster.x-k8s.io/v1
        kind: ServiceExport
        metadata: {name: reviews, namespace: default}
        """);
    assertThat(parsed.resources()).isEmpty();
    assertThat(errors(parsed)).singleElement().satisfies(p -> assertThat(p.message())
        .contains("use multicluster.x-k8s.io/v1alpha1"));
  }
}
