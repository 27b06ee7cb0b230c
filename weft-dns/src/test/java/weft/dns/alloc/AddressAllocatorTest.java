package weft.dns.alloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.ServiceEntry;

class AddressAllocatorTest {
  private static ServiceEntry entry(String ns, String name, String created, List<String> hosts, List<String> addresses,
      Map<String, String> labels, List<ServiceEntry.StatusAddress> status) {
    return new ServiceEntry(new ResourceId("ServiceEntry", ns, name), hosts, addresses,
        List.of(new ServiceEntry.Port(443, "TLS", "tls", 0)), "MESH_EXTERNAL", "DNS", List.of(), null, List.of(),
        List.of(), labels, created, status);
  }

  private static ServiceEntry entry(String ns, String name, String created, String host) {
    return entry(ns, name, created, List.of(host), List.of(), Map.of(), List.of());
  }

  /** What the leader writes into status.addresses, read back as the API server returns it. */
  private static ServiceEntry withStatus(ServiceEntry e, Allocation a) {
    List<ServiceEntry.StatusAddress> status = new ArrayList<>();
    for (String h : e.hosts()) {
      AutoAddress addr = a.of(e.id().namespace(), h);
      if (addr == null) continue;
      for (String ip : addr.all()) status.add(new ServiceEntry.StatusAddress(h, ip));
    }
    return entry(e.id().namespace(), e.id().name(), e.creationTimestamp(), e.hosts(), e.addresses(), e.labels(), status);
  }

  @Test
  void serviceEntryWithoutAddressesGetsTheSameAddressFromTwoControlPlanesAndAfterARestart(@TempDir Path dir)
      throws Exception {
    List<ServiceEntry> entries = new ArrayList<>();
    for (int i = 0; i < 50; i++) entries.add(entry("ns" + (i % 3), "e" + i, "2026-01-01T00:00:" + (10 + i % 40) + "Z", "h" + i + ".example.com"));
    List<ServiceEntry> shuffled = new ArrayList<>(entries);
    Collections.shuffle(shuffled, new Random(7));

    Allocation one = new AddressBook().allocate(1, entries);
    Allocation two = new AddressBook().allocate(1, shuffled);
    assertThat(two).isEqualTo(one);
    AutoAddress h0 = one.of("ns0", "h0.example.com");
    assertThat(h0.ipv4()).startsWith("240.240.");
    assertThat(h0.ipv6()).startsWith("2001:2::");

    // File mode: the state file carries the addresses across a restart.
    AddressStateFile file = new AddressStateFile(dir);
    file.save(one.addresses());
    AddressStateFile.Loaded loaded = file.load();
    assertThat(loaded.warnings()).isEmpty();
    assertThat(new AddressBook(loaded.addresses()).allocate(1, entries)).isEqualTo(one);

    // Kubernetes mode: a new control plane reads the leader's status.addresses.
    List<ServiceEntry> written = entries.stream().map(e -> withStatus(e, one)).toList();
    assertThat(new AddressBook().allocate(1, written).addresses()).isEqualTo(one.addresses());
  }

  /** Two hosts whose IPv4 first choice is the same slot: found by search, the hash is fixed. */
  private static String[] collidingHosts() {
    Map<Long, String> seen = new HashMap<>();
    for (int i = 0; ; i++) {
      String h = "c" + i + ".example.com";
      String other = seen.putIfAbsent(AddressAllocator.firstChoice(new HostKey("default", h), 0, AddressRange.IPV4), h);
      if (other != null) return new String[] {other, h};
    }
  }

  @Test
  void aHostThatSteppedAsideKeepsItsAddressWhenTheHolderIsDeleted(@TempDir Path dir) throws Exception {
    String[] pair = collidingHosts();
    ServiceEntry older = entry("default", "older", "2026-01-01T00:00:00Z", pair[0]);
    ServiceEntry newer = entry("default", "newer", "2026-01-02T00:00:00Z", pair[1]);
    AddressBook book = new AddressBook();
    Allocation both = book.allocate(1, List.of(older, newer));
    String olderAddress = both.of("default", pair[0]).ipv4();
    String newerAddress = both.of("default", pair[1]).ipv4();
    assertThat(newerAddress).isNotEqualTo(olderAddress);
    long hash = AddressAllocator.firstChoice(new HostKey("default", pair[0]), 0, AddressRange.IPV4);
    assertThat(olderAddress).isEqualTo(AddressRange.IPV4.address(hash)); // the holder sits on its hash

    // The holder goes: the newcomer stays where it is, in memory, after a restart, and from status.
    assertThat(book.allocate(2, List.of(newer)).of("default", pair[1]).ipv4()).isEqualTo(newerAddress);
    AddressStateFile file = new AddressStateFile(dir);
    file.save(both.addresses());
    assertThat(new AddressBook(file.load().addresses()).allocate(1, List.of(newer)).of("default", pair[1]).ipv4())
        .isEqualTo(newerAddress);
    assertThat(new AddressBook().allocate(1, List.of(withStatus(newer, both))).of("default", pair[1]).ipv4())
        .isEqualTo(newerAddress);
    // Without any memory the rules alone would have moved it: that is what persistence is for.
    assertThat(new AddressBook().allocate(1, List.of(newer)).of("default", pair[1]).ipv4()).isEqualTo(olderAddress);
  }

