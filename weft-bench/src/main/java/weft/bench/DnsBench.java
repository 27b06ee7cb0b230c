package weft.bench;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsTransport;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.dns.nds.NameTable;
import weft.dns.server.DnsServer;
import weft.dns.server.MeshNames;
import weft.security.ca.Pem;

/**
 * DNS answers per second from the agent ({@code weft agent --dns-port}): a control plane (in this
 * JVM) with N services in one cluster, an agent whose name table comes from it over xDS, and C
 * client threads on UDP, each keeping W queries in flight, for S seconds per phase:
 * <ol>
 *   <li>mesh names: A queries for random services' full names, answered from the table;</li>
 *   <li>forwarded names: A queries for M names outside the mesh, owned by a stub upstream resolver
 *       on loopback; every name is asked once first, so the phase measures the agent's answer cache
 *       (the upstream's query count before and after shows how many misses there were).</li>
 * </ol>
 * It reports answers per second, their latency (p50, p99), queries without an answer, and the name
 * table's size on the wire and in names. The clients share the machine's cores with the agent: the
 * figure is what one machine does, clients included.
 */
public final class DnsBench {
  private static final String NAMESPACE = "bench";

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args, Set.of(), Set.of("--services", "--seconds", "--clients", "--window",
        "--forwarded-names"));
    int services = o.integer("--services", 10_000);
    int seconds = o.integer("--seconds", 10);
    int clients = o.integer("--clients", 2);
    int window = o.integer("--window", 16);
    int forwarded = o.integer("--forwarded-names", 100);
    if (services < 1 || services > MeshFiles.MAX_SERVICES || seconds < 1 || clients < 1 || clients > 64
        || window < 1 || window > 1024 || forwarded < 1 || forwarded > 10_000) {
      throw new IllegalArgumentException("out of range: --services 1.." + MeshFiles.MAX_SERVICES
          + ", --seconds >= 1, --clients 1..64, --window 1..1024, --forwarded-names 1..10000");
    }
    System.out.println(Machine.describe("in the harness's JVM"));
    System.out.printf("dns: %d services, %d client threads × %d queries in flight, %d s per phase%n",
        services, clients, window, seconds);

    try (MeshFiles mesh = new MeshFiles(1, 1, true)) {
      for (int s = 0; s < services; s++) mesh.writeService(s, -1);
      Path configDir = Path.of(mesh.controlPlaneArgs().get(1));
      Path tokens = Files.createTempFile("weft-bench-tokens", ".yaml");
      Files.writeString(tokens, "- {token: t-bench, namespace: " + NAMESPACE + ", serviceAccount: client}\n");
      Path caDir = Files.createTempDirectory("weft-bench-ca");
      Path out = Files.createTempDirectory("weft-bench-agent");
      NameTable outside = outsideNames(forwarded);
      MeshNames outsideNames = MeshNames.compile(outside, "");
      long started = System.nanoTime();
      try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(configDir).withPorts(0, 0)
              .withCa(new ControlPlaneOptions.Ca(caDir, tokens, 0)));
          DnsServer upstream = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
              .names(c -> outsideNames).rateLimit(Integer.MAX_VALUE / 2, Integer.MAX_VALUE / 2).start();
          WeftAgent agent = WeftAgent.startStandalone(AgentOptions.builder()
              .identity(WorkloadIdentity.builder().namespace(NAMESPACE).serviceAccount("client").podName("client-0")
                  .ip("127.0.0.1").clusterId("cluster1").build())
              .caAddress("localhost:" + cp.securePort())
              .rootCertificatePem(Pem.encode(cp.ca().roots()).getBytes(StandardCharsets.US_ASCII))
              .token("t-bench").outputDir(out).startTimeout(Duration.ofSeconds(120))
              .xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
              .dnsPort(0).dnsUpstreams(List.of(upstream.address()))
              // One source (this harness) sends everything: the per-source limit would measure itself.
              .dnsRateLimit(Integer.MAX_VALUE / 2, Integer.MAX_VALUE / 2).build())) {
        var dns = agent.dns().orElseThrow();
        Name last = Name.fromString(MeshFiles.hostname(services - 1) + ".");
        long deadline = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        while (dns.names().lookup(last) == null) {
          if (System.nanoTime() > deadline) throw new IllegalStateException("no name table with every service in 600 s");
          Thread.sleep(50); // polling the agent's state for the bench's own start-up, not a measurement
        }
        System.out.printf("name table: %d services, %,d bytes on the wire, %,d names with search forms; "
            + "start-up to table %.1f s%n", services, dns.tableBytes(), dns.names().size(),
            (System.nanoTime() - started) / 1e9);

        List<byte[]> meshQueries = new ArrayList<>();
        for (int s = 0; s < Math.min(services, 10_000); s++) meshQueries.add(query(MeshFiles.hostname(s) + "."));
        List<byte[]> outsideQueries = new ArrayList<>();
        for (String host : outside.getTableMap().keySet()) outsideQueries.add(query(host + "."));

        run("warm-up (mesh names)", dns.address(), meshQueries, clients, window, Math.min(seconds, 3));
        run("mesh names", dns.address(), meshQueries, clients, window, seconds);
        run("warm-up (forwarded names, fills the cache)", dns.address(), outsideQueries, clients, window,
            Math.min(seconds, 3));
        long before = upstream.queries();
        run("forwarded names, cached", dns.address(), outsideQueries, clients, window, seconds);
        System.out.printf("upstream queries during the cached phase: %d (cache misses)%n", upstream.queries() - before);
      }
    }
  }

  private static NameTable outsideNames(int n) {
    NameTable.Builder t = NameTable.newBuilder();
    for (int i = 0; i < n; i++) {
      t.putTable("host-" + i + ".example.org", NameTable.NameInfo.newBuilder()
          .addIps("192.0.2." + (i % 250 + 1)).build());
    }
    return t.build();
  }

  private static byte[] query(String name) throws IOException {
    return Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)).toWire();
  }

  /** C threads, each with W queries in flight on its own socket, for {@code seconds}; prints the figures. */
  private static void run(String phase, InetSocketAddress server, List<byte[]> queries, int clients, int window,
      int seconds) throws Exception {
    AtomicLong answered = new AtomicLong();
    AtomicLong lost = new AtomicLong();
    List<long[]> latencies = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    for (int c = 0; c < clients; c++) {
      long[] lat = new long[4_000_000];
      latencies.add(lat);
      int seed = c;
      Thread t = new Thread(() -> client(server, queries, window, end, seed, lat, answered, lost), "dns-client-" + c);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    List<Long> all = new ArrayList<>();
    for (long[] lat : latencies) {
      for (long v : lat) {
        if (v == 0) break;
        all.add(v);
      }
    }
    all.sort(null);
    double p50 = all.isEmpty() ? 0 : all.get(all.size() / 2) / 1e3;
    double p99 = all.isEmpty() ? 0 : all.get((int) (all.size() * 0.99)) / 1e3;
    System.out.printf("%s: %,.0f answers/s (%,d in %d s), latency p50 %.0f µs, p99 %.0f µs, %d queries unanswered%n",
        phase, answered.get() / (double) seconds, answered.get(), seconds, p50, p99, lost.get());
  }

  private static void client(InetSocketAddress server, List<byte[]> queries, int window, long end, int seed,
      long[] latencies, AtomicLong answered, AtomicLong lost) {
    java.util.Random random = new java.util.Random(seed);
    long[] sentAt = new long[65536];
    int recorded = 0;
    int nextId = seed << 12;
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(1000);
      s.setReceiveBufferSize(1 << 20);
      int inFlight = 0;
      byte[] in = new byte[1500];
      while (System.nanoTime() < end) {
        while (inFlight < window) {
          byte[] q = queries.get(random.nextInt(queries.size())).clone();
          int id = nextId++ & 0xFFFF;
          q[0] = (byte) (id >> 8);
          q[1] = (byte) id;
          sentAt[id] = System.nanoTime();
          s.send(new DatagramPacket(q, q.length, server));
          inFlight++;
        }
        DatagramPacket p = new DatagramPacket(in, in.length);
        try {
          s.receive(p);
        } catch (SocketTimeoutException e) {
          // Lost on the way (UDP): give its slot back.
          lost.addAndGet(inFlight);
          inFlight = 0;
          continue;
        }
        int id = ((in[0] & 0xFF) << 8) | (in[1] & 0xFF);
        inFlight--;
        answered.incrementAndGet();
        if (recorded < latencies.length) latencies[recorded++] = Math.max(1, System.nanoTime() - sentAt[id]);
      }
      // Drain what is still on its way, without counting it.
      s.setSoTimeout(200);
      while (inFlight-- > 0) {
        try {
          s.receive(new DatagramPacket(in, in.length));
        } catch (SocketTimeoutException e) {
          break;
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
