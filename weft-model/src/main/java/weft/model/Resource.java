package weft.model;

/** Any parsed configuration resource. */
public sealed interface Resource
    permits K8sService, EndpointSlice, Pod, Namespace, Node, ServiceEntry, WorkloadEntry,
        DestinationRule, VirtualService, Sidecar, Gateway, PeerAuthentication, AuthorizationPolicy,
        RequestAuthentication, ServiceExport, ServiceImport,
        KubernetesGateway,
        GatewayRoute,
        ReferenceGrant,
        EnvoyFilter,
        WasmPlugin,
        TlsSecret,
        Telemetry,
        WorkloadGroup,
        ProxyConfig {
  ResourceId id();
}
