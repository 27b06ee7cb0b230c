package weft.agent.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ChannelLogger;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.ProxyDetector;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.dns.nds.NameTable;
import weft.dns.server.MeshNames;

class MeshNameResolverProviderTest {
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final AtomicReference<MeshNames> names = new AtomicReference<>(MeshNames.compile(NameTable.newBuilder()
      .putTable("echo.default.svc.cluster.local", AgentDnsTest.service("echo", "default", List.of("10.96.0.10", "fd00::10")))
      .build(), "default"));
  private final MeshNameResolverProvider provider = new MeshNameResolverProvider(names::get);

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private static final ProxyDetector NO_PROXY = target -> null;

  private NameResolver.Args args() {
    return NameResolver.Args.newBuilder().setDefaultPort(443).setProxyDetector(NO_PROXY)
        .setSynchronizationContext(new SynchronizationContext((t, e) -> { throw new AssertionError(e); }))
        .setServiceConfigParser(new NameResolver.ServiceConfigParser() {
          @Override
          public NameResolver.ConfigOrError parseServiceConfig(java.util.Map<String, ?> rawServiceConfig) {
            return NameResolver.ConfigOrError.fromConfig(rawServiceConfig);
          }
        })
        .setScheduledExecutorService(scheduler).setChannelLogger(new ChannelLogger() {
          @Override
          public void log(ChannelLogger.ChannelLogLevel level, String message) {}

          @Override
          public void log(ChannelLogger.ChannelLogLevel level, String messageFormat, Object... args) {}
        }).build();
  }

  /** What the resolver reports on start. */
  private static final class Results extends NameResolver.Listener2 {
    final List<List<EquivalentAddressGroup>> results = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<Status> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void onResult(NameResolver.ResolutionResult r) {
      // grpc 1.85 delivers resolution errors as a result holding a status, too.
      if (r.getAddressesOrError().hasValue()) {
        results.add(r.getAddressesOrError().getValue());
      } else {
        errors.add(r.getAddressesOrError().getStatus());
      }
    }

    @Override
    public void onError(Status error) {
      errors.add(error);
    }
  }

  @Test
  void meshNamesInAnyFormResolveFromTheTableWithTheTargetsPort() {
    for (String target : List.of("dns:///echo.default.svc.cluster.local:7070", "dns:///echo:7070",
        "dns:///echo.default.svc:7070")) {
      NameResolver r = provider.newNameResolver(URI.create(target), args());
      Results got = new Results();
      r.start(got);
      assertThat(got.results).as(target).singleElement().satisfies(groups -> assertThat(groups)
          .extracting(g -> (InetSocketAddress) g.getAddresses().get(0))
          .extracting(a -> a.getAddress().getHostAddress() + ":" + a.getPort())
          .containsExactly("10.96.0.10:7070", "fd00:0:0:0:0:0:0:10:7070"));
      r.shutdown();
    }
    NameResolver defaultPort = provider.newNameResolver(URI.create("dns:///echo"), args());
    Results got = new Results();
    defaultPort.start(got);
    assertThat(((InetSocketAddress) got.results.get(0).get(0).getAddresses().get(0)).getPort()).isEqualTo(443);
    assertThat(defaultPort.getServiceAuthority()).isEqualTo("echo");
  }

  @Test
  void otherNamesAndOtherSchemesAreNotOurs() throws Exception {
    NameResolver other = provider.newNameResolver(URI.create("dns:///example.org:443"), args());
    assertThat(other.getClass().getName()).contains("DnsNameResolver");
    assertThat(provider.newNameResolver(new URI("dns", "", "/[::1]:443", null), args()).getClass().getName())
        .contains("DnsNameResolver");
    assertThat(provider.newNameResolver(URI.create("xds:///echo:7070"), args())).isNull();
    assertThat(provider.getDefaultScheme()).isEqualTo("dns");
  }

  @Test
  void aNameThatLeavesTheTableIsHandedToGrpcsOwnResolverAtTheNextRefresh() {
    NameResolver r = provider.newNameResolver(URI.create("dns:///echo:7070"), args());
    Results got = new Results();
    r.start(got);
    assertThat(got.results).hasSize(1);
    names.set(MeshNames.EMPTY);
    r.refresh();
    // grpc's DNS resolver now owns the name (it cannot resolve it: "echo" is no real host).
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> !got.errors.isEmpty());
    assertThat(got.results).as("no mesh answer after the name left the table").hasSize(1);
    r.shutdown();
  }
}
