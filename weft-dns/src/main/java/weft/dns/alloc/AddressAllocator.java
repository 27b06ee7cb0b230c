package weft.dns.alloc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.ServiceEntry;

/**
 * Stable automatic addresses for ServiceEntry hosts, a pure function of the entries and of the
 * addresses already given out.
 *
 * <p>Every non-wildcard host of a ServiceEntry without {@code spec.addresses} gets one IPv4 and one
 * IPv6 address, unless the entry is labelled {@code networking.istio.io/enable-autoallocate-ip:
 * "false"} or has resolution NONE (its traffic goes to the address dialled, so an invented one
 * would lead nowhere). The rules, in order:
 * <ol>
 *   <li>A host keeps the address it holds: the one persisted in its entry's {@code status.addresses},
 *       else the one {@code held} says (this control plane's last allocation, or the state file).
 *       If two hosts hold the same address, the older entry keeps it (creationTimestamp, then
 *       namespace/name, then host) and the other is given a new one.</li>
 *   <li>Every other host, oldest entry first, takes the address its namespace and host hash to, or
 *       the next free one after it (scanning the range once, never handing out an address twice).</li>
 * </ol>
 * So creating or deleting other entries never moves an address that was given (unlike Istio's
 * sequential allocator, which renumbered all entries in creation order). An address held by one host
 * that a user then writes into another entry's {@code spec.addresses} stays where it is and is
 * reported; fresh allocations avoid user addresses. An exhausted range is reported, never wrapped
 * into addresses already given.
 */
public final class AddressAllocator {
  /** Istio's label: "false" turns automatic addresses off for the entry. */
  public static final String ENABLE_LABEL = "networking.istio.io/enable-autoallocate-ip";

  private AddressAllocator() {}

  /**
   * @param entries every ServiceEntry of the mesh's config (any order: the result does not depend on it)
   * @param held addresses given before (this control plane's previous allocation, or the state file);
   *     the entries' {@code status.addresses} take precedence over it
   */
  public static Allocation allocate(Collection<ServiceEntry> entries, Map<HostKey, AutoAddress> held) {
    return allocate(entries, held, Map.of());
  }

  /**
   * @param reserved addresses of hosts that are not among {@code entries} but may still exist (their
   *     entries not read yet after a restart): given to no one else
   */
  static Allocation allocate(Collection<ServiceEntry> entries, Map<HostKey, AutoAddress> held,
      Map<HostKey, AutoAddress> reserved) {
    List<ServiceEntry> sorted = byPrecedence(entries);
    Map<HostKey, Claim> claims = new LinkedHashMap<>();
    List<String> userAddresses = new ArrayList<>();
    Map<String, ResourceId> userOwner = new HashMap<>();
    for (ServiceEntry e : sorted) {
      if (!e.addresses().isEmpty()) {
        for (String a : e.addresses()) {
          userAddresses.add(a);
          userOwner.putIfAbsent(a, e.id());
        }
        continue;
      }
      if (!wantsAddresses(e)) continue;
      for (String host : e.hosts()) {
        if (host.contains("*")) continue; // a wildcard names many hosts: no one address can stand for them
        HostKey key = new HostKey(e.id().namespace(), host);
        // The oldest entry that names the host speaks for it; younger ones share its address.
        claims.putIfAbsent(key, new Claim(key, e));
      }
    }
    SortedMap<HostKey, String[]> result = new TreeMap<>();
    for (HostKey k : claims.keySet()) result.put(k, new String[2]);
    List<ConfigProblem> problems = new ArrayList<>();
    Family[] families = {new Family(AddressRange.IPV4, 0, userAddresses), new Family(AddressRange.IPV6, 1, userAddresses)};
    for (Family f : families) {
      reserved.forEach((k, a) -> {
        long o = f.range.offset(f.index == 0 ? a.ipv4() : a.ipv6());
        if (f.range.usable(o) && !claims.containsKey(k)) f.taken.putIfAbsent(o, k);
      });
      f.keepHeld(claims.values(), held, result, userOwner, problems);
      f.allocateRest(claims.values(), result, problems);
    }
    SortedMap<HostKey, AutoAddress> out = new TreeMap<>();
    result.forEach((k, a) -> {
      if (a[0] != null || a[1] != null) out.put(k, new AutoAddress(a[0], a[1]));
    });
    return new Allocation(out, problems);
  }

  /** Whether an entry's hosts get automatic addresses (its non-wildcard ones). */
  static boolean wantsAddresses(ServiceEntry e) {
    if (!e.addresses().isEmpty()) return false;
    if ("false".equalsIgnoreCase(e.labels().getOrDefault(ENABLE_LABEL, "true").trim())) return false;
    // Resolution NONE passes connections through to the address the application dialled: with an
    // automatic address that would be the never-routed address itself (Istio skips them too).
    return !"NONE".equals(e.resolution());
  }

  /** The hosts {@code entries} want automatic addresses for. */
  static java.util.Set<HostKey> claimed(Collection<ServiceEntry> entries) {
    java.util.Set<HostKey> out = new HashSet<>();
    for (ServiceEntry e : entries) {
      if (!wantsAddresses(e)) continue;
      for (String h : e.hosts()) if (!h.contains("*")) out.add(new HostKey(e.id().namespace(), h));
    }
    return out;
  }

  /** One host wanting addresses, and the (oldest) entry that names it. */
  private record Claim(HostKey key, ServiceEntry entry) {}

