package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;

/**
 * Replaces every value of realistic documents, one at a time, with values of other shapes (null, a
 * list, a mapping, a string, a number, a boolean): the parser must never throw and never fall back to
 * its "could not read" safety net, which would mean a reader crashed instead of reporting.
 */
class MutationTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final List<JsonNode> REPLACEMENTS = List.of(NODES.nullNode(), NODES.arrayNode(),
      NODES.objectNode(), NODES.textNode("x"), NODES.numberNode(-7), NODES.booleanNode(true),
      NODES.arrayNode().add(NODES.objectNode()), NODES.objectNode().set("k", NODES.nullNode()));

  private static final String DOCS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: vs, namespace: ns, labels: {a: b}}
      spec:
        hosts: [reviews]
        gateways: [mesh]
        exportTo: ["."]
        http:
        - name: r
          match:
          - uri: {prefix: /}
            headers: {x: {exact: yy}}
            withoutHeaders: {z: {}}
            queryParams: {q: {regex: "a+"}}
            sourceLabels: {app: a}
            port: 80
          route:
          - destination: {host: reviews, subset: v1, port: {number: 80}}
            weight: 50
          - destination: {host: reviews, subset: v2}
            weight: 50
          timeout: 1s
          retries: {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}
          fault:
            delay: {fixedDelay: 1s, percentage: {value: 5}}
            abort: {httpStatus: 500, percentage: {value: 5}}
          rewrite: {uri: /x}
        tcp:
        - match: [{port: 81, destinationSubnets: [10.0.0.0/8], sourceLabels: {a: b}}]
          route: [{destination: {host: db}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: dr}
      spec:
        host: reviews
        workloadSelector: {matchLabels: {app: a}}
        exportTo: ["."]
        trafficPolicy:
          loadBalancer:
            consistentHash: {httpCookie: {name: c, ttl: 1s}, ringHash: {minimumRingSize: 10}}
            localityLbSetting:
              distribute: [{from: a/b/*, to: {"a/b/*": 100}}]
              enabled: true
          connectionPool:
            tcp: {maxConnections: 1, connectTimeout: 1s}
            http: {http1MaxPendingRequests: 1, http2MaxRequests: 1, maxRequestsPerConnection: 1, maxRetries: 1}
          outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 1s, maxEjectionPercent: 1}
          tls: {mode: ISTIO_MUTUAL, sni: a, subjectAltNames: [a]}
          portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: RANDOM}}]
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: se}
      spec:
        hosts: [a.example.com]
        addresses: [10.1.0.0/16]
        ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]
        location: MESH_INTERNAL
        resolution: STATIC
        endpoints: [{address: 10.1.0.1, ports: {http: 8080}, labels: {a: b}, weight: 1, locality: r/z}]
        exportTo: ["*"]
        subjectAltNames: [x]
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: sc}
      spec:
        workloadSelector: {labels: {app: a}}
        egress: [{port: {number: 80}, hosts: ["./*"]}, {hosts: ["istio-system/*"]}]
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: gw}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [ns/a.example.com]
          tls: {httpsRedirect: true}
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: ["*"]
          tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca, subjectAltNames: [a]}
          bind: 10.0.0.1
          name: s
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: we}
      spec: {address: 10.0.0.1, ports: {http: 80}, labels: {a: b}, network: net1, serviceAccount: sa}
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: pa}
      spec:
        selector: {matchLabels: {app: a}}
        mtls: {mode: STRICT}
        portLevelMtls: {"8080": {mode: DISABLE}}
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ap}
      spec:
        selector: {matchLabels: {app: a}}
        action: CUSTOM
        provider: {name: ext}
        rules:
        - from: [{source: {ipBlocks: [10.0.0.0/8], notIpBlocks: [10.1.0.0/16], remoteIpBlocks: [1.2.3.4]}}]
          to: [{operation: {hosts: [a.example.com], notHosts: [b], ports: ["80"], notPorts: ["81"], methods: [GET],
            notMethods: [PUT], paths: [/x*], notPaths: ["/y/{*}"]}}]
          when: [{key: "request.headers[x]", values: [a], notValues: [b]}]
      ---
      apiVersion: security.istio.io/v1beta1
      kind: AuthorizationPolicy
      metadata: {name: ap2}
      spec:
        targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]
        action: DENY
        rules:
        - from:
          - source: {principals: [a], notPrincipals: [b], requestPrincipals: [c], notRequestPrincipals: [d],
              namespaces: [e], notNamespaces: [f], notRemoteIpBlocks: [1.2.3.4]}
          - source: {serviceAccounts: [ns/sa], notServiceAccounts: [sb], trustDomains: [td], notTrustDomains: ["*.x"]}
          when: [{key: source.ip, values: [10.0.0.1]}, {key: destination.port, notValues: ["9"]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: svc, labels: {a: b}, annotations: {c: d}}
      spec:
        selector: {app: a}
        clusterIP: 10.0.0.1
        type: ClusterIP
        ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP, appProtocol: http}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: es, labels: {kubernetes.io/service-name: svc}}
      addressType: IPv4
      ports: [{name: http, port: 80, protocol: TCP}]
      endpoints:
      - addresses: [10.0.0.2]
        conditions: {ready: true}
        nodeName: node1
        zone: z
        targetRef: {kind: Pod, name: p}
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: p, labels: {a: b}}
      spec: {serviceAccountName: sa, nodeName: node1}
      status: {phase: Running, podIP: 10.0.0.2, conditions: [{type: Ready, status: "True"}]}
      """;

  @Test
  void everyValueReplacedByEveryShapeIsReportedNotThrown() throws Exception {
    ParsedFile original = ResourceParser.parse("f.yaml", DOCS);
    assertThat(Yamls.errors(original)).isEmpty();
    assertThat(original.resources()).hasSize(12);

    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(DOCS)) {
      while (it.hasNextValue()) docs.add(it.nextValue());
    }
    int runs = 0;
    for (JsonNode doc : docs) {
      List<List<Object>> paths = new ArrayList<>();
      collect(doc, new ArrayList<>(), paths);
      for (List<Object> path : paths) {
        for (JsonNode replacement : REPLACEMENTS) {
          JsonNode copy = doc.deepCopy();
          replace(copy, path, replacement);
          String yaml = YAML.writeValueAsString(copy);
          ParsedFile f = ResourceParser.parse("f.yaml", yaml);
          assertThat(f.problems()).as(yaml).noneMatch(p -> p.message().contains("could not read"));
          // Only values change, so the only unknown field can be the "k" some replacements bring.
          assertThat(f.problems()).as(yaml).noneMatch(p -> p.message().contains("is not a field of")
              && !p.field().endsWith(".k") && !p.field().equals("k"));
          assertThat(f.problems()).as(yaml).allMatch(p -> p.file().equals("f.yaml") && p.message() != null);
          if (!f.resources().isEmpty()) {
            assertThat(f.problems()).as(yaml).noneMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
          }
          runs++;
        }
      }
    }
    assertThat(runs).isGreaterThan(1000);
  }

  /** Collects the path (field names and list indexes) of every value in the tree. */
  private static void collect(JsonNode node, List<Object> path, List<List<Object>> out) {
    if (node.isObject()) {
      node.properties().forEach(e -> {
        List<Object> p = new ArrayList<>(path);
        p.add(e.getKey());
        out.add(p);
        collect(e.getValue(), p, out);
      });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        List<Object> p = new ArrayList<>(path);
        p.add(i);
        out.add(p);
        collect(node.get(i), p, out);
      }
    }
  }

  private static void replace(JsonNode root, List<Object> path, JsonNode replacement) {
    JsonNode parent = root;
    for (int i = 0; i < path.size() - 1; i++) {
      Object step = path.get(i);
      parent = step instanceof Integer n ? parent.get(n) : parent.get((String) step);
    }
    Object last = path.get(path.size() - 1);
    if (last instanceof Integer n) {
      ((ArrayNode) parent).set(n, replacement.deepCopy());
    } else {
      ((ObjectNode) parent).set((String) last, replacement.deepCopy());
    }
  }
}
