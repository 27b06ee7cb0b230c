package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ServiceEntry;
import weft.model.WorkloadEntry;

class ServiceEntryParserTest {
  @Test
  void readsInlineEndpoints() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: external-svc-mongocluster
          namespace: data
        spec:
          hosts:
          - mymongodb.somedomain
          addresses:
          - 192.192.192.192/24
          ports:
          - number: 27018
            name: mongodb
            protocol: MONGO
          location: MESH_INTERNAL
          resolution: STATIC
          endpoints:
          - address: 2.2.2.2
          - address: 3.3.3.3
            ports: {mongodb: 27019}
            labels: {version: v2}
            network: network2
            locality: us-east/zone1
            weight: 10
            serviceAccount: mongo
        """), ServiceEntry.class);
    assertThat(se.hosts()).containsExactly("mymongodb.somedomain");
    assertThat(se.addresses()).containsExactly("192.192.192.192/24");
    assertThat(se.ports()).containsExactly(new ServiceEntry.Port(27018, "Mongo", "mongodb", 0));
    assertThat(se.location()).isEqualTo("MESH_INTERNAL");
    assertThat(se.resolution()).isEqualTo("STATIC");
    assertThat(se.workloadSelector()).isNull();
    assertThat(se.endpoints()).containsExactly(
        new WorkloadEntry.Spec("2.2.2.2", Map.of(), Map.of(), null, null, 0, null),
        new WorkloadEntry.Spec("3.3.3.3", Map.of("mongodb", 27019), Map.of("version", "v2"), "network2",
            "us-east/zone1", 10, "mongo"));
  }

  @Test
  void readsWorkloadSelectorEntryWithDefaults() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: details-svc, namespace: bookinfo}
        spec:
          hosts: [details.bookinfo.com]
          location: MESH_INTERNAL
          ports:
          - number: 80
            name: http
            protocol: HTTP
            targetPort: 8080
          resolution: STATIC
          workloadSelector:
            labels:
              app: details-legacy
        """), ServiceEntry.class);
    assertThat(se.workloadSelector()).isEqualTo(Map.of("app", "details-legacy"));
    assertThat(se.endpoints()).isEmpty();
    assertThat(se.ports().get(0).targetPort()).isEqualTo(8080);
  }

  @Test
  void defaultsAreMeshExternalAndNone() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1beta1
        kind: ServiceEntry
        metadata: {name: google}
        spec:
          hosts: ["*.google.com"]
          ports:
          - {number: 443, name: https, protocol: TLS}
          exportTo: ["~"]
          subjectAltNames: [google.com]
        """), ServiceEntry.class);
    assertThat(se.location()).isEqualTo("MESH_EXTERNAL");
    assertThat(se.resolution()).isEqualTo("NONE");
    assertThat(se.exportTo()).containsExactly("~");
    assertThat(se.subjectAltNames()).containsExactly("google.com");
  }

  @Test
  void dnsEndpointsMayBeHostNames() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: external-dns}
        spec:
          hosts: [foo.bar.com]
          ports:
          - {number: 80, name: http, protocol: http}
          resolution: DNS
          endpoints:
          - address: us.foo.bar.com
            ports: {http: 8080}
          - address: uk.foo.bar.com
        """), ServiceEntry.class);
    assertThat(se.endpoints()).extracting(WorkloadEntry.Spec::address).containsExactly("us.foo.bar.com", "uk.foo.bar.com");
    assertThat(se.ports().get(0).protocol()).as("Istio reads protocols ignoring case").isEqualTo("HTTP");
  }

  @Test
  void readsAWorkloadEntry() {
    WorkloadEntry we = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: details-vm-1, namespace: bookinfo}
        spec:
          serviceAccount: details-legacy
          address: 2.2.2.2
          labels:
            app: details-legacy
            instance-id: vm1
          ports: {http: "9080"}
          network: vm-network
          locality: us-east1/us-east1-b
          weight: 3
        """), WorkloadEntry.class);
    assertThat(we.spec()).isEqualTo(new WorkloadEntry.Spec("2.2.2.2", Map.of("http", 9080),
        Map.of("app", "details-legacy", "instance-id", "vm1"), "vm-network", "us-east1/us-east1-b", 3,
        "details-legacy"));
  }

  @Test
  void aWorkloadEntryWithoutAddressButWithNetworkIsAWarning() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: remote}
        spec:
          network: network2
        """);
    WorkloadEntry we = only(f, WorkloadEntry.class);
    assertThat(we.spec().address()).isNull();
    assertThat(warnings(f)).singleElement().extracting(p -> p.field()).isEqualTo("spec.address");
    assertThat(errors(f)).isEmpty();
  }
}