  @Test
  void rememberedHostsKeepTheirAddressesWhileTheConfigurationIsStillBeingRead() {
    String[] pair = collidingHosts();
    ServiceEntry older = entry("default", "older", "2026-01-01T00:00:00Z", pair[0]);
    ServiceEntry newcomer = entry("default", "newcomer", "2026-01-02T00:00:00Z", pair[1]);
    Allocation before = new AddressBook().allocate(1, List.of(older));
    String olderAddress = before.of("default", pair[0]).ipv4();
    // A restart reads the newcomer first; its first choice is the older host's remembered address,
    // which stays reserved for it until the whole configuration is read.
    AddressBook restarted = new AddressBook(before.addresses());
    String newcomerAddress = restarted.allocate(1, List.of(newcomer)).of("default", pair[1]).ipv4();
    assertThat(newcomerAddress).isNotEqualTo(olderAddress);
    Allocation all = restarted.allocate(2, List.of(older, newcomer));
    assertThat(all.of("default", pair[0]).ipv4()).isEqualTo(olderAddress);
    assertThat(all.of("default", pair[1]).ipv4()).isEqualTo(newcomerAddress);
    assertThat(all.problems()).isEmpty();

    // Once settled, an absent remembered host releases its address.
    AddressBook settled = new AddressBook(before.addresses());
    settled.settle();
    assertThat(settled.allocate(1, List.of(newcomer)).of("default", pair[1]).ipv4()).isEqualTo(olderAddress);
  }

  @Test
  void creatingAndDeletingOtherEntriesNeverChangesAGivenAddress() {
    Random random = new Random(20261202);
    AddressBook book = new AddressBook();
    Map<String, ServiceEntry> live = new TreeMap<>();
    Map<String, AutoAddress> first = new HashMap<>();
    int created = 0;
    for (int step = 1; step <= 250; step++) {
      // Mostly creations, some deletions, in batches: a few thousand hosts, so hashes collide.
      for (int k = 0; k < 20; k++) {
        if (live.isEmpty() || random.nextInt(4) != 0) {
          String name = "e" + created++;
          String ts = String.format("2026-01-01T%02d:%02d:%02dZ", (created / 3600) % 24, (created / 60) % 60, created % 60);
          live.put(name, entry("ns" + random.nextInt(4), name, ts, name + ".svc.example"));
        } else {
          List<String> names = new ArrayList<>(live.keySet());
          String gone = names.get(random.nextInt(names.size()));
          live.remove(gone);
          first.remove(gone);
        }
      }
      Allocation a = book.allocate(step, live.values());
      Set<String> v4 = new HashSet<>();
      Set<String> v6 = new HashSet<>();
      for (ServiceEntry e : live.values()) {
        AutoAddress got = a.of(e.id().namespace(), e.hosts().get(0));
        if (got == null || got.ipv4() == null || got.ipv6() == null) fail("no address for " + e.id());
        if (!v4.add(got.ipv4())) fail("IPv4 " + got.ipv4() + " given twice at step " + step);
        if (!v6.add(got.ipv6())) fail("IPv6 " + got.ipv6() + " given twice at step " + step);
        AutoAddress before = first.putIfAbsent(e.id().name(), got);
        if (before != null && !before.equals(got)) {
          fail(e.id() + " moved from " + before + " to " + got + " at step " + step);
        }
      }
      assertThat(a.problems()).isEmpty();
    }
    assertThat(live.size()).isGreaterThan(2000);
  }

