package weft.dns.alloc;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.model.ConfigProblem;

/**
 * The automatic addresses of every host that gets one, and what could not be done (a range
 * exhausted, a user address that collides). Immutable.
 */
public record Allocation(SortedMap<HostKey, AutoAddress> addresses, List<ConfigProblem> problems) {
  public static final Allocation EMPTY = new Allocation(new TreeMap<>(), List.of());

  public Allocation {
    addresses = Collections.unmodifiableSortedMap(new TreeMap<>(addresses));
    problems = List.copyOf(problems);
  }

  /** The host's addresses, or null when it has none. */
  public AutoAddress of(String namespace, String host) {
    return addresses.get(new HostKey(namespace, host));
  }
}
