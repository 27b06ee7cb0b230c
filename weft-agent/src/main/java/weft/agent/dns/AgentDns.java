package weft.agent.dns;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import weft.dns.nds.NameTable;
import weft.dns.server.DnsServer;
import weft.dns.server.MeshNames;
import weft.dns.server.ResolvConf;

/**
 * The agent's DNS: a {@link DnsServer} answering from the workload's name table, which a {@link
 * NameTableClient} keeps current through the agent's xDS proxy. Every client of this server is the
 * workload, so every query is answered from the same table, with search forms relative to the
 * workload's namespace. Until the first table arrives, mesh names under {@code svc.DOMAIN} are NXDOMAIN
 * and other names are forwarded; when the control plane is unreachable, the last table keeps answering.
 */
public final class AgentDns implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AgentDns.class.getName());
  /** A name table of a large mesh is a few MB; gRPC's default limit is 4 MiB. */
  private static final int MAX_TABLE_BYTES = 64 << 20;

  private final DnsServer server;
  private final NameTableClient client;
  private final ScheduledExecutorService sync;
  private final AtomicReference<MeshNames> names;
  private final java.util.concurrent.atomic.AtomicLong tableBytes;

  private AgentDns(DnsServer server, NameTableClient client, ScheduledExecutorService sync,
      AtomicReference<MeshNames> names, java.util.concurrent.atomic.AtomicLong tableBytes) {
    this.tableBytes = tableBytes;
    this.server = server;
    this.client = client;
    this.sync = sync;
    this.names = names;
  }

  /**
   * What the agent's DNS needs.
   *
   * @param listen where to answer (UDP and TCP)
   * @param upstreams where other names go; null: the nameservers of {@code resolvConf}
   * @param resolvConf read when {@code upstreams} is null ({@code /etc/resolv.conf})
   * @param namespace the workload's namespace, for short names
   * @param clusterDomain the cluster's DNS domain ({@code cluster.local})
   * @param xdsProxyPort the loopback port of the agent's xDS proxy, where the name table is asked for
   * @param node the workload's node (its id and metadata), as the proxy would otherwise fill it in
   */
  public record Settings(InetSocketAddress listen, List<InetSocketAddress> upstreams, Path resolvConf,
      String namespace, String clusterDomain, int xdsProxyPort, Node node, int queriesPerSecond, int burst) {
    public Settings {
      Objects.requireNonNull(listen, "listen");
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(clusterDomain, "clusterDomain");
      Objects.requireNonNull(node, "node");
    }
  }

  /**
   * Binds the DNS ports and subscribes to the name table.
   *
   * @throws IOException when the address cannot be bound (the message names it and says what to check)
   */
  public static AgentDns start(Settings s) throws IOException {
    List<InetSocketAddress> upstreams = s.upstreams();
    if (upstreams == null) {
      Path file = s.resolvConf() == null ? Path.of("/etc/resolv.conf") : s.resolvConf();
      try {
        upstreams = ResolvConf.nameservers(file);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot read " + file + " (" + e.getMessage()
            + "): names outside the mesh will be refused; give --dns-upstream");
        upstreams = List.of();
      }
    }
    AtomicReference<MeshNames> names = new AtomicReference<>(MeshNames.EMPTY);
    DnsServer server = DnsServer.builder().address(s.listen()).names(client -> names.get()).upstreams(upstreams)
        .clusterDomain(s.clusterDomain()).rateLimit(s.queriesPerSecond(), s.burst()).start();
    ScheduledExecutorService sync = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-agent-dns");
      t.setDaemon(true);
      return t;
    });
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.xdsProxyPort()))
        .usePlaintext().maxInboundMessageSize(MAX_TABLE_BYTES).build();
    String namespace = s.namespace();
    java.util.concurrent.atomic.AtomicLong tableBytes = new java.util.concurrent.atomic.AtomicLong();
    NameTableClient client = new NameTableClient(channel, s.node(), table -> {
      names.set(compile(table, namespace));
      tableBytes.set(table.getSerializedSize());
    }, sync);
    client.start();
    return new AgentDns(server, client, sync, names, tableBytes);
  }

  private static MeshNames compile(NameTable table, String namespace) {
    MeshNames m = MeshNames.compile(table, namespace);
    if (!m.skipped().isEmpty()) {
      LOG.log(System.Logger.Level.WARNING, "name table: " + m.skipped().size() + " entries skipped, e.g. "
          + String.join("; ", m.skipped().subList(0, Math.min(3, m.skipped().size()))));
    }
    LOG.log(System.Logger.Level.DEBUG, () -> "name table: " + table.getTableCount() + " hosts, " + m.size() + " names");
    return m;
  }

  /** What the DNS answers from now (the last table accepted; empty before the first). */
  public MeshNames names() {
    return names.get();
  }

  /** The names now, for a resolver that reads them at every resolution. */
  public java.util.function.Supplier<MeshNames> namesSupplier() {
    return names::get;
  }

  public int port() {
    return server.port();
  }

  public InetSocketAddress address() {
    return server.address();
  }

  public DnsServer server() {
    return server;
  }

  /** The size of the last table accepted, as it came over the wire (bytes). */
  public long tableBytes() {
    return tableBytes.get();
  }

  /** Name tables accepted since start. */
  public long tablesAccepted() {
    return client.tablesAccepted();
  }

  @Override
  public void close() {
    client.close();
    sync.shutdownNow();
    server.close();
  }
}
