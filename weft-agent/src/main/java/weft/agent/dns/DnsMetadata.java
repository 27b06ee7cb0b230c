package weft.agent.dns;

/** Istio's node metadata keys for DNS proxying: the control plane sends such a proxy its name table. */
public final class DnsMetadata {
  /** The proxy's DNS is answered locally: it gets a name table. */
  public static final String DNS_CAPTURE = "DNS_CAPTURE";
  /** ServiceEntries without addresses get automatic ones in its name table. */
  public static final String DNS_AUTO_ALLOCATE = "DNS_AUTO_ALLOCATE";

  private DnsMetadata() {}
}
