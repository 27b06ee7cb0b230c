package weft.xds.dump;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one stream last sent of one type: the type's version and each resource's bytes by name.
 *
 * @param resourceVersions each resource's own version where the protocol has one (Delta); empty for
 *     State of the World, whose resources carry the type's version
 */
public record SentResources(String typeUrl, String version, SortedMap<String, ByteString> resources,
    Map<String, String> resourceVersions) {
  public SentResources {
    resources = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(resources));
    resourceVersions = Map.copyOf(resourceVersions);
  }

  String versionOf(String name) {
    return resourceVersions.getOrDefault(name, version);
  }
}
