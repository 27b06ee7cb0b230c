package weft.xds.extend;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Envoy API types Weft ships (the {@code io.envoyproxy.controlplane:api} jar: Envoy's, xDS's and
 * UDPA's protos, plus protobuf's well-known types), found by name: an EnvoyFilter value's
 * {@code typed_config} with any {@code @type} Envoy 1.34 knows is read as that type, and one outside
 * them is refused with its name.
 *
 * <p>Types are looked up one by one from the generated class a proto name maps to
 * ({@code envoy.extensions.filters.http.lua.v3.Lua} is
 * {@code io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua}), and each value is read with a
 * registry of just the types it names. Building one registry of every shipped type up front means
 * initialising some 580 descriptor classes, which took 5 to 6.5 s on a busy two-core machine: too
 * long for the first push that meets an EnvoyFilter.
 */
public final class EnvoyTypes {
  private EnvoyTypes() {}

  /** Proto package prefix → Java package prefix of the generated classes (by the jar's java_package options). */
  private static final String[][] PACKAGES = {
      {"envoy.", "io.envoyproxy.envoy."},
      {"xds.", "com.github.xds."},
      {"udpa.", "com.github.udpa.udpa."},
      {"google.protobuf.", "com.google.protobuf."},
      {"google.rpc.", "com.google.rpc."},
      {"cel.expr.", "dev.cel.expr."},
  };
  private static final Map<String, Optional<Descriptor>> FOUND = new ConcurrentHashMap<>();
  private static final Pattern TYPE = Pattern.compile("\"@type\"\\s*:\\s*\"(?:[^\"/]*/)?([A-Za-z0-9_.]+)\"");
  private static final int MAX_NAME = 256;
  private static final int MAX_REMEMBERED = 4096;

  /** The descriptor of a full type name ({@code envoy.extensions.filters.http.lua.v3.Lua}), or null. */
  public static Descriptor find(String fullName) {
    if (fullName.length() > MAX_NAME) return null;
    // Names come from config: the memory of misses is bounded (a clear only costs lookups again).
    if (FOUND.size() > MAX_REMEMBERED) FOUND.clear();
    return FOUND.computeIfAbsent(fullName, EnvoyTypes::load).orElse(null);
  }

  /**
   * A JSON parser for {@code json} whose registry holds every type it names by {@code @type} that
   * Weft ships (with the files they depend on); any other {@code @type} fails the read, naming it.
   */
  public static JsonFormat.Parser parserFor(String json) {
    return JsonFormat.parser().usingTypeRegistry(registryFor(json));
  }

  /** A printer that can show the types named in {@code json}. */
  static TypeRegistry registryFor(String json) {
    TypeRegistry.Builder b = TypeRegistry.newBuilder();
    Matcher m = TYPE.matcher(json);
    while (m.find()) {
      Descriptor d = find(m.group(1));
      if (d != null) b.add(d);
    }
    return b.build();
  }

  private static Optional<Descriptor> load(String fullName) {
    for (String[] p : PACKAGES) {
      if (!fullName.startsWith(p[0])) continue;
      String className = p[1] + fullName.substring(p[0].length());
      // A nested message is an inner class: try Outer.Inner as Outer$Inner, from the innermost dot out.
      for (int i = 0; i < 4 && className != null; i++) {
        Descriptor d = descriptorOf(className);
        if (d != null && d.getFullName().equals(fullName)) return Optional.of(d);
        int dot = className.lastIndexOf('.');
        className = dot < 0 ? null : className.substring(0, dot) + "$" + className.substring(dot + 1);
      }
    }
    return Optional.empty();
  }

  private static Descriptor descriptorOf(String className) {
    try {
      // Loaded without running its static initialiser until it is known to be a generated message.
      Class<?> c = Class.forName(className, false, EnvoyTypes.class.getClassLoader());
      if (!com.google.protobuf.Message.class.isAssignableFrom(c)) return null;
      return (Descriptor) c.getMethod("getDescriptor").invoke(null);
    } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
      return null;
    }
  }
}
