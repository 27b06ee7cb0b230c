package weft.xds.extend;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import weft.model.EnvoyFilter;

/**
 * A patch's value read as the Envoy type its {@code applyTo} names, with protobuf's JSON reader and
 * the registry of every shipped Envoy type: an unknown field, a wrong JSON type or a
 * {@code typed_config} whose {@code @type} is not a type Weft ships makes the patch unusable, and
 * the reason names it. Read once per patch and kept while the EnvoyFilter lives.
 */
final class PatchValues {
  private PatchValues() {}

  /** A patch's value, or why it has none. {@code value} is null for REMOVE. */
  record Compiled(Message value, String problem) {}

  private static final Map<EnvoyFilter.Patch, Compiled> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

  /** The Envoy message type each applyTo patches; null for the kinds Weft does not patch. */
  static Message prototype(String applyTo) {
    return switch (applyTo) {
      case "LISTENER" -> Listener.getDefaultInstance();
      case "FILTER_CHAIN" -> FilterChain.getDefaultInstance();
      case "NETWORK_FILTER" -> Filter.getDefaultInstance();
      case "HTTP_FILTER" -> HttpFilter.getDefaultInstance();
      case "ROUTE_CONFIGURATION" -> RouteConfiguration.getDefaultInstance();
      case "VIRTUAL_HOST" -> VirtualHost.getDefaultInstance();
      case "HTTP_ROUTE" -> Route.getDefaultInstance();
      case "CLUSTER" -> Cluster.getDefaultInstance();
      case "LISTENER_FILTER" -> ListenerFilter.getDefaultInstance();
      default -> null;
    };
  }

  static Compiled of(EnvoyFilter.Patch patch) {
    Compiled c = CACHE.get(patch);
    if (c == null) {
      c = compile(patch);
      CACHE.put(patch, c);
    }
    return c;
  }

  private static Compiled compile(EnvoyFilter.Patch patch) {
    Message prototype = prototype(patch.applyTo());
    if (prototype == null) {
      return new Compiled(null, "applyTo " + patch.applyTo() + " is not supported by Weft ("
          + (patch.applyTo().equals("BOOTSTRAP") ? "the bootstrap is written by the proxy's agent, not sent over xDS"
          : patch.applyTo().equals("EXTENSION_CONFIG") ? "Weft serves no extension config discovery (ECDS)"
          : "not implemented") + ")");
    }
    if (patch.valueJson() == null) return new Compiled(null, null);
    Message.Builder b = prototype.newBuilderForType();
    try {
      EnvoyTypes.parserFor(patch.valueJson()).merge(patch.valueJson(), b);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return new Compiled(null, "value is not a valid " + prototype.getDescriptorForType().getFullName() + ": "
          + clean(e.getMessage()));
    }
    return new Compiled(b.build(), null);
  }

  /** The reader's message, on one line and bounded (it may quote the user's input). */
  private static String clean(String message) {
    String m = message == null ? "unreadable" : message.replaceAll("\\s+", " ");
    return m.length() > 300 ? m.substring(0, 300) + "..." : m;
  }
}
