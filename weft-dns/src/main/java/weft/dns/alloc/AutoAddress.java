package weft.dns.alloc;

import java.util.ArrayList;
import java.util.List;

/**
 * The automatic addresses of one host: an IPv4 one from {@link AddressRange#IPV4} and an IPv6 one
 * from {@link AddressRange#IPV6}. Either is null when its range was exhausted.
 */
public record AutoAddress(String ipv4, String ipv6) {
  /** The addresses that exist, IPv4 first. */
  public List<String> all() {
    List<String> out = new ArrayList<>(2);
    if (ipv4 != null) out.add(ipv4);
    if (ipv6 != null) out.add(ipv6);
    return out;
  }

  /** The address a listener binds to: IPv4 when there is one. */
  public String primary() {
    return ipv4 != null ? ipv4 : ipv6;
  }
}
