package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.FILE;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.parse;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

/**
 * Each case is one resource that breaks Istio's schema or validation, placed in a file next to a
 * valid sibling: the bad one must be rejected with an error naming file, resource and field, and the
 * sibling must still come through.
 */
class SchemaViolationTest {
  private static final String SIBLING = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: sibling, namespace: default}
      spec:
        hosts: [sibling]
        http:
        - route:
          - destination: {host: sibling}
      """;
  private static final ResourceId SIBLING_ID = new ResourceId("VirtualService", "default", "sibling");

  static Stream<Arguments> violations() {
    return Stream.of(
        // --- VirtualService ---
        vs("negative weight", """
            http:
            - route:
              - destination: {host: a}
                weight: 105
              - destination: {host: b}
                weight: -5
            """, "spec.http[0].route[1].weight", "must be between 0 and 100, got -5; fix or remove the weight"),
        vs("weight above 100", """
            http:
            - route:
              - destination: {host: a}
                weight: 101
            """, "spec.http[0].route[0].weight", "got 101"),
        vs("destination without host", """
            http:
            - route:
              - destination: {subset: v1}
            """, "spec.http[0].route[0].destination.host", "is missing"),
        vs("route without destination", """
            http:
            - route:
              - weight: 100
            """, "spec.http[0].route[0].destination", "is missing"),
        vs("destination port out of range", """
            http:
            - route:
              - destination: {host: a, port: {number: 70000}}
            """, "spec.http[0].route[0].destination.port.number", "between 1 and 65535"),
        vs("match port out of range", """
            http:
            - match: [{port: 0}]
              route:
              - destination: {host: a}
            """, "spec.http[0].match[0].port", "between 1 and 65535"),
        doc("delegate VirtualService with gateways", "VirtualService", """
            spec:
              gateways: [istio-system/ingress]
              http:
              - route:
                - destination: {host: a}
            """, "spec.gateways", "takes its root's gateways"),
        doc("delegate VirtualService with a regex match", "VirtualService", """
            spec:
              hosts: []
              http:
              - match: [{uri: {regex: "/a.*"}}]
                route:
                - destination: {host: a}
            """, "spec.http[0].match[0].uri", "must use exact or prefix"),
        doc("delegate VirtualService that delegates again", "VirtualService", """
            spec:
              http:
              - delegate: {name: other}
            """, "spec.http[0].delegate", "cannot delegate again"),
        vs("route with both route and redirect", """
            http:
            - route:
              - destination: {host: a}
              redirect: {uri: /b}
            """, "spec.http[0]", "more than one of route, redirect"),
        vs("redirect that changes nothing", """
            http:
            - redirect: {redirectCode: 302}
            """, "spec.http[0].redirect", "changes nothing"),
        vs("redirect code outside 3xx", """
            http:
            - redirect: {uri: /b, redirectCode: 200}
            """, "spec.http[0].redirect.redirectCode", "3xx"),
        vs("direct response without status", """
            http:
            - directResponse: {body: {string: hi}}
            """, "spec.http[0].directResponse.status", "is missing"),
        vs("direct response body not base64", """
            http:
            - directResponse: {status: 200, body: {bytes: "%%%"}}
            """, "spec.http[0].directResponse.body.bytes", "not base64"),
        vs("header operation on a pseudo-header", """
            http:
            - route:
              - destination: {host: a}
              headers: {response: {set: {":status": "200"}}}
            """, "spec.http[0].headers.response.set.:status", "cannot be changed"),
        vs("authority rewritten twice", """
            http:
            - route:
              - destination: {host: a}
              rewrite: {authority: b}
              headers: {request: {set: {host: c}}}
            """, "spec.http[0].headers", "both in rewrite.authority and in headers"),
        vs("cors method not an HTTP method", """
            http:
            - route:
              - destination: {host: a}
              corsPolicy: {allowMethods: [get]}
            """, "spec.http[0].corsPolicy.allowMethods[0]", "not an HTTP method"),
        vs("mirror percentage above 100", """
            http:
            - route:
              - destination: {host: a}
              mirror: {host: b}
              mirrorPercentage: {value: 101}
            """, "spec.http[0].mirrorPercentage.value", "between 0 and 100"),
        vs("malformed timeout", """
            http:
            - route:
              - destination: {host: a}
              timeout: 10 seconds
            """, "spec.http[0].timeout", "invalid duration"),
        vs("negative perTryTimeout", """
            http:
            - route:
              - destination: {host: a}
              retries: {attempts: 3, perTryTimeout: -2s}
            """, "spec.http[0].retries.perTryTimeout", "negative"),
        vs("string match with two kinds", """
            http:
            - match:
              - uri: {exact: /a, prefix: /b}
              route:
              - destination: {host: a}
            """, "spec.http[0].match[0].uri", "exactly one"),
        vs("string match with no kind", """
            http:
            - match:
              - uri: {}
              route:
              - destination: {host: a}
            """, "spec.http[0].match[0].uri", "none of exact, prefix and regex"),
        vs("invalid regex", """
            http:
            - match:
              - headers:
                  x-user: {regex: "([a-z"}
              route:
              - destination: {host: a}
            """, "spec.http[0].match[0].headers.x-user.regex", "not a valid regular expression"),
        vs("abort without status", """
            http:
            - route:
              - destination: {host: a}
              fault:
                abort:
                  percentage: {value: 10}
            """, "spec.http[0].fault.abort", "needs httpStatus or grpcStatus"),
        vs("fault percentage above 100", """
            http:
            - route:
              - destination: {host: a}
              fault:
                delay:
                  fixedDelay: 1s
                  percentage: {value: 150}
            """, "spec.http[0].fault.delay.percentage.value", "between 0 and 100"),
        vs("negative fault percentage", """
            http:
            - route:
              - destination: {host: a}
              fault:
                abort:
                  httpStatus: 503
                  percentage: {value: -1}
            """, "spec.http[0].fault.abort.percentage.value", "between 0 and 100"),
        vs("malformed source labels", """
            http:
            - match:
              - sourceLabels: {"app!": web}
              route:
              - destination: {host: a}
            """, "spec.http[0].match[0].sourceLabels.app!", "label key"),
        vs("bad exportTo", """
            http:
            - route:
              - destination: {host: a}
            exportTo: [Not_A_Namespace]
            """, "spec.exportTo[0]", "exportTo entry"),
        vs("typo in spec", """
            htp:
            - route:
              - destination: {host: a}
            """, "spec.htp", "not a field of VirtualService"),
        vs("typo in route", """
            http:
            - route:
              - destination: {host: a}
                weigth: 50
            """, "spec.http[0].route[0].weigth", "did you mean spec.http[0].route[0].weight?"),
        vs("unknown retryOn policy", """
            http:
            - route:
              - destination: {host: a}
              retries: {attempts: 2, retryOn: "5xx,sometimes"}
            """, "spec.http[0].retries.retryOn", "\"sometimes\""),
        vsHosts("wildcard host for sidecars", "[\"*\"]", "spec.hosts[0]",
            "not allowed for a VirtualService applied to the mesh"),
        vs("several destinations without any weight", """
            http:
            - route:
              - destination: {host: a}
              - destination: {host: b}
            """, "spec.http[0].route", "none has a weight"),
        vs("fault without delay or abort", """
            http:
            - route:
              - destination: {host: a}
              fault: {}
            """, "spec.http[0].fault", "neither delay nor abort"),
        vs("http2Error abort", """
            http:
            - route:
              - destination: {host: a}
              fault:
                abort: {http2Error: REFUSED_STREAM}
            """, "spec.http[0].fault.abort.http2Error", "not supported"),
        vs("http route without route", """
            http:
            - timeout: 1s
            """, "spec.http[0].route", "has no route"),
        // --- DestinationRule ---
        doc("DestinationRule without host", "DestinationRule", """
            spec:
              subsets: [{name: v1, labels: {version: v1}}]
            """, "spec.host", "is missing"),
        dr("subset without name", """
            subsets:
            - labels: {version: v1}
            """, "spec.subsets[0].name", "is missing"),
        dr("duplicate subset names", """
            subsets:
            - {name: v1, labels: {version: v1}}
            - {name: v1, labels: {version: v2}}
            """, "spec.subsets[1].name", "used twice"),
        dr("malformed subset labels", """
            subsets:
            - {name: v1, labels: {version: "-bad-"}}
            """, "spec.subsets[0].labels.version", "label value"),
        dr("unknown simple lb", """
            trafficPolicy:
              loadBalancer: {simple: FASTEST}
            """, "spec.trafficPolicy.loadBalancer.simple", "must be one of"),
        dr("unknown tls mode", """
            trafficPolicy:
              tls: {mode: STRICT}
            """, "spec.trafficPolicy.tls.mode", "must be one of"),
        dr("malformed interval", """
            trafficPolicy:
              outlierDetection: {interval: 5 minutes}
            """, "spec.trafficPolicy.outlierDetection.interval", "invalid duration"),
        dr("outlier percentage above 100", """
            trafficPolicy:
              outlierDetection: {maxEjectionPercent: 120}
            """, "spec.trafficPolicy.outlierDetection.maxEjectionPercent", "between 0 and 100"),
        dr("port level setting out of range", """
            trafficPolicy:
              portLevelSettings:
              - port: {number: 0}
                loadBalancer: {simple: RANDOM}
            """, "spec.trafficPolicy.portLevelSettings[0].port.number", "between 1 and 65535"),
        dr("workload selector and exportTo beyond namespace", """
            workloadSelector: {matchLabels: {app: a}}
            exportTo: ["*"]
            """, "spec.exportTo", "own namespace"),
        dr("tilde exportTo on a DestinationRule", """
            exportTo: ["~"]
            """, "spec.exportTo[0]", "only allowed on a ServiceEntry"),
        dr("empty traffic policy", """
            trafficPolicy: {}
            """, "spec.trafficPolicy", "is empty"),
        dr("negative max connections", """
            trafficPolicy:
              connectionPool:
                tcp: {maxConnections: -1}
            """, "spec.trafficPolicy.connectionPool.tcp.maxConnections", "between 0 and"),
        dr("two consistent hash keys", """
            trafficPolicy:
              loadBalancer:
                consistentHash: {httpHeaderName: x-user, useSourceIp: true}
            """, "spec.trafficPolicy.loadBalancer.consistentHash", "exactly one"),
        dr("locality weights not adding up to 100", """
            trafficPolicy:
              loadBalancer:
                localityLbSetting:
                  distribute: [{from: "us-east/*", to: {"us-east/*": 50}}]
            """, "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to", "add up to 50"),
        dr("sub-millisecond connect timeout", """
            trafficPolicy:
              connectionPool:
                tcp: {connectTimeout: 500us}
            """, "spec.trafficPolicy.connectionPool.tcp.connectTimeout", "at least 1ms"),
        // --- ServiceEntry ---
        doc("ServiceEntry without hosts", "ServiceEntry", """
            spec:
              ports: [{number: 80, name: http, protocol: HTTP}]
            """, "spec.hosts", "at least one host"),
        se("port out of range", """
            hosts: [api.example.com]
            ports: [{number: 65536, name: http, protocol: HTTP}]
            """, "spec.ports[0].number", "between 1 and 65535"),
        se("endpoint port out of range", """
            hosts: [api.example.com]
            ports: [{number: 80, name: http, protocol: HTTP}]
            resolution: STATIC
            endpoints:
            - address: 10.0.0.1
              ports: {http: 0}
            """, "spec.endpoints[0].ports.http", "between 1 and 65535"),
        se("workloadSelector and endpoints", """
            hosts: [api.example.com]
            ports: [{number: 80, name: http, protocol: HTTP}]
            resolution: STATIC
            workloadSelector: {labels: {app: api}}
            endpoints: [{address: 10.0.0.1}]
            """, "spec.workloadSelector", "not both"),
        se("unknown resolution", """
            hosts: [api.example.com]
            resolution: MAGIC
            """, "spec.resolution", "must be one of"),
        se("unknown location", """
            hosts: [api.example.com]
            location: OUTSIDE
            """, "spec.location", "must be one of"),
        se("malformed workload selector", """
            hosts: [api.example.com]
            resolution: STATIC
            workloadSelector: {labels: {"app": "web app"}}
            """, "spec.workloadSelector.labels.app", "label value"),
        se("STATIC endpoint with host name", """
            hosts: [api.example.com]
            resolution: STATIC
            endpoints: [{address: api.internal}]
            """, "spec.endpoints[0].address", "STATIC resolution needs IP addresses"),
        se("endpoint port not in the entry", """
            hosts: [api.example.com]
            ports: [{number: 80, name: http, protocol: HTTP}]
            resolution: STATIC
            endpoints: [{address: 10.0.0.1, ports: {grpc: 9000}}]
            """, "spec.endpoints[0].ports.grpc", "not a port of this ServiceEntry"),
        se("bad address", """
            hosts: [api.example.com]
            addresses: [10.0.0.300]
            """, "spec.addresses[0]", "not a valid IP address"),
        se("targetPort out of range", """
            hosts: [api.example.com]
            ports: [{number: 80, name: http, protocol: HTTP, targetPort: 0}]
            """, "spec.ports[0].targetPort", "between 1 and 65535"),
        se("unknown protocol", """
            hosts: [api.example.com]
            ports: [{number: 80, name: http, protocol: SPDY}]
            """, "spec.ports[0].protocol", "unknown protocol"),
        se("wildcard host resolved by DNS", """
            hosts: ["*.example.com"]
            ports: [{number: 443, name: tls, protocol: TLS}]
            resolution: DNS
            """, "spec.hosts[0]", "cannot be wildcards"),
        // --- WorkloadEntry and Sidecar ---
        doc("WorkloadEntry port out of range", "WorkloadEntry", """
            spec:
              address: 10.0.0.7
              ports: {http: 99999}
            """, "spec.ports.http", "between 1 and 65535"),
        doc("WorkloadEntry without address or network", "WorkloadEntry", """
            spec:
              labels: {app: vm}
            """, "spec.address", "is missing"),
        doc("Sidecar egress host without namespace", "Sidecar", """
            spec:
              egress:
              - hosts: [reviews.prod.svc.cluster.local]
            """, "spec.egress[0].hosts[0]", "namespace/host"),
        doc("Sidecar with malformed selector", "Sidecar", """
            spec:
              workloadSelector:
                labels: {"app/": web}
              egress:
              - hosts: ["./*"]
            """, "spec.workloadSelector.labels.app/", "label key"),
        doc("Sidecar egress short name", "Sidecar", """
            spec:
              egress:
              - hosts: [./reviews]
            """, "spec.egress[0].hosts[0]", "short name"),
        doc("Sidecar catch-all egress not last", "Sidecar", """
            spec:
              egress:
              - hosts: ["./*"]
              - port: {number: 80}
                hosts: ["./*"]
            """, "spec.egress[0]", "must be the last"),
        // --- Gateway (more in GatewayParserTest) ---
        doc("Gateway without servers", "Gateway", """
            spec:
              selector: {istio: ingressgateway}
            """, "spec.servers", "at least one server"),
        doc("Gateway server with unknown protocol", "Gateway", """
            spec:
              servers: [{port: {number: 80, name: http, protocol: SPDY}, hosts: ["*"]}]
            """, "spec.servers[0].port.protocol", "unknown protocol"),
        doc("Gateway HTTPS server without tls", "Gateway", """
            spec:
              servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"]}]
            """, "spec.servers[0].tls", "is missing"),
        doc("Gateway SIMPLE tls without certificates", "Gateway", """
            spec:
              servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE}}]
            """, "spec.servers[0].tls", "needs credentialName"),
        doc("Gateway short host", "Gateway", """
            spec:
              servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [prod/reviews]}]
            """, "spec.servers[0].hosts[0]", "short name"),
        // --- PeerAuthentication (more in PeerAuthenticationParserTest) ---
        pa("portLevelMtls without selector", """
            mtls: {mode: STRICT}
            portLevelMtls:
              "8080": {mode: DISABLE}
            """, "spec.portLevelMtls", "needs a selector"),
        pa("portLevelMtls with an empty selector", """
            selector: {matchLabels: {}}
            portLevelMtls:
              "8080": {mode: DISABLE}
            """, "spec.portLevelMtls", "needs a selector"),
        pa("empty portLevelMtls", """
            selector: {matchLabels: {app: a}}
            portLevelMtls: {}
            """, "spec.portLevelMtls", "is empty"),
        pa("portLevelMtls port 0", """
            selector: {matchLabels: {app: a}}
            portLevelMtls:
              "0": {mode: STRICT}
            """, "spec.portLevelMtls.0", "not a port number from 1 to 65535"),
        pa("portLevelMtls port above 65535", """
            selector: {matchLabels: {app: a}}
            portLevelMtls:
              "65536": {mode: STRICT}
            """, "spec.portLevelMtls.65536", "not a port number"),
        pa("unknown mTLS mode", """
            mtls: {mode: BLAH}
            """, "spec.mtls.mode", "must be one of UNSET, DISABLE, PERMISSIVE, STRICT"),
        pa("unknown port-level mode", """
            selector: {matchLabels: {app: a}}
            portLevelMtls:
              "8080": {mode: OFF}
            """, "spec.portLevelMtls.8080.mode", "must be one of"),
        pa("wildcard in selector", """
            selector: {matchLabels: {app: "web*"}}
            """, "spec.selector.matchLabels.app", "wildcards are not allowed"),
        pa("selector with workload selector's field name", """
            selector: {labels: {app: web}}
            """, "spec.selector.labels", "not a field of WorkloadSelector"),
        pa("typo in mtls", """
            mtls: {mdoe: STRICT}
            """, "spec.mtls.mdoe", "did you mean spec.mtls.mode?"),
        // --- AuthorizationPolicy (more in AuthorizationPolicyParserTest) ---
        ap("unknown action", """
            action: REJECT
            rules: [{}]
            """, "spec.action", "must be one of ALLOW, DENY, AUDIT, CUSTOM"),
        ap("CUSTOM without provider", """
            action: CUSTOM
            rules: [{to: [{operation: {paths: [/admin/*]}}]}]
            """, "spec.provider", "is missing"),
        ap("CUSTOM with an empty provider name", """
            action: CUSTOM
            provider: {name: ""}
            rules: [{}]
            """, "spec.provider.name", "is missing"),
        ap("provider without CUSTOM", """
            action: DENY
            provider: {name: my-ext-authz}
            rules: [{}]
            """, "spec.provider", "only be used with action CUSTOM"),
        ap("CUSTOM without rules", """
            action: CUSTOM
            provider: {name: my-ext-authz}
            """, "spec.rules", "never acts"),
        ap("DENY without rules", """
            action: DENY
            """, "spec.rules", "is missing"),
        ap("CUSTOM with principals", """
            action: CUSTOM
            provider: {name: my-ext-authz}
            rules: [{from: [{source: {principals: [cluster.local/ns/a/sa/b]}}]}]
            """, "spec.rules[0].from[0].source.principals", "not supported by Istio with action CUSTOM"),
        ap("CUSTOM with a request.auth condition", """
            action: CUSTOM
            provider: {name: my-ext-authz}
            rules: [{when: [{key: "request.auth.claims[iss]", values: [x]}]}]
            """, "spec.rules[0].when[0].key", "not supported by Istio with action CUSTOM"),
        ap("from without source", """
            rules:
            - from: [{}]
            """, "spec.rules[0].from[0].source", "is missing"),
        ap("empty source", """
            rules:
            - from: [{source: {}}]
            """, "spec.rules[0].from[0].source", "is empty"),
        ap("empty from", """
            rules:
            - from: []
              to: [{operation: {methods: [GET]}}]
            """, "spec.rules[0].from", "is empty"),
        ap("to without operation", """
            rules:
            - to: [{}]
            """, "spec.rules[0].to[0].operation", "is missing"),
        ap("empty operation", """
            rules:
            - to: [{operation: {}}]
            """, "spec.rules[0].to[0].operation", "is empty"),
        ap("port out of range", """
            rules:
            - to: [{operation: {ports: ["70000"]}}]
            """, "spec.rules[0].to[0].operation.ports[0]", "is not a port"),
        ap("named port", """
            rules:
            - to: [{operation: {notPorts: ["http"]}}]
            """, "spec.rules[0].to[0].operation.notPorts[0]", "is not a port"),
        ap("empty method", """
            rules:
            - to: [{operation: {methods: ["GET", ""]}}]
            """, "spec.rules[0].to[0].operation.methods[1]", "empty string"),
        ap("bad path template", """
            rules:
            - to: [{operation: {paths: ["/foo/{**}/bar/{*}"]}}]
            """, "spec.rules[0].to[0].operation.paths[0]", "{**} must be the last operator"),
        ap("path with braces outside a template", """
            rules:
            - to: [{operation: {paths: ["/foo/{id}"]}}]
            """, "spec.rules[0].to[0].operation.paths[0]", "outside a whole-segment"),
        ap("bad ipBlock", """
            rules:
            - from: [{source: {ipBlocks: ["10.0.0.300"]}}]
            """, "spec.rules[0].from[0].source.ipBlocks[0]", "not a valid IP address"),
        ap("bad CIDR", """
            rules:
            - from: [{source: {notRemoteIpBlocks: ["10.0.0.0/33"]}}]
            """, "spec.rules[0].from[0].source.notRemoteIpBlocks[0]", "not a valid CIDR block"),
        ap("empty principal", """
            rules:
            - from: [{source: {principals: [""]}}]
            """, "spec.rules[0].from[0].source.principals[0]", "empty string"),
        ap("serviceAccounts with namespaces", """
            rules:
            - from: [{source: {serviceAccounts: ["bar/sa"], namespaces: ["bar"]}}]
            """, "spec.rules[0].from[0].source.serviceAccounts", "cannot be used together with principals"),
        ap("wildcard service account", """
            rules:
            - from: [{source: {serviceAccounts: ["bar/*"]}}]
            """, "spec.rules[0].from[0].source.serviceAccounts[0]", "wildcard"),
        ap("trust domain with a middle wildcard", """
            rules:
            - from: [{source: {trustDomains: ["a*b"]}}]
            """, "spec.rules[0].from[0].source.trustDomains[0]", "in the middle"),
        ap("condition with an unknown key", """
            rules:
            - when: [{key: source.pod, values: [a]}]
            """, "spec.rules[0].when[0].key", "not an attribute Istio knows"),
        ap("condition on destination.labels", """
            rules:
            - when: [{key: "destination.labels[app]", values: [a]}]
            """, "spec.rules[0].when[0].key", "spec.selector"),
        ap("header condition without a name", """
            rules:
            - when: [{key: request.headers, values: [a]}]
            """, "spec.rules[0].when[0].key", "in brackets"),
        ap("condition without values", """
            rules:
            - when: [{key: source.ip}]
            """, "spec.rules[0].when[0]", "neither values nor notValues"),
        ap("condition without key", """
            rules:
            - when: [{values: [a]}]
            """, "spec.rules[0].when[0].key", "is missing"),
        ap("condition with a bad IP", """
            rules:
            - when: [{key: remote.ip, notValues: [not-an-ip]}]
            """, "spec.rules[0].when[0].notValues[0]", "not a valid IP address"),
        ap("condition with a bad port", """
            rules:
            - when: [{key: destination.port, values: ["99999"]}]
            """, "spec.rules[0].when[0].values[0]", "is not a port"),
        ap("selector and targetRefs", """
            selector: {matchLabels: {app: a}}
            targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]
            """, "spec.selector", "only one of selector, targetRef and targetRefs"),
        ap("targetRef to another namespace", """
            targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw, namespace: other}
            """, "spec.targetRef.namespace", "must not be set"),
        ap("targetRef to an Istio Gateway", """
            targetRefs: [{kind: Gateway, group: networking.istio.io, name: gw}]
            """, "spec.targetRefs[0]", "cannot be attached to networking.istio.io/Gateway"),
        ap("targetRef without name", """
            targetRefs: [{kind: Service}]
            """, "spec.targetRefs[0].name", "is missing"),
        ap("typo in spec", """
            rule: [{}]
            """, "spec.rule", "did you mean spec.rules?"),
        ap("typo in operation", """
            rules:
            - to: [{operation: {method: [GET]}}]
            """, "spec.rules[0].to[0].operation.method", "did you mean spec.rules[0].to[0].operation.methods?"),
        // --- Kubernetes kinds ---
        doc("Service port out of range", "Service", "v1", """
            spec:
              ports: [{port: 0}]
            """, "spec.ports[0].port", "between 1 and 65535"),
        doc("Service targetPort out of range", "Service", "v1", """
            spec:
              ports: [{port: 80, targetPort: 70000}]
            """, "spec.ports[0].targetPort", "1 to 65535"),
        doc("Service with malformed selector", "Service", "v1", """
            spec:
              selector: {"app": "has space"}
              ports: [{port: 80}]
            """, "spec.selector.app", "label value"),
        doc("EndpointSlice port out of range", "EndpointSlice", "discovery.k8s.io/v1", """
              labels: {kubernetes.io/service-name: reviews}
            addressType: IPv4
            ports: [{name: http, port: 123456}]
            endpoints: [{addresses: [10.1.0.4]}]
            """, "ports[0].port", "between 1 and 65535"),
        doc("EndpointSlice without service-name label", "EndpointSlice", "discovery.k8s.io/v1", """
            addressType: IPv4
            endpoints: [{addresses: [10.1.0.4]}]
            """, "metadata.labels", "kubernetes.io/service-name"));
  }

  private static Arguments vs(String name, String spec, String field, String message) {
    return doc(name, "VirtualService", "spec:\n  hosts: [bad]\n" + indent(spec), field, message);
  }

  private static Arguments vsHosts(String name, String hosts, String field, String message) {
    return doc(name, "VirtualService", "spec:\n  hosts: " + hosts + "\n  http: [{route: [{destination: {host: a}}]}]\n",
        field, message);
  }

  private static Arguments dr(String name, String spec, String field, String message) {
    return doc(name, "DestinationRule", "spec:\n  host: bad\n" + indent(spec), field, message);
  }

  private static Arguments pa(String name, String spec, String field, String message) {
    return doc(name, "PeerAuthentication", "security.istio.io/v1", "spec:\n" + indent(spec), field, message);
  }

  private static Arguments ap(String name, String spec, String field, String message) {
    return doc(name, "AuthorizationPolicy", "security.istio.io/v1", "spec:\n" + indent(spec), field, message);
  }

  private static Arguments se(String name, String spec, String field, String message) {
    return doc(name, "ServiceEntry", "spec:\n" + indent(spec), field, message);
  }

  private static Arguments doc(String name, String kind, String body, String field, String message) {
    return doc(name, kind, "networking.istio.io/v1", body, field, message);
  }

  /** {@code body} follows {@code metadata.namespace}; a body starting with two spaces adds metadata keys. */
  private static Arguments doc(String name, String kind, String apiVersion, String body, String field,
      String message) {
    String yaml = "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: bad\n  namespace: default\n"
        + body;
    return Arguments.of(name, yaml, new ResourceId(kind, "default", "bad"), field, message);
  }

  private static String indent(String s) {
    return s.lines().map(l -> "  " + l).reduce("", (a, b) -> a + b + "\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("violations")
  void rejectsTheResourceAloneWithAnErrorNamingFileResourceAndField(String name, String yaml, ResourceId id,
      String field, String message) {
    ParsedFile f = parse(yaml + "---\n" + SIBLING);

    assertThat(f.unreadable()).isFalse();
    assertThat(ids(f)).containsExactly(SIBLING_ID);
    assertThat(errors(f))
        .as("errors of %s", name)
        .anySatisfy(p -> {
          assertThat(p.file()).isEqualTo(FILE);
          assertThat(p.resource()).isEqualTo(id);
          assertThat(p.field()).isEqualTo(field);
          assertThat(p.message()).contains(message);
        });
    assertThat(errors(f)).allSatisfy(p -> assertThat(p.resource()).isEqualTo(id));
    assertThat(errors(f).get(0).describe()).contains(FILE).contains(id.toString());
    assertThat(f.problems()).extracting(ConfigProblem::severity).contains(ConfigProblem.Severity.ERROR);
  }
}
