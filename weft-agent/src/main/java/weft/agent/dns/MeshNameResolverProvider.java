package weft.agent.dns;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;
import weft.dns.server.MeshNames;

/**
 * A grpc-java resolver for the {@code dns} scheme that answers mesh names from the agent's name table
 * and hands every other name to grpc's own DNS resolver. Java 17 has no way to plug into {@code
 * InetAddress} lookups ({@code InetAddressResolverProvider} is Java 18), so this is how a Java workload
 * in the agent's process resolves {@code dns:///echo.default.svc.cluster.local:8080}, or {@code
 * dns:///echo:8080} relative to its namespace, without going through a DNS server.
 *
 * <p>Registered by the agent above the default's priority (grpc's own is 5); the target is looked up
 * when the resolver is made and again at every refresh, so a table change reaches the channel at its
 * next re-resolution.
 */
public final class MeshNameResolverProvider extends NameResolverProvider {
  /** One above grpc's {@code DnsNameResolverProvider} (5), so that the registry picks this one for "dns". */
  public static final int PRIORITY = 6;
  private static final String SCHEME = "dns";

  private final Supplier<MeshNames> names;
  // grpc's own DNS resolver, for every name the table does not hold (grpc-core's public class).
  private final NameResolverProvider fallback = new io.grpc.internal.DnsNameResolverProvider();

  public MeshNameResolverProvider(Supplier<MeshNames> names) {
    this.names = Objects.requireNonNull(names);
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return PRIORITY;
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  @Override
  public NameResolver newNameResolver(URI target, NameResolver.Args args) {
    if (!SCHEME.equals(target.getScheme())) {
      return null;
    }
    Target t = Target.of(target, args.getDefaultPort());
    if (t == null || names.get().lookup(t.name()) == null) {
      return fallback.newNameResolver(target, args);
    }
    return new MeshResolver(t, target, args);
  }

  /** {@code dns:[//AUTHORITY]/HOST[:PORT]}: the host as an absolute DNS name, and the port. */
  record Target(String authority, Name name, int port) {
    static Target of(URI target, int defaultPort) {
      String path = target.getPath();
      if (path == null || !path.startsWith("/") || path.length() < 2) {
        return null;
      }
      URI hostPort;
      try {
        hostPort = URI.create("//" + path.substring(1));
      } catch (IllegalArgumentException e) {
        return null;
      }
      String host = hostPort.getHost();
      if (host == null || host.startsWith("[") || host.length() > 253) {
        return null; // an IPv6 literal or no host: nothing a name table holds
      }
      int port = hostPort.getPort() == -1 ? defaultPort : hostPort.getPort();
      try {
        return new Target(host, Name.fromString(host.endsWith(".") ? host : host + "."), port);
      } catch (TextParseException e) {
        return null;
      }
    }
  }

  /** Answers from the table while it holds the name; from grpc's DNS resolver once it no longer does. */
  private final class MeshResolver extends NameResolver {
    private final Target target;
    private final URI uri;
    private final NameResolver.Args args;
    // Confined to the channel's SynchronizationContext, where grpc calls start, refresh and shutdown.
    private Listener2 listener;
    private NameResolver delegate;

    MeshResolver(Target target, URI uri, NameResolver.Args args) {
      this.target = target;
      this.uri = uri;
      this.args = args;
    }

    @Override
    public String getServiceAuthority() {
      return target.authority();
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      if (delegate != null) {
        delegate.refresh();
        return;
      }
      MeshNames.Host host = names.get().lookup(target.name());
      if (host == null) {
        delegate = fallback.newNameResolver(uri, args);
        if (delegate == null) {
          listener.onError(Status.UNAVAILABLE.withDescription(target.authority() + " left the mesh's name table"));
          return;
        }
        delegate.start(listener);
        return;
      }
      List<EquivalentAddressGroup> groups = new ArrayList<>();
      List<InetAddress> all = new ArrayList<>(host.ipv4());
      all.addAll(host.ipv6());
      for (InetAddress a : all) {
        groups.add(new EquivalentAddressGroup(new InetSocketAddress(a, target.port())));
      }
      listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).setAttributes(Attributes.EMPTY).build());
    }

    @Override
    public void shutdown() {
      if (delegate != null) {
        delegate.shutdown();
      }
    }
  }
}
