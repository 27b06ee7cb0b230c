package weft.dns.alloc;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A range automatic addresses are taken from, numbered by offset from its base. Istio's ranges:
 * {@code 240.240.0.0/16} (class E, never routed) and {@code 2001:2::/48} (RFC 5180's benchmarking
 * block), so an allocated address can never be a real destination.
 */
public final class AddressRange {
  /**
   * 240.240.0.0/16 without addresses whose last byte is 0 or 255: some stacks treat those as network
   * or broadcast addresses of a /24, as Istio's allocator avoids them too.
   */
  public static final AddressRange IPV4 = new AddressRange("240.240.0.0", 16, true, "240.240.0.0/16");
  /**
   * 2001:2::/48, of which the lowest 2^32 addresses are used: far more than any mesh has hosts, and
   * a hash spread over 2^32 slots almost never collides.
   */
  public static final AddressRange IPV6 = new AddressRange("2001:2::", 32, false, "2001:2::/48");

  private final byte[] base;
  private final int hostBits;
  private final boolean skipEdgeBytes;
  private final String name;

  private AddressRange(String base, int hostBits, boolean skipEdgeBytes, String name) {
    this.base = literal(base).getAddress();
    this.hostBits = hostBits;
    this.skipEdgeBytes = skipEdgeBytes;
    this.name = name;
  }

  /** How many offsets the range has (usable or not). */
  public long size() {
    return 1L << hostBits;
  }

  /** False for offsets that are never given out. */
  public boolean usable(long offset) {
    if (offset < 0 || offset >= size()) return false;
    if (offset == 0) return false; // the range's own network address
    if (!skipEdgeBytes) return true;
    long low = offset & 0xff;
    return low != 0 && low != 0xff;
  }

  /** How many addresses can be given out. */
  public long capacity() {
    return skipEdgeBytes ? (size() >> 8) * 254 : size() - 1;
  }

  /**
   * The address at {@code offset}, in its canonical text form (RFC 5952 for IPv6: {@code 2001:2::1:2}),
   * computed without parsing: this runs for every host on every allocation.
   */
  public String address(long offset) {
    // Only the two ranges above exist (the constructor is private): 240.240.X.Y and 2001:2::HI:LO.
    if (base.length == 4) {
      return (base[0] & 0xff) + "." + (base[1] & 0xff) + "." + ((offset >>> 8) & 0xff) + "." + (offset & 0xff);
    }
    long hi = (offset >>> 16) & 0xffff;
    long lo = offset & 0xffff;
    return "2001:2::" + (hi == 0 ? "" : Long.toHexString(hi) + ":") + Long.toHexString(lo);
  }

  /** The offset of {@code ip} in this range, or -1 when it is no IP literal or lies outside. */
  public long offset(String ip) {
    if (base.length == 4 && ip != null && ip.startsWith("240.240.")) {
      long fast = ipv4Tail(ip.substring(8));
      if (fast >= 0) return fast;
    }
    if (base.length == 16 && ip != null && ip.startsWith("2001:2::")) {
      long fast = ipv6Tail(ip.substring(8));
      if (fast >= 0) return fast;
    }
    InetAddress a = literalOrNull(ip);
    if (a == null) return -1;
    byte[] b = a.getAddress();
    if (b.length != base.length) return -1;
    int prefixBytes = base.length - hostBits / 8;
    for (int i = 0; i < prefixBytes; i++) if (b[i] != base[i]) return -1;
    long offset = 0;
    for (int i = prefixBytes; i < b.length; i++) offset = (offset << 8) | (b[i] & 0xff);
    return offset;
  }

  /** "X.Y" with X, Y in 0..255 as the offset X*256+Y, else -1. */
  private static long ipv4Tail(String tail) {
    int dot = tail.indexOf('.');
    if (dot < 1 || dot > 3 || tail.length() - dot - 1 < 1 || tail.length() - dot - 1 > 3) return -1;
    long x = 0;
    long y = 0;
    for (int i = 0; i < tail.length(); i++) {
      char c = tail.charAt(i);
      if (i == dot) continue;
      if (c < '0' || c > '9') return -1;
      if (i < dot) x = x * 10 + (c - '0'); else y = y * 10 + (c - '0');
    }
    // Leading zeros are not canonical; let the full parser judge them.
    if ((tail.charAt(0) == '0' && dot > 1) || (tail.charAt(dot + 1) == '0' && tail.length() - dot - 1 > 1)) return -1;
    return x > 255 || y > 255 ? -1 : x * 256 + y;
  }

  /** "HI:LO" or "LO" (1 to 4 hex digits each, as {@link #address} writes them) as an offset, else -1. */
  private static long ipv6Tail(String tail) {
    int colon = tail.indexOf(':');
    if (colon < 0) return hexGroup(tail);
    long hi = hexGroup(tail.substring(0, colon));
    long lo = hexGroup(tail.substring(colon + 1));
    return hi < 0 || lo < 0 ? -1 : (hi << 16) | lo;
  }

  private static long hexGroup(String g) {
    if (g.isEmpty() || g.length() > 4) return -1;
    long v = 0;
    for (int i = 0; i < g.length(); i++) {
      int d = Character.digit(g.charAt(i), 16);
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  /** True when {@code ip} is an address of this range's family. */
  public boolean sameFamily(String ip) {
    InetAddress a = literalOrNull(ip);
    return a != null && a.getAddress().length == base.length;
  }

  @Override
  public String toString() {
    return name;
  }

  /** An IP literal, never a name lookup: {@link InetAddress#getByName} would query DNS for a name. */
  static InetAddress literalOrNull(String s) {
    if (s == null || s.isEmpty() || s.length() > 45) return null;
    boolean v6 = s.indexOf(':') >= 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = Character.digit(c, 16) >= 0 || c == '.' || c == ':';
      if (!ok || (!v6 && !(c == '.' || Character.isDigit(c)))) return null;
    }
    try {
      return InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static InetAddress literal(String s) {
    InetAddress a = literalOrNull(s);
    if (a == null) throw new IllegalArgumentException(s);
    return a;
  }

  /**
   * The offsets of this range that the CIDR {@code ip/prefix} covers, as {first, last}, or null when
   * it covers none (another family, no overlap, or not a CIDR at all).
   */
  long[] covered(String ip, int prefix) {
    InetAddress a = literalOrNull(ip);
    if (a == null || a.getAddress().length != base.length) return null;
    int total = base.length * 8;
    if (prefix < 0 || prefix > total) return null;
    BigInteger hostMask = BigInteger.ONE.shiftLeft(total - prefix).subtract(BigInteger.ONE);
    BigInteger first = new BigInteger(1, a.getAddress()).andNot(hostMask);
    BigInteger last = first.or(hostMask);
    BigInteger rangeFirst = new BigInteger(1, base);
    BigInteger rangeLast = rangeFirst.add(BigInteger.valueOf(size() - 1));
    if (last.compareTo(rangeFirst) < 0 || first.compareTo(rangeLast) > 0) return null;
    BigInteger from = first.max(rangeFirst).subtract(rangeFirst);
    BigInteger to = last.min(rangeLast).subtract(rangeFirst);
    return new long[] {from.longValueExact(), to.longValueExact()};
  }
}
