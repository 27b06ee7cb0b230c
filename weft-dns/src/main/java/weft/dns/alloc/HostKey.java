package weft.dns.alloc;

/** What an automatic address belongs to: one host of the ServiceEntries of one namespace. */
public record HostKey(String namespace, String host) implements Comparable<HostKey> {
  @Override
  public int compareTo(HostKey o) {
    int c = namespace.compareTo(o.namespace);
    return c != 0 ? c : host.compareTo(o.host);
  }

  @Override
  public String toString() {
    return namespace + "/" + host;
  }
}
