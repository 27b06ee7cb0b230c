package weft.dns.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.Address;

/**
 * The {@code nameserver} lines of a resolv.conf, as glibc reads them: IP literals only (an IPv6 one may
 * carry a {@code %zone}), at most {@value #MAX_NAMESERVERS}, port 53. Other lines are ignored; a
 * nameserver that is not an IP literal is skipped with a warning.
 */
public final class ResolvConf {
  private static final System.Logger LOG = System.getLogger(ResolvConf.class.getName());
  /** glibc's MAXNS: later nameserver lines are ignored by every libc resolver. */
  public static final int MAX_NAMESERVERS = 3;
  /** A resolv.conf is a few lines; a larger file is not one. */
  private static final long MAX_BYTES = 64 * 1024;

  private ResolvConf() {}

  /**
   * The nameservers of {@code file}.
   *
   * @throws IOException when it cannot be read, or is too large to be a resolv.conf
   */
  public static List<InetSocketAddress> nameservers(Path file) throws IOException {
    if (Files.size(file) > MAX_BYTES) {
      throw new IOException(file + " is larger than " + MAX_BYTES + " bytes: not a resolv.conf");
    }
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** The nameservers of a resolv.conf's text; {@code where} names it in warnings. */
  public static List<InetSocketAddress> parse(String text, String where) {
    List<InetSocketAddress> found = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      String[] words = line.strip().split("[ \t]+");
      if (words.length < 2 || !words[0].equals("nameserver")) {
        continue;
      }
      InetAddress a = literal(words[1]);
      if (a == null) {
        LOG.log(System.Logger.Level.WARNING, where + " line " + lineNumber + ": nameserver '"
            + (words[1].length() > 60 ? words[1].substring(0, 60) + "..." : words[1]) + "' is not an IP address; skipped");
        continue;
      }
      if (found.size() == MAX_NAMESERVERS) {
        LOG.log(System.Logger.Level.WARNING, where + " line " + lineNumber + ": more than " + MAX_NAMESERVERS
            + " nameservers; the rest are ignored, as libc does");
        break;
      }
      found.add(new InetSocketAddress(a, 53));
    }
    return List.copyOf(found);
  }

  /**
   * {@code HOST[:PORT]} or {@code [IPV6]:PORT} with an IP literal host, as {@code --dns-upstream}
   * takes it (default port 53).
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static InetSocketAddress parseAddress(String text) {
    String host = text;
    int port = 53;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("'" + text + "': missing ']'");
      }
      host = text.substring(1, close);
      String rest = text.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("'" + text + "': expected ':PORT' after ']'");
        }
        port = port(rest.substring(1), text);
      }
    } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
      host = text.substring(0, text.indexOf(':'));
      port = port(text.substring(text.indexOf(':') + 1), text);
    }
    InetAddress a = literal(host);
    if (a == null) {
      throw new IllegalArgumentException("'" + text + "': the host must be an IP address (IPv6 as [ADDR]:PORT)");
    }
    return new InetSocketAddress(a, port);
  }

  private static int port(String s, String whole) {
    try {
      int p = Integer.parseInt(s);
      if (p >= 1 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException("'" + whole + "': port must be 1..65535");
  }

  /** An IP literal (IPv6 with an optional %zone), never a name lookup; null when it is none. */
  static InetAddress literal(String text) {
    if (text.isEmpty() || text.length() > 64) {
      return null;
    }
    try {
      byte[] v4 = Address.toByteArray(text, Address.IPv4);
      if (v4 != null) {
        return InetAddress.getByAddress(v4);
      }
      int zone = text.indexOf('%');
      String bare = zone < 0 ? text : text.substring(0, zone);
      if (Address.toByteArray(bare, Address.IPv6) != null) {
        // A literal with a zone: getByName parses it without a lookup.
        return InetAddress.getByName(text);
      }
    } catch (UnknownHostException e) {
      return null;
    }
    return null;
  }
}
