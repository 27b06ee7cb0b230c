package weft.dns.alloc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.Names;

/**
 * File mode's memory of automatic addresses ({@code --state-dir}): what {@code status.addresses}
 * is in Kubernetes mode. One JSON file, replaced atomically; read once at start-up. The file is
 * input like any other: an entry that is not a namespace, a host and an address of our ranges is
 * skipped with a warning (the host is then allocated by the usual rules), and a file that cannot
 * be read is reported and treated as empty.
 */
public final class AddressStateFile {
  /** The file's name inside the state directory. */
  public static final String NAME = "auto-addresses.json";
  /** More than any mesh has hosts, small enough that reading a hostile file stays cheap. */
  static final long MAX_BYTES = 16L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;

  public AddressStateFile(Path stateDir) {
    this.file = stateDir.resolve(NAME);
  }

  public Path path() {
    return file;
  }

  /** What the file holds, and a warning for each thing skipped (empty when there is no file yet). */
  public record Loaded(SortedMap<HostKey, AutoAddress> addresses, List<String> warnings) {}

  public Loaded load() {
    SortedMap<HostKey, AutoAddress> out = new TreeMap<>();
    List<String> warnings = new ArrayList<>();
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) return new Loaded(out, warnings);
    JsonNode root;
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("it is not a regular file");
      }
      if (Files.size(file) > MAX_BYTES) throw new IOException("it is larger than " + MAX_BYTES + " bytes");
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (IOException | RuntimeException e) {
      warnings.add(file + " cannot be read (" + e.getMessage() + "); automatic addresses are computed afresh and "
          + "the file is rewritten");
      return new Loaded(out, warnings);
    }
    JsonNode hosts = root == null ? null : root.get("hosts");
    if (hosts == null || !hosts.isArray()) {
      warnings.add(file + " has no \"hosts\" list; automatic addresses are computed afresh");
      return new Loaded(out, warnings);
    }
    for (int i = 0; i < hosts.size(); i++) {
      JsonNode h = hosts.get(i);
      String ns = text(h, "namespace");
      String host = text(h, "host");
      String v4 = text(h, "ipv4");
      String v6 = text(h, "ipv6");
      boolean ok = ns != null && Names.isDnsLabel(ns) && host != null && !host.isEmpty() && host.length() <= 253
          && (v4 == null || AddressRange.IPV4.usable(AddressRange.IPV4.offset(v4)))
          && (v6 == null || AddressRange.IPV6.usable(AddressRange.IPV6.offset(v6)))
          && (v4 != null || v6 != null);
      if (!ok) {
        warnings.add(file + ": hosts[" + i + "] is not {namespace, host, ipv4 in " + AddressRange.IPV4 + ", ipv6 in "
            + AddressRange.IPV6 + "}; skipped");
        continue;
      }
      out.put(new HostKey(ns, host), new AutoAddress(v4, v6));
    }
    return new Loaded(out, warnings);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v != null && v.isTextual() ? v.textValue() : null;
  }

  /** Replaces the file with {@code addresses}, atomically (a crash leaves the old or the new file). */
  public void save(Map<HostKey, AutoAddress> addresses) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode hosts = root.putArray("hosts");
    for (Map.Entry<HostKey, AutoAddress> e : new TreeMap<>(addresses).entrySet()) {
      ObjectNode h = hosts.addObject();
      h.put("namespace", e.getKey().namespace());
      h.put("host", e.getKey().host());
      if (e.getValue().ipv4() != null) h.put("ipv4", e.getValue().ipv4());
      if (e.getValue().ipv6() != null) h.put("ipv6", e.getValue().ipv6());
    }
    Files.createDirectories(file.getParent());
    Path tmp = Files.createTempFile(file.getParent(), NAME, ".tmp");
    try {
      Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
