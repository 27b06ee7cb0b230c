package weft.registry.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.registry.kube.TcpProxy;

/**
 * Two instances contend for one Lease on fabric8's CRUD-mode API server, which enforces
 * {@code resourceVersion}, so their writes really race. Each reaches the server through its own
 * proxy, so one can be cut off alone.
 */
class LeaseLeadershipTest {
  /** Short, so that the test runs in seconds; their ratios are Istio's. */
  static final LeaseTimings TIMINGS =
      new LeaseTimings(Duration.ofSeconds(3), Duration.ofMillis(1500), Duration.ofMillis(750));
  static final String NS = "istio-system";
  /** Held strongly: java.util.logging keeps loggers weakly, and the setting would be lost with it. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING); // it logs every request at INFO
  }

  KubernetesMockServer server;
  NamespacedKubernetesClient admin;
  TcpProxy proxyA;
  TcpProxy proxyB;
  LeaseLeadership a;
  LeaseLeadership b;

  @BeforeEach
  void start() throws Exception {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    admin = server.createClient();
    proxyA = new TcpProxy(server.getPort());
    proxyB = new TcpProxy(server.getPort());
    a = LeaseLeadership.start(config(proxyA), NS, "weft-leader", "cp-a", TIMINGS);
    b = LeaseLeadership.start(config(proxyB), NS, "weft-leader", "cp-b", TIMINGS);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {a, b, proxyA, proxyB, admin}) {
      if (c != null) c.close();
    }
    server.destroy();
  }

  static Config config(TcpProxy proxy) {
    return new ConfigBuilder(Config.empty()).withAutoConfigure(false).withMasterUrl(proxy.url()).build();
  }

  Lease lease() {
    return admin.leases().inNamespace(NS).withName("weft-leader").get();
  }

  /** Waits until one of the two leads and returns it. */
  LeaseLeadership awaitLeader() {
    await().atMost(Duration.ofSeconds(30)).until(() -> a.isLeader() || b.isLeader());
    return a.isLeader() ? a : b;
  }

