package weft.dns.server;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.xbill.DNS.Name;

/**
 * A DNS server for mesh names on one UDP and one TCP socket of the same address. Every query is
 * answered from the {@link MeshNames} its source may see ({@link ClientNames}); names the mesh does not
 * own go to the upstream resolvers, if any. Bounded everywhere: one UDP thread, a fixed number of TCP
 * connections (and per source), an idle timeout on each, a bounded number of upstream questions in
 * flight, a bounded answer cache, and a token bucket per source address (queries over it get nothing).
 *
 * <pre>{@code
 * DnsServer dns = DnsServer.builder()
 *     .address(new InetSocketAddress("127.0.0.1", 15053))
 *     .names(client -> currentNames.get())
 *     .upstreams(ResolvConf.nameservers(Path.of("/etc/resolv.conf")))
 *     .start();
 * }</pre>
 */
public final class DnsServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DnsServer.class.getName());
  /** The UDP payload we read: anything larger is cut by the kernel and then fails to parse. */
  private static final int UDP_RECEIVE_SIZE = 4096;

  private final DatagramChannel udp;
  private final ServerSocket tcp;
  private final QueryHandler handler;
  private final SourceRateLimiter limiter;
  private final ThreadPoolExecutor tcpWorkers;
  private final Thread udpThread;
  private final Thread acceptThread;
  private final Builder config;
  private final List<InetSocketAddress> upstreams;
  private final ConcurrentHashMap<InetAddress, AtomicInteger> connectionsBySource = new ConcurrentHashMap<>();
  private final java.util.Set<Socket> openConnections = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong queries = new AtomicLong();
  private final AtomicLong rateLimited = new AtomicLong();
  private final AtomicLong refusedConnections = new AtomicLong();

  private DnsServer(Builder b, DatagramChannel udp, ServerSocket tcp, List<InetSocketAddress> upstreams) {
    this.config = b;
    this.udp = udp;
    this.tcp = tcp;
    this.upstreams = upstreams;
    Forwarder forwarder = upstreams.isEmpty() ? null : new Forwarder(upstreams, b.upstreamTimeout,
        b.maxUpstreamInFlight, new AnswerCache(b.cacheEntries, b.cacheBytes, b.maxCacheTtl.toSeconds(),
            b.maxNegativeCacheTtl.toSeconds(), b.nanoTime));
    this.handler = new QueryHandler(b.names, forwarder, b.meshZones);
    this.limiter = new SourceRateLimiter(b.queriesPerSecond, b.burst, b.maxSources, b.nanoTime);
    this.tcpWorkers = new ThreadPoolExecutor(0, b.maxTcpConnections, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
        r -> daemon(r, "weft-dns-tcp-" + port()));
    this.udpThread = daemon(this::serveUdp, "weft-dns-udp-" + port());
    this.acceptThread = daemon(this::acceptTcp, "weft-dns-accept-" + port());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The port both sockets listen on. */
  public int port() {
    return tcp.getLocalPort();
  }

  /** The UDP (and TCP) address listened on. */
  public InetSocketAddress address() {
    return new InetSocketAddress(tcp.getInetAddress(), tcp.getLocalPort());
  }

  /** The upstream resolvers in use: those given, less any that is this server itself. */
  public List<InetSocketAddress> upstreams() {
    return upstreams;
  }

  /** Queries received (both transports), and how many were dropped by the per-source rate limit. */
  public long queries() {
    return queries.get();
  }

  public long rateLimited() {
    return rateLimited.get();
  }

  /** TCP connections closed at once because too many were open (in all, or from their source). */
  public long refusedConnections() {
    return refusedConnections.get();
  }

  private void serveUdp() {
    ByteBuffer buffer = ByteBuffer.allocate(UDP_RECEIVE_SIZE);
    while (!closed.get()) {
      InetSocketAddress from;
      try {
        buffer.clear();
        from = (InetSocketAddress) udp.receive(buffer);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        LOG.log(System.Logger.Level.DEBUG, () -> "UDP receive failed: " + e);
        continue;
      }
      if (from == null) {
        continue;
      }
      queries.incrementAndGet();
      if (!limiter.tryAcquire(from.getAddress())) {
        rateLimited.incrementAndGet();
        continue;
      }
      handler.handle(buffer.array(), buffer.position(), from.getAddress(), false).thenAccept(bytes -> {
        if (bytes != null && bytes.length > 0) {
          try {
            udp.send(ByteBuffer.wrap(bytes), from);
          } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot answer " + from + " over UDP: " + e);
          }
        }
      });
    }
  }

  private void acceptTcp() {
    while (!closed.get()) {
      Socket s;
      try {
        s = tcp.accept();
      } catch (IOException e) {
        if (closed.get()) {
          return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "TCP accept failed: " + e);
        continue;
      }
      InetAddress source = s.getInetAddress();
      AtomicInteger open = connectionsBySource.computeIfAbsent(source, k -> new AtomicInteger());
      if (open.incrementAndGet() > config.maxTcpConnectionsPerSource) {
        release(source, open);
        refuse(s);
        continue;
      }
      try {
        tcpWorkers.execute(() -> {
          try {
            serveTcp(s);
          } finally {
            release(source, open);
          }
        });
      } catch (RejectedExecutionException e) {
        release(source, open);
        refuse(s);
      }
    }
  }

  private void release(InetAddress source, AtomicInteger open) {
    if (open.decrementAndGet() <= 0) {
      connectionsBySource.remove(source, open);
    }
  }

  private void refuse(Socket s) {
    refusedConnections.incrementAndGet();
    closeQuietly(s);
  }

  /** RFC 7766: length-prefixed messages, answered in order; closed when idle, on bad framing or when over the limit. */
  private void serveTcp(Socket s) {
    InetAddress source = s.getInetAddress();
    openConnections.add(s);
    try (s) {
      if (closed.get()) {
        return;
      }
      s.setSoTimeout((int) config.tcpIdleTimeout.toMillis());
      s.setTcpNoDelay(true);
      DataInputStream in = new DataInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      byte[] buffer = new byte[QueryHandler.MAX_TCP_SIZE];
      for (int n = 0; n < config.maxQueriesPerConnection && !closed.get(); n++) {
        int length = in.readUnsignedShort();
        in.readFully(buffer, 0, length);
        queries.incrementAndGet();
        if (!limiter.tryAcquire(source)) {
          rateLimited.incrementAndGet();
          return;
        }
        byte[] answer = handler.handle(buffer, length, source, true)
            .get(config.upstreamTimeout.toMillis() * 3 + 1000, TimeUnit.MILLISECONDS);
        if (answer == null || answer.length == 0) {
          return; // nothing to say to this (not a query): the connection goes too
        }
        byte[] framed = new byte[answer.length + 2];
        framed[0] = (byte) (answer.length >>> 8);
        framed[1] = (byte) answer.length;
        System.arraycopy(answer, 0, framed, 2, answer.length);
        out.write(framed);
        out.flush();
      }
    } catch (EOFException | SocketTimeoutException e) {
      // the client is done, or idle past the timeout
    } catch (SocketException e) {
      // reset by the client, or closed by close()
    } catch (IOException | ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "TCP connection from " + source + " ended: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      openConnections.remove(s);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      udp.close();
    } catch (IOException e) {
      // closing
    }
    try {
      tcp.close();
    } catch (IOException e) {
      // closing
    }
    tcpWorkers.shutdownNow();
    // A blocked socket read ignores interrupts: closing the socket ends it.
    openConnections.forEach(DnsServer::closeQuietly);
    try {
      udpThread.join(2000);
      acceptThread.join(2000);
      tcpWorkers.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** The server's settings; {@link #address} and {@link #names} are required. */
  public static final class Builder {
    private InetSocketAddress address;
    private ClientNames names;
    private List<InetSocketAddress> upstreamList = List.of();
    private List<Name> meshZones = zonesFor("cluster.local");
    private int queriesPerSecond = 1000;
    private int burst = 2000;
    private int maxSources = 10_000;
    private Duration upstreamTimeout = Duration.ofSeconds(2);
    private int maxUpstreamInFlight = 256;
    private int cacheEntries = 4096;
    private long cacheBytes = 8L << 20;
    private Duration maxCacheTtl = Duration.ofHours(1);
    private Duration maxNegativeCacheTtl = Duration.ofMinutes(5);
    private int maxTcpConnections = 64;
    private int maxTcpConnectionsPerSource = 16;
    private int maxQueriesPerConnection = 1000;
    private Duration tcpIdleTimeout = Duration.ofSeconds(10);
    private LongSupplier nanoTime = System::nanoTime;

    private Builder() {}

    /** Where to listen, UDP and TCP; port 0 picks a port free for both. */
    public Builder address(InetSocketAddress address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /** The names each client may resolve. */
    public Builder names(ClientNames names) {
      this.names = Objects.requireNonNull(names, "names");
      return this;
    }

    /**
     * Where names the mesh does not own are forwarded (none: such queries are REFUSED). An address
     * that is this server's own is dropped with a warning: forwarding to ourselves would loop.
     */
    public Builder upstreams(List<InetSocketAddress> upstreams) {
      this.upstreamList = List.copyOf(upstreams);
      return this;
    }

    /**
     * The cluster's DNS domain (default {@code cluster.local}): names under {@code svc.DOMAIN} (and
     * under the search form {@code svc}) that the table does not hold are NXDOMAIN, never forwarded.
     */
    public Builder clusterDomain(String domain) {
      this.meshZones = zonesFor(domain);
      return this;
    }

    /** The token bucket of each source address: queries per second and burst (default 1000, 2000). */
    public Builder rateLimit(int queriesPerSecond, int burst) {
      if (queriesPerSecond < 1 || burst < 1) {
        throw new IllegalArgumentException("DNS rate limit must be at least 1 query per second and a burst of 1");
      }
      this.queriesPerSecond = queriesPerSecond;
      this.burst = burst;
      return this;
    }

    /** How long one upstream may take to answer (default 2 s). */
    public Builder upstreamTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("upstream timeout must be positive");
      }
      this.upstreamTimeout = timeout;
      return this;
    }

    /** The cache of upstream answers: entries and bytes (default 4096 and 8 MiB); 0 entries: no cache. */
    public Builder cache(int entries, long bytes) {
      if (entries < 0 || bytes < 0) {
        throw new IllegalArgumentException("cache bounds must not be negative");
      }
      this.cacheEntries = entries;
      this.cacheBytes = bytes;
      return this;
    }

    /** TCP connections at once, in all and from one source (default 64 and 16). */
    public Builder tcpConnections(int max, int perSource) {
      if (max < 1 || perSource < 1) {
        throw new IllegalArgumentException("TCP connection limits must be at least 1");
      }
      this.maxTcpConnections = max;
      this.maxTcpConnectionsPerSource = perSource;
      return this;
    }

    /** How long an idle TCP connection stays open (default 10 s). */
    public Builder tcpIdleTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("TCP idle timeout must be positive");
      }
      this.tcpIdleTimeout = timeout;
      return this;
    }

    /** The clock of the rate limiter and the cache (tests). */
    public Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = Objects.requireNonNull(nanoTime);
      return this;
    }

    /**
     * Binds both sockets and starts answering.
     *
     * @throws IOException when the address cannot be bound (the message names it)
     */
    public DnsServer start() throws IOException {
      Objects.requireNonNull(address, "DnsServer needs an address");
      Objects.requireNonNull(names, "DnsServer needs names");
      IOException last = null;
      // Port 0: UDP picks a port, TCP takes the same; retry when TCP finds it taken.
      for (int attempt = 0; attempt < (address.getPort() == 0 ? 10 : 1); attempt++) {
        DatagramChannel udp = DatagramChannel.open();
        try {
          udp.bind(address);
        } catch (IOException e) {
          udp.close();
          throw bindFailure("UDP", address, e);
        }
        int port = ((InetSocketAddress) udp.getLocalAddress()).getPort();
        ServerSocket tcp = new ServerSocket();
        try {
          tcp.setReuseAddress(true);
          tcp.bind(new InetSocketAddress(address.getAddress(), port), 128);
        } catch (IOException e) {
          udp.close();
          tcp.close();
          last = bindFailure("TCP", new InetSocketAddress(address.getAddress(), port), e);
          continue;
        }
        InetSocketAddress bound = new InetSocketAddress(address.getAddress(), port);
        List<InetSocketAddress> ups = withoutSelf(upstreamList, bound);
        DnsServer server = new DnsServer(this, udp, tcp, ups);
        server.udpThread.start();
        server.acceptThread.start();
        LOG.log(System.Logger.Level.INFO, "DNS on " + bound + " (UDP and TCP), upstream "
            + (ups.isEmpty() ? "none: names outside the mesh are refused" : ups));
        return server;
      }
      throw last;
    }

    private static IOException bindFailure(String transport, InetSocketAddress a, IOException e) {
      String hint = e instanceof BindException && a.getPort() < 1024
          ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" : " (is another DNS server using it?)";
      return new IOException("cannot listen for DNS over " + transport + " on " + a + ": " + e.getMessage() + hint, e);
    }

    /** The upstreams less this server's own address (the same port on its address, loopback or any). */
    private static List<InetSocketAddress> withoutSelf(List<InetSocketAddress> upstreams, InetSocketAddress self) {
      List<InetSocketAddress> kept = new ArrayList<>();
      for (InetSocketAddress u : upstreams) {
        InetAddress a = u.getAddress();
        boolean same = u.getPort() == self.getPort() && a != null && (a.equals(self.getAddress())
            || a.isLoopbackAddress() || a.isAnyLocalAddress() || self.getAddress().isAnyLocalAddress()
            && isLocal(a));
        if (same) {
          LOG.log(System.Logger.Level.WARNING, "DNS upstream " + u + " is this server itself; not forwarding to it");
        } else {
          kept.add(u);
        }
      }
      return List.copyOf(kept);
    }

    private static boolean isLocal(InetAddress a) {
      try {
        return java.net.NetworkInterface.getByInetAddress(a) != null;
      } catch (SocketException e) {
        return false;
      }
    }

    private static List<Name> zonesFor(String domain) {
      Name d = MeshNames.parseName(domain);
      if (d == null) {
        throw new IllegalArgumentException("cluster domain '" + domain + "' is not a DNS name");
      }
      return List.of(Name.fromConstantString("svc." + d), Name.fromConstantString("svc."));
    }
  }
}