  /**
   * Oldest first, then by namespace and name; entries without a readable creationTimestamp (files)
   * after all that have one. Timestamps are parsed once per entry, not per comparison.
   */
  static List<ServiceEntry> byPrecedence(Collection<ServiceEntry> entries) {
    record Keyed(Instant created, ServiceEntry entry) {}
    List<Keyed> keyed = new ArrayList<>(entries.size());
    for (ServiceEntry e : entries) keyed.add(new Keyed(created(e.creationTimestamp()), e));
    keyed.sort(Comparator.comparing(Keyed::created)
        .thenComparing(k -> k.entry().id().namespace())
        .thenComparing(k -> k.entry().id().name()));
    List<ServiceEntry> out = new ArrayList<>(keyed.size());
    for (Keyed k : keyed) out.add(k.entry());
    return out;
  }

  static Instant created(String timestamp) {
    if (timestamp == null || timestamp.isEmpty()) return Instant.MAX;
    try {
      return OffsetDateTime.parse(timestamp).toInstant();
    } catch (DateTimeParseException e) {
      return Instant.MAX;
    }
  }

  /** The allocation state of one address family. */
  private static final class Family {
    final AddressRange range;
    final int index;
    /** Offsets given out so far in this computation → who holds them. */
    final Map<Long, HostKey> taken = new HashMap<>();
    /** User addresses of this family: single addresses by offset, CIDRs as the offset spans they cover. */
    final Set<Long> userOffsets = new HashSet<>();
    final List<long[]> userBlocks = new ArrayList<>();

    Family(AddressRange range, int index, List<String> userAddresses) {
      this.range = range;
      this.index = index;
      for (String a : userAddresses) {
        int slash = a.indexOf('/');
        if (slash < 0) {
          long o = range.offset(a);
          if (o >= 0) userOffsets.add(o);
          continue;
        }
        try {
          long[] span = range.covered(a.substring(0, slash), Integer.parseInt(a.substring(slash + 1)));
          if (span != null) userBlocks.add(span);
        } catch (NumberFormatException e) {
          // The parser refuses such an address; nothing of ours to avoid.
        }
      }
    }

    boolean userHas(long offset) {
      if (userOffsets.contains(offset)) return true;
      for (long[] b : userBlocks) if (offset >= b[0] && offset <= b[1]) return true;
      return false;
    }

    /** Rule 1: held addresses stay, the older claim winning a conflict. */
    void keepHeld(Collection<Claim> claims, Map<HostKey, AutoAddress> held, SortedMap<HostKey, String[]> result,
        Map<String, ResourceId> userOwner, List<ConfigProblem> problems) {
      for (Claim c : claims) {
        String mine = persisted(c);
        if (mine == null) {
          AutoAddress h = held.get(c.key());
          mine = h == null ? null : index == 0 ? h.ipv4() : h.ipv6();
        }
        if (mine == null) continue;
        long offset = range.offset(mine);
        if (!range.usable(offset)) continue; // not ours (a range change, a hand edit): allocated afresh
        HostKey holder = taken.get(offset);
        if (holder != null) {
          problems.add(ConfigProblem.warning(null, c.entry().id(), "status.addresses", "address " + mine + " of "
              + c.key().host() + " is also held by " + holder + ", whose entry is older; " + c.key().host()
              + " gets a new address"));
          continue;
        }
        taken.put(offset, c.key());
        result.get(c.key())[index] = range.address(offset);
        if (userHas(offset)) {
          ResourceId owner = userOwner.get(range.address(offset));
          problems.add(ConfigProblem.warning(null, owner != null ? owner : c.entry().id(), "spec.addresses",
              "address " + range.address(offset) + " was automatically given to " + c.key() + " ("
                  + c.entry().id() + ") and is also written in "
                  + (owner != null ? owner + "'s" : "another ServiceEntry's") + " spec.addresses; clients "
                  + "cannot tell the two apart; choose an address outside " + range));
        }
      }
    }

    /** The address of this family the entry's status gives the host, or null. */
    private String persisted(Claim c) {
      for (ServiceEntry.StatusAddress s : c.entry().statusAddresses()) {
        if (s.host().equals(c.key().host()) && range.sameFamily(s.value())) return s.value();
      }
      return null;
    }

    /** Rule 2: the others, oldest first, from their hash onwards. */
    void allocateRest(Collection<Claim> claims, SortedMap<HostKey, String[]> result, List<ConfigProblem> problems) {
      for (Claim c : claims) {
        if (result.get(c.key())[index] != null) continue;
        long offset = free(firstChoice(c.key()));
        if (offset < 0) {
          problems.add(ConfigProblem.error(null, c.entry().id(), "spec.hosts", "no automatic " + (index == 0
              ? "IPv4" : "IPv6") + " address left for " + c.key().host() + ": all " + range.capacity()
              + " addresses of " + range + " are given out; give this ServiceEntry spec.addresses, or label "
              + "entries that need none " + ENABLE_LABEL + ": \"false\""));
          continue;
        }
        taken.put(offset, c.key());
        result.get(c.key())[index] = range.address(offset);
      }
    }

    /** The first usable, untaken offset from {@code start}, scanning the range once; -1 when none is left. */
    private long free(long start) {
      if (taken.size() >= range.capacity()) return -1;
      long size = range.size();
      for (long i = 0; i < size; i++) {
        long o = (start + i) % size;
        if (range.usable(o) && !taken.containsKey(o) && !userHas(o)) return o;
      }
      return -1;
    }

    long firstChoice(HostKey key) {
      return AddressAllocator.firstChoice(key, index, range);
    }
  }

  /** A hash of namespace and host, different per family (0 = IPv4) so that their collisions differ. */
  static long firstChoice(HostKey key, int family, AddressRange range) {
    byte[] d = sha256(key.namespace() + "/" + key.host());
    long h = 0;
    for (int i = family * 8; i < family * 8 + 8; i++) h = (h << 8) | (d[i] & 0xff);
    return Long.remainderUnsigned(h, range.size());
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