  @Test
  void exactlyOneOfTwoInstancesLeadsAndBothNameItAsTheHolder() {
    AtomicBoolean both = new AtomicBoolean();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        if (a.isLeader() && b.isLeader()) both.set(true);
        Thread.onSpinWait();
      }
    });
    sampler.start();
    try {
      LeaseLeadership leader = awaitLeader();
      LeaseLeadership follower = leader == a ? b : a;
      // Several renewals, each a resourceVersion-checked write the follower's reads race with.
      String first = lease().getSpec().getRenewTime().toString();
      await().atMost(Duration.ofSeconds(30)).until(() -> !lease().getSpec().getRenewTime().toString().equals(first));
      String second = lease().getSpec().getRenewTime().toString();
      await().atMost(Duration.ofSeconds(30)).until(() -> !lease().getSpec().getRenewTime().toString().equals(second));
      assertThat(follower.isLeader()).isFalse();
      assertThat(lease().getSpec().getHolderIdentity()).isEqualTo(leader.identity());
      await().atMost(Duration.ofSeconds(30)).until(() -> leader.identity().equals(follower.status().holder()));
      assertThat(leader.status()).satisfies(s -> {
        assertThat(s.leader()).isTrue();
        assertThat(s.identity()).isEqualTo(s.holder());
        assertThat(s.holderSince()).isNotNull();
        assertThat(s.lease()).isEqualTo(NS + "/weft-leader");
      });
      assertThat(follower.status().leader()).isFalse();
    } finally {
      sampling.set(false);
    }
    assertThat(both).as("both instances led at one moment").isFalse();
  }

  @Test
  void closingTheLeaderHandsOverWithinLeaseDurationPlusRetryPeriod() throws Exception {
    LeaseLeadership leader = awaitLeader();
    LeaseLeadership follower = leader == a ? b : a;
    List<Boolean> told = new CopyOnWriteArrayList<>();
    leader.addListener(told::add);
    await().atMost(Duration.ofSeconds(60)).until(() -> told.equals(List.of(true)));

    long closed = System.nanoTime();
    leader.close();
    assertThat(leader.isLeader()).isFalse();
    assertThat(told).containsExactly(true, false);
    // It gave the lease up rather than leaving it to expire: fabric8's release ends it a second after
    // closing (its empty holder is dropped by the merge patch, so the name may stay).
    assertThat(lease().getSpec().getLeaseDurationSeconds()).isEqualTo(1);
    await().atMost(TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod())).until(follower::isLeader);
    Duration handover = Duration.ofNanos(System.nanoTime() - closed);
    System.out.println("measured: close -> new leader in " + handover.toMillis() + " ms (bound "
        + TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod()).toMillis() + " ms)");
    assertThat(handover).isLessThanOrEqualTo(TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod()));
    assertThat(lease().getSpec().getHolderIdentity()).isEqualTo(follower.identity());
  }

  @Test
  void aPartitionedLeaderStopsWritingBeforeItsRenewDeadlineAndTheOtherTakesOverAfterIt() throws Exception {
    LeaseLeadership leader = awaitLeader();
    LeaseLeadership follower = leader == a ? b : a;
    TcpProxy leadersLink = leader == a ? proxyA : proxyB;
    // The leader's status writer: writes while isLeader() says so (through a connection the cut spares,
    // so that a write made too late would land and be seen).
    AtomicLong lastWrite = new AtomicLong();
    AtomicLong writes = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer = new Thread(() -> {
      while (writing.get()) {
        if (leader.isLeader()) {
          admin.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("status")
              .endMetadata().addToData("n", Long.toString(writes.incrementAndGet())).build()).createOr(r -> r.update());
          lastWrite.set(System.nanoTime());
        }
        Thread.onSpinWait();
      }
    });
    AtomicLong toldLost = new AtomicLong();
    leader.addListener(leads -> {
      if (!leads) toldLost.compareAndSet(0, System.nanoTime());
    });
    writer.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> writes.get() > 3);

      long cut = System.nanoTime();
      leadersLink.cut();
      await().atMost(TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod()).plusSeconds(5)).until(follower::isLeader);
      long tookOver = System.nanoTime();

      System.out.println("measured: cut -> last write " + Duration.ofNanos(lastWrite.get() - cut).toMillis()
          + " ms (bound " + TIMINGS.renewDeadline().toMillis() + " ms), cut -> new leader "
          + Duration.ofNanos(tookOver - cut).toMillis() + " ms (bound "
          + TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod()).toMillis() + " ms)");
      // The leader stopped on its own clock, before the renew deadline and before anyone else led...
      assertThat(leader.isLeader()).isFalse();
      assertThat(Duration.ofNanos(lastWrite.get() - cut)).isLessThan(TIMINGS.renewDeadline());
      assertThat(lastWrite.get()).isLessThan(tookOver);
      assertThat(toldLost.get()).isNotZero().isLessThan(tookOver);
      // ...and the other took over once the lease had expired, within leaseDuration + retryPeriod.
      assertThat(Duration.ofNanos(tookOver - cut))
          .isLessThanOrEqualTo(TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod()));
      assertThat(lease().getSpec().getHolderIdentity()).isEqualTo(follower.identity());
    } finally {
      writing.set(false);
      writer.join();
    }
    // Back on the network, the old leader sees the new holder and stays a follower.
    leadersLink.restore();
    await().atMost(Duration.ofSeconds(30)).until(() -> follower.identity().equals(leader.status().holder()));
    assertThat(leader.isLeader()).isFalse();
    assertThat(follower.isLeader()).isTrue();
    // It still contends: when the new leader stops, it leads again.
    follower.close();
    await().atMost(TIMINGS.leaseDuration().plus(TIMINGS.retryPeriod())).until(leader::isLeader);
  }

  @Test
  void theApiServerRefusesALeaseWriteBasedOnAStaleReadSoTheContentionIsReal() {
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
    var one = new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock(NS, "probe", "one");
    var two = new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock(NS, "probe", "two");
    one.create(admin, new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord(
        "one", Duration.ofSeconds(3), now, now, 0));
    one.get(admin);
    two.get(admin);
    one.update(admin, new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord(
        "one", Duration.ofSeconds(3), now, now.plusSeconds(1), 0));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> two.update(admin,
        new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord(
            "two", Duration.ofSeconds(3), now, now.plusSeconds(1), 1)))
        .isInstanceOfSatisfying(io.fabric8.kubernetes.client.KubernetesClientException.class,
            e -> assertThat(e.getCode()).isEqualTo(409));
    assertThat(admin.leases().inNamespace(NS).withName("probe").get().getSpec().getHolderIdentity()).isEqualTo("one");
  }

  @Test
  void soleLeadershipLeadsFromTheStartAndTellsListenersSo() {
    Leadership sole = Leadership.sole("cp-files", java.time.Instant.EPOCH);
    List<Boolean> told = new CopyOnWriteArrayList<>();
    sole.addListener(told::add);
    assertThat(sole.isLeader()).isTrue();
    assertThat(told).containsExactly(true);
    assertThat(sole.status().holder()).isEqualTo("cp-files");
    assertThat(sole.status().lease()).isNull();
  }

  @Test
  void timingsThatCouldLetTwoInstancesWriteAtOnceAreRefusedNamingTheFlags() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LeaseTimings(Duration.ofSeconds(10),
        Duration.ofSeconds(10), Duration.ofSeconds(2))).hasMessageContaining("--leader-renew-deadline (10 s) must "
        + "be shorter than --leader-lease-duration (10 s)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LeaseTimings(Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofSeconds(5))).hasMessageContaining("--leader-retry-period (5 s)");
  }

  @Test
  void defaultIdentityIsTheHostNameWithAUniqueSuffix() {
    String one = LeaseLeadership.defaultIdentity();
    String two = LeaseLeadership.defaultIdentity();
    assertThat(one).isNotEqualTo(two).matches("[A-Za-z0-9.-]+-[0-9a-f]{10}");
    assertThat(one.substring(0, one.lastIndexOf('-'))).isEqualTo(two.substring(0, two.lastIndexOf('-')));
  }
}
