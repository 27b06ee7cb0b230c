package weft.xds.extend;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Every Envoy API type Weft ships (the {@code io.envoyproxy.controlplane:api} jar: Envoy's, xDS's
 * and UDPA's protos), so that an EnvoyFilter value's {@code typed_config} with any {@code @type} Envoy
 * 1.34 knows is read as that type, and an {@code @type} outside them is refused with its name.
 *
 * <p>The file descriptors are found once, on first use, by listing the jar's generated
 * {@code *Proto} classes (each holds one .proto file's descriptor); a jar that cannot be listed
 * (an unusual class loader) falls back to the types Weft generates and the common filters.
 */
public final class EnvoyTypes {
  private EnvoyTypes() {}

  private static final class Holder {
    static final TypeRegistry REGISTRY = build();
    static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(REGISTRY);
    static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(REGISTRY)
        .omittingInsignificantWhitespace();
  }

  /** The registry of every shipped type. */
  public static TypeRegistry registry() {
    return Holder.REGISTRY;
  }

  /** A JSON parser that resolves {@code Any} by the registry; unknown fields are errors (as in Istio). */
  public static JsonFormat.Parser parser() {
    return Holder.PARSER;
  }

  public static JsonFormat.Printer printer() {
    return Holder.PRINTER;
  }

  /** The descriptor of a full type name ({@code envoy.extensions.filters.http.lua.v3.Lua}), or null. */
  public static Descriptor find(String fullName) {
    return Holder.REGISTRY.find(fullName);
  }

  private static TypeRegistry build() {
    TypeRegistry.Builder b = TypeRegistry.newBuilder();
    List<FileDescriptor> files = scanJar();
    if (files.isEmpty()) files = fallback();
    for (FileDescriptor f : files) {
      for (Descriptor d : f.getMessageTypes()) b.add(d); // adds the file and its dependencies
    }
    return b.build();
  }

  private static List<FileDescriptor> scanJar() {
    List<FileDescriptor> out = new ArrayList<>();
    try {
      var source = io.envoyproxy.envoy.config.listener.v3.Listener.class.getProtectionDomain().getCodeSource();
      if (source == null) return out;
      Path jar = Path.of(source.getLocation().toURI());
      if (!jar.toString().endsWith(".jar")) return out;
      ClassLoader loader = EnvoyTypes.class.getClassLoader();
      try (JarFile file = new JarFile(jar.toFile())) {
        Enumeration<JarEntry> entries = file.entries();
        while (entries.hasMoreElements()) {
          String name = entries.nextElement().getName();
          if (!name.endsWith("Proto.class") || name.contains("$")) continue;
          if (!(name.startsWith("io/envoyproxy/envoy/") || name.startsWith("com/github/xds/")
              || name.startsWith("com/github/udpa/"))) {
            continue;
          }
          String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
          try {
            Object d = Class.forName(className, true, loader).getMethod("getDescriptor").invoke(null);
            if (d instanceof FileDescriptor fd) out.add(fd);
          } catch (ReflectiveOperationException | LinkageError e) {
            // not a descriptor holder; skip it
          }
        }
      }
    } catch (IOException | URISyntaxException | SecurityException | IllegalArgumentException e) {
      return new ArrayList<>();
    }
    return out;
  }

  private static List<FileDescriptor> fallback() {
    return List.of(
        io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor().getFile(),
        io.envoyproxy.envoy.config.cluster.v3.Cluster.getDescriptor().getFile(),
        io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
            .getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.getDescriptor().getFile(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor().getFile());
  }
}
