package weft.xds.diag;

/**
 * The stable codes of {@code weft analyze}. An Istio code (IST…) is reused only where its meaning
 * is the same as Istio's analyzer message of that code; everything else is a WEFT code. Codes are
 * never renumbered: scripts match on them.
 */
public enum AnalyzerCode {
  /** Istio's ReferencedResourceNotFound: a destination host or a host+subset that does not exist. */
  IST0101(Severity.ERROR, "a VirtualService routes to a host or subset that does not exist"),
  /** Istio's ConflictingMeshGatewayVirtualServiceHosts. */
  IST0109(Severity.ERROR, "several VirtualServices for the mesh name the same host; one of them is used"),
  WEFT0001(Severity.ERROR, "configuration rejected (a file, a resource or a remote secret); its last good state serves"),
  WEFT0002(Severity.WARNING, "configuration accepted with a warning (e.g. a field Weft does not implement)"),
  WEFT0003(Severity.INFO, "configuration note"),
  WEFT0101(Severity.WARNING, "proxies were sent less than the configuration asks for (per-proxy drops, by cause)"),
  WEFT0102(Severity.INFO, "visibility hides hosts from proxies (exportTo, Sidecar egress, cluster-local), by cause"),
  WEFT0103(Severity.ERROR, "a proxy rejected (NACKed) what it was sent"),
  WEFT0201(Severity.WARNING, "locality failover is set but no outlier detection: failover is not applied"),
  WEFT0301(Severity.WARNING, "a network has endpoints but no east-west gateway: other networks cannot reach them"),
  WEFT0302(Severity.ERROR, "one address and port is used by two workloads in one network"),
  WEFT0401(Severity.ERROR, "a remote cluster cannot be reached (never synced)"),
  WEFT0402(Severity.WARNING, "a remote cluster's state is stale (its source lost contact)"),
  WEFT0403(Severity.ERROR, "clusters use different trust domains that are not aliases of each other"),
  WEFT0501(Severity.WARNING, "a VirtualService or DestinationRule names a host that no cluster serves"),
  WEFT0502(Severity.WARNING, "several DestinationRules for one host apply to the same namespace; one is used"),
  WEFT0503(Severity.WARNING, "the same resource is declared in several files; the last file in path order wins"),
  WEFT0504(Severity.ERROR, "a VirtualService routes to a host whose exportTo hides it from namespaces the route applies to");

  private final Severity severity;
  private final String title;

  AnalyzerCode(Severity severity, String title) {
    this.severity = severity;
    this.title = title;
  }

  public Severity severity() {
    return severity;
  }

  public String title() {
    return title;
  }
}
