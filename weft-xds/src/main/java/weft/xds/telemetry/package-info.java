/**
 * Istio's Telemetry API for the proxies Weft configures: which Telemetry resources apply to a proxy
 * (root namespace, namespace, workload), how they merge ({@link TelemetryMerge}, Istio's rules), and
 * the Envoy access logs and tracing they become on the listeners already generated for it.
 */
package weft.xds.telemetry;
