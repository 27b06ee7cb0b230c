package weft.registry;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Whether an address lies in a CIDR block (IPv4 or IPv6); literal addresses only, never a DNS lookup. */
final class Cidrs {
  private Cidrs() {}

  static boolean contains(String cidr, String address) {
    int slash = cidr.indexOf('/');
    try {
      byte[] net = literal(slash < 0 ? cidr : cidr.substring(0, slash));
      byte[] ip = literal(address);
      if (net == null || ip == null || net.length != ip.length) return false;
      int bits = slash < 0 ? net.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((net[i / 8] & mask) != (ip[i / 8] & mask)) return false;
      }
      return true;
    } catch (NumberFormatException | UnknownHostException e) {
      return false;
    }
  }

  private static byte[] literal(String text) throws UnknownHostException {
    // getByName resolves names; only hand it literals so no lookup ever happens here.
    if (!text.matches("[0-9.]+") && !text.contains(":")) return null;
    return InetAddress.getByName(text).getAddress();
  }
}