  @Test
  void aUserAddressThatCollidesWithAGivenAddressIsReportedAndTheHolderKeepsIt() {
    ServiceEntry auto = entry("default", "auto", "2026-01-01T00:00:00Z", "auto.example.com");
    AddressBook book = new AddressBook();
    String given = book.allocate(1, List.of(auto)).of("default", "auto.example.com").ipv4();

    ServiceEntry user = entry("other", "user", "2026-01-02T00:00:00Z", List.of("user.example.com"), List.of(given),
        Map.of(), List.of());
    Allocation after = book.allocate(2, List.of(auto, user));
    assertThat(after.of("default", "auto.example.com").ipv4()).isEqualTo(given);
    assertThat(after.of("other", "user.example.com")).isNull(); // it has its own address
    assertThat(after.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.WARNING);
      assertThat(p.resource()).isEqualTo(user.id());
      assertThat(p.message()).contains(given, "default/auto.example.com", "spec.addresses");
    });

    // A fresh allocation never takes a user's address, single or in a CIDR.
    ServiceEntry block = entry("other", "block", "2026-01-03T00:00:00Z", List.of("block.example.com"),
        List.of("240.240.0.0/16"), Map.of(), List.of());
    Allocation blocked = new AddressBook().allocate(1, List.of(block, auto));
    assertThat(blocked.of("default", "auto.example.com").ipv4()).isNull();
    assertThat(blocked.of("default", "auto.example.com").ipv6()).startsWith("2001:2::");
    assertThat(blocked.problems()).anySatisfy(p -> assertThat(p.message()).contains("no automatic IPv4 address left"));
  }

  @Test
  void wildcardsOptedOutPassthroughAndAddressedEntriesGetNothing() {
    ServiceEntry wildcard = entry("default", "w", "", "*.example.com");
    ServiceEntry optedOut = entry("default", "o", "", List.of("o.example.com"), List.of(),
        Map.of(AddressAllocator.ENABLE_LABEL, "false"), List.of());
    ServiceEntry addressed = entry("default", "a", "", List.of("a.example.com"), List.of("10.1.2.3"), Map.of(), List.of());
    ServiceEntry passthrough = new ServiceEntry(new ResourceId("ServiceEntry", "default", "p"), List.of("p.example.com"),
        List.of(), List.of(new ServiceEntry.Port(443, "TLS", "tls", 0)), "MESH_EXTERNAL", "NONE", List.of(), null,
        List.of(), List.of());
    assertThat(new AddressBook().allocate(1, List.of(wildcard, optedOut, addressed, passthrough)).addresses()).isEmpty();
  }

  @Test
  void anExhaustedRangeIsReportedNeverWrapped() {
    List<ServiceEntry> entries = new ArrayList<>();
    long capacity = AddressRange.IPV4.capacity();
    for (int i = 0; i <= capacity; i++) entries.add(entry("default", "e" + i, "", "h" + i + ".example"));
    Allocation a = AddressAllocator.allocate(entries, Map.of());
    Set<String> v4 = new HashSet<>();
    int without = 0;
    for (AutoAddress addr : a.addresses().values()) {
      if (addr.ipv4() == null) {
        without++;
      } else {
        assertThat(v4.add(addr.ipv4())).isTrue();
      }
    }
    assertThat(v4).hasSize((int) capacity);
    assertThat(without).isEqualTo(1);
    assertThat(v4).noneMatch(ip -> ip.endsWith(".0") || ip.endsWith(".255"));
    assertThat(a.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.ERROR);
      assertThat(p.message()).contains("no automatic IPv4 address left", "240.240.0.0/16");
    });
  }

  @Test
  void twoHoldersOfOneAddressLeaveItToTheOlderEntry() {
    ServiceEntry older = entry("default", "a", "2026-01-01T00:00:00Z", "a.example.com");
    ServiceEntry newer = entry("default", "b", "2026-01-05T00:00:00Z", "b.example.com");
    Map<HostKey, AutoAddress> held = Map.of(
        new HostKey("default", "a.example.com"), new AutoAddress("240.240.1.1", null),
        new HostKey("default", "b.example.com"), new AutoAddress("240.240.1.1", null));
    Allocation a = AddressAllocator.allocate(List.of(newer, older), held);
    assertThat(a.of("default", "a.example.com").ipv4()).isEqualTo("240.240.1.1");
    assertThat(a.of("default", "b.example.com").ipv4()).isNotEqualTo("240.240.1.1").startsWith("240.240.");
    assertThat(a.problems()).anySatisfy(p -> assertThat(p.message()).contains("also held by default/a.example.com"));
  }

  @Test
  void aHostileStateFileIsSkippedEntryByEntry(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(AddressStateFile.NAME), """
        {"hosts": [
          {"namespace": "default", "host": "ok.example.com", "ipv4": "240.240.3.4"},
          {"namespace": "Bad\\nName", "host": "x", "ipv4": "240.240.3.5"},
          {"namespace": "default", "host": "out.example.com", "ipv4": "10.0.0.1"},
          {"namespace": "default", "host": "edge.example.com", "ipv4": "240.240.3.255"},
          "junk"
        ]}""");
    AddressStateFile.Loaded loaded = new AddressStateFile(dir).load();
    assertThat(loaded.addresses()).containsOnlyKeys(new HostKey("default", "ok.example.com"));
    assertThat(loaded.warnings()).hasSize(4);

    Files.writeString(dir.resolve(AddressStateFile.NAME), "{not json");
    loaded = new AddressStateFile(dir).load();
    assertThat(loaded.addresses()).isEmpty();
    assertThat(loaded.warnings()).singleElement().asString().contains("cannot be read");
  }

  @Test
  void ipv6AddressesAreWrittenInOneCanonicalForm() {
    assertThat(AddressRange.IPV6.address(1)).isEqualTo("2001:2::1");
    assertThat(AddressRange.IPV6.address(0x10002L)).isEqualTo("2001:2::1:2");
    assertThat(AddressRange.IPV6.offset("2001:2:0:0:0:0:1:2")).isEqualTo(0x10002L);
    assertThat(AddressRange.IPV4.address(0x0102)).isEqualTo("240.240.1.2");
    assertThat(AddressRange.IPV4.offset("240.241.1.2")).isEqualTo(-1);
    assertThat(AddressRange.IPV4.offset("example.com")).isEqualTo(-1);
  }
}
