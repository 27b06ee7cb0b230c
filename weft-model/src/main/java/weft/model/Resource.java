package weft.model;

/** Any parsed configuration resource. */
public sealed interface Resource
    permits K8sService, EndpointSlice, Pod, Namespace, Node, ServiceEntry, WorkloadEntry,
        DestinationRule, VirtualService, Sidecar, Gateway, PeerAuthentication, AuthorizationPolicy,
        RequestAuthentication, ServiceExport, ServiceImport,
        Telemetry,
        WorkloadGroup,
        ProxyConfig {
  ResourceId id();
}
