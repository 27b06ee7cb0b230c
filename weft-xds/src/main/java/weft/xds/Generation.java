package weft.xds;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a generator produced for one proxy and one type: the resources by name, or, when it threw,
 * the reason and nothing else. A failed generation must never be sent: an empty response would
 * delete everything the proxy holds of that type (Istio does not send on a generator error either).
 *
 * @param resources by name, sorted; empty when failed
 * @param failure null when generation succeeded, else what went wrong (for logs and /debug/status)
 */
public record Generation(SortedMap<String, Generated> resources, String failure) {
  public Generation {
    resources = Collections.unmodifiableSortedMap(resources);
  }

  public static Generation ok(SortedMap<String, Generated> resources) {
    return new Generation(resources, null);
  }

  public static Generation failed(String reason) {
    return new Generation(new TreeMap<>(), reason);
  }

  public boolean failed() {
    return failure != null;
  }

  /** The named resource, or null when it was not generated; throws if the generation failed. */
  public com.google.protobuf.Any get(String name) {
    Generated g = anyResources().get(name);
    return g == null ? null : g.resource();
  }

  /** The resources as plain {@code Any}s, by name; throws if the generation failed. */
  public SortedMap<String, com.google.protobuf.Any> anys() {
    SortedMap<String, com.google.protobuf.Any> out = new TreeMap<>();
    anyResources().forEach((name, g) -> out.put(name, g.resource()));
    return out;
  }

  private SortedMap<String, Generated> anyResources() {
    if (failed()) throw new IllegalStateException(failure);
    return resources;
  }
}
