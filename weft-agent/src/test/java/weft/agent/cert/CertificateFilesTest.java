package weft.agent.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.xds.InternalGrpcBootstrapperImpl;
import io.grpc.xds.internal.security.certprovider.CertificateProvider;
import io.grpc.xds.internal.security.certprovider.CertificateProviderStore;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.testing.PairReader;
import weft.agent.testing.TestMesh;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/** The files swap as one: readers of the pair never take a key with the wrong certificate. */
class CertificateFilesTest {
  private static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "default", "frontend");

  @TempDir Path tmp;

  private List<IssuedCertificate> issue(int n) {
    CertificateAuthority ca = CaStore.loadOrCreate(tmp.resolve("ca"), "cluster.local", Clock.systemUTC());
    List<IssuedCertificate> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      KeyPair keys = CertificateRequests.newKeyPair();
      List<X509Certificate> chain = ca.issueWorkload(keys.getPublic(), FRONTEND, Duration.ofHours(1));
      out.add(new IssuedCertificate(keys.getPrivate(), chain.subList(0, chain.size() - 1), ca.roots()));
    }
    return out;
  }

  @Test
  void visibleNamesAreLinksIntoOneGenerationAndOnlyTwoGenerationsAreKept() throws Exception {
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"));
    for (IssuedCertificate c : issue(4)) {
      files.install(c);
    }
    Path dir = tmp.resolve("certs");
    for (String name : List.of("cert-chain.pem", "key.pem", "root-cert.pem")) {
      assertThat(Files.isSymbolicLink(dir.resolve(name))).isTrue();
      assertThat(Files.readSymbolicLink(dir.resolve(name))).isEqualTo(Path.of("..data", name));
    }
    assertThat(Files.readSymbolicLink(dir.resolve("..data"))).isEqualTo(Path.of("..gen-00000004"));
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
          "..data", "..gen-00000003", "..gen-00000004", "cert-chain.pem", "key.pem", "root-cert.pem");
    }
    assertThat(Files.getPosixFilePermissions(dir.resolve("key.pem"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(dir.resolve("cert-chain.pem")))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));

    // A restarted agent continues the numbering and replaces plain files left by someone else.
    Files.delete(dir.resolve("root-cert.pem"));
    Files.writeString(dir.resolve("root-cert.pem"), "stale");
    CertificateFiles again = new CertificateFiles(dir);
    IssuedCertificate next = issue(1).get(0);
    again.install(next);
    assertThat(Files.readSymbolicLink(dir.resolve("..data"))).isEqualTo(Path.of("..gen-00000005"));
    assertThat(Files.isSymbolicLink(dir.resolve("root-cert.pem"))).isTrue();
    assertThat(Pem.readCertificates(dir.resolve("cert-chain.pem")).get(0)).isEqualTo(next.leaf());
  }

  @Test
  void eachGenerationLooksNewerThanTheLastEvenWithinOneClockTick() throws Exception {
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"));
    Path dir = tmp.resolve("certs");
    List<IssuedCertificate> certs = issue(3);
    files.install(certs.get(0));
    // As if the clock had stepped back: every visible file dated in the future.
    var future = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 3_600_000);
    for (String name : List.of("cert-chain.pem", "key.pem", "root-cert.pem")) {
      Files.setLastModifiedTime(dir.resolve(name), future);
    }
    files.install(certs.get(1));
    for (String name : List.of("cert-chain.pem", "key.pem", "root-cert.pem")) {
      assertThat(Files.getLastModifiedTime(dir.resolve(name))).isGreaterThan(future);
    }
  }

  @Test
  void aReaderThatStraddlesASwapAtAnyStepDiscardsThePairOrTakesAMatchingOne() throws Exception {
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"));
    Path dir = tmp.resolve("certs");
    Path cert = dir.resolve(CertificateFiles.CERT_CHAIN);
    Path key = dir.resolve(CertificateFiles.PRIVATE_KEY);
    List<IssuedCertificate> certs = issue(1 + 3 * PairReader.Step.values().length);
    files.install(certs.get(0));
    // grpc-java's reader takes six steps; a swap (or two) lands between any two of them. Each
    // install here may fall in one file-clock tick: nothing may depend on the clock moving.
    int next = 1;
    for (PairReader.Step at : PairReader.Step.values()) {
      for (int swaps = 1; swaps <= 2; swaps++) {
        int swapsLeft = swaps;
        int from = next;
        PairReader.Attempt attempt = PairReader.attempt(cert, key, null, null, step -> {
          if (step == at) {
            for (int i = 0; i < swapsLeft; i++) files.install(certs.get(from + i));
          }
        });
        next += swaps;
        if (at == PairReader.Step.AFTER_SECOND_KEY_TIME) {
          // The read was over before the swap: the pair is whole and taken.
          assertThat(attempt.taken()).isNotNull();
          assertThat(IssuedCertificate.keyMatches(attempt.takenKey(), attempt.taken())).isTrue();
        } else {
          // The swap fell inside the read: the changed times give it away, whatever was read.
          assertThat(attempt.taken()).as("pair read across %d swap(s) after %s", swaps, at).isNull();
        }
      }
    }
  }

  @Test
  void readersNeverTakeAKeyWithAnotherCertificateWhileFilesSwap() throws Exception {
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"));
    Path dir = tmp.resolve("certs");
    List<IssuedCertificate> certs = issue(60);
    files.install(certs.get(0));

    List<PairReader> readers = List.of(new PairReader(dir), new PairReader(dir), new PairReader(dir));
    AtomicInteger generationReads = new AtomicInteger();
    AtomicInteger generationMismatches = new AtomicInteger();
    AtomicReference<Throwable> generationFailure = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    // A reader that resolves ..data once and reads both files from that generation (kubelet style).
    Thread generationReader = new Thread(() -> {
      while (!stop.get()) {
        try {
          Path gen = dir.resolve("..data").toRealPath();
          X509Certificate leaf = Pem.readCertificates(gen.resolve("cert-chain.pem")).get(0);
          PrivateKey key = Pem.readPrivateKey(gen.resolve("key.pem"));
          generationReads.incrementAndGet();
          if (!IssuedCertificate.keyMatches(key, leaf)) {
            generationMismatches.incrementAndGet();
          }
        } catch (RuntimeException | java.io.IOException e) {
          // a generation two swaps old may be gone between resolving and reading: a retry, not a mismatch
          if (!(e instanceof java.nio.file.NoSuchFileException) && !String.valueOf(e.getMessage()).contains("does not exist")) {
            generationFailure.compareAndSet(null, e);
            return;
          }
        }
      }
    });
    List<Thread> threads = new ArrayList<>();
    readers.forEach(r -> threads.add(new Thread(r)));
    threads.add(generationReader);
    threads.forEach(Thread::start);
    try {
      for (IssuedCertificate c : certs.subList(1, certs.size())) {
        // Pace the swaps by the readers, not by the clock: each reader starts at least one more
        // read before the next swap, so reads and swaps keep overlapping however busy the machine.
        List<Integer> before = readers.stream().map(r -> r.rounds.get()).toList();
        int generationBefore = generationReads.get();
        files.install(c);
        await().atMost(Duration.ofSeconds(60)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).until(() -> {
          for (int i = 0; i < readers.size(); i++) {
            if (readers.get(i).rounds.get() <= before.get(i) && readers.get(i).failure.get() == null) return false;
          }
          return generationReads.get() > generationBefore || generationFailure.get() != null;
        });
      }
      // With the swaps over, every reader ends on the last pair: it must see that both files changed.
      IssuedCertificate last = certs.get(certs.size() - 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> readers.stream()
          .allMatch(r -> r.failure.get() != null || last.leaf().equals(r.last)));
    } finally {
      readers.forEach(PairReader::stop);
      stop.set(true);
      for (Thread t : threads) {
        t.join(60_000);
      }
    }
    for (PairReader r : readers) {
      assertThat(r.failure.get()).isNull();
      assertThat(r.mismatched.get()).as("pairs taken with a key of another certificate").isZero();
      assertThat(r.accepted.get()).isPositive();
      assertThat(r.last).isEqualTo(certs.get(certs.size() - 1).leaf());
    }
    assertThat(generationFailure.get()).isNull();
    assertThat(generationMismatches.get()).isZero();
    assertThat(generationReads.get()).isGreaterThanOrEqualTo(certs.size() - 1);
  }

  @Test
  void grpcJavasFileWatcherReadsEachRotatedPairFromTheBootstrapConfig() throws Exception {
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"));
    List<IssuedCertificate> certs = issue(3);
    files.install(certs.get(0));
    XdsBootstrap bootstrap = XdsBootstrap.builder().xdsServer("localhost:15010", XdsTransport.PLAINTEXT)
        .identity(TestMesh.frontend())
        .certificateFiles(files.certificateChainFile(), files.privateKeyFile(), files.rootCertificateFile())
        .refreshInterval(Duration.ofSeconds(1)).build();
    // grpc-java's own parser and its own file_watcher plugin, fed the config exactly as bootstrapped.
    var info = InternalGrpcBootstrapperImpl.parseBootstrap(bootstrap.toMap()).certProviders().get("default");
    assertThat(info.pluginName()).isEqualTo("file_watcher");

    List<X509Certificate> delivered = new CopyOnWriteArrayList<>();
    List<String> problems = new CopyOnWriteArrayList<>();
    List<List<X509Certificate>> rootsDelivered = new CopyOnWriteArrayList<>();
    CertificateProvider.Watcher watcher = new CertificateProvider.Watcher() {
      @Override
      public void updateCertificate(PrivateKey key, List<X509Certificate> chain) {
        if (!IssuedCertificate.keyMatches(key, chain.get(0))) {
          problems.add("mismatched pair for " + chain.get(0).getSerialNumber());
        }
        delivered.add(chain.get(0));
      }

      @Override
      public void updateTrustedRoots(List<X509Certificate> roots) {
        rootsDelivered.add(roots);
      }

      @Override
      public void updateSpiffeTrustMap(Map<String, List<X509Certificate>> map) {}

      @Override
      public void onError(Status status) {
        problems.add(status.toString());
      }
    };
    Closeable handle = CertificateProviderStore.getInstance()
        .createOrGetProvider("weft-test-" + System.nanoTime(), info.pluginName(), info.config(), watcher, true);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> delivered.contains(certs.get(0).leaf()));
      assertThat(rootsDelivered).isNotEmpty();
      assertThat(rootsDelivered.get(0)).containsExactlyElementsOf(certs.get(0).roots());
      for (IssuedCertificate c : certs.subList(1, certs.size())) {
        files.install(c);
        await().atMost(Duration.ofSeconds(60)).until(() -> delivered.contains(c.leaf()));
      }
      assertThat(problems).isEmpty();
    } finally {
      handle.close();
    }
  }

  @Test
  void rotationAgainstTheCaKeepsReadersConsistent() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC());
        CaClient client = new CaClient(mesh.address(), TestMesh.SERVER_NAME, TrustRoots.file(mesh.rootFile),
            TokenSource.literal(TestMesh.FRONTEND_TOKEN), "")) {
      Path dir = tmp.resolve("certs");
      CertificateManager m = CertificateManager.builder(FRONTEND, client, TrustRoots.file(mesh.rootFile),
          new CertificateFiles(dir)).ttl(Duration.ofSeconds(2)).scheduler(scheduler).build();
      m.start();
      IssuedCertificate first = m.awaitFirstCertificate(Duration.ofSeconds(120));
      PairReader reader = new PairReader(dir);
      Thread t = new Thread(reader);
      t.start();
      List<java.math.BigInteger> serials = new CopyOnWriteArrayList<>();
      serials.add(first.leaf().getSerialNumber());
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          m.current().ifPresent(c -> {
            if (!serials.contains(c.leaf().getSerialNumber())) {
              serials.add(c.leaf().getSerialNumber());
            }
          });
          return serials.size() >= 4;
        });
      } finally {
        reader.stop();
        t.join(5_000);
        m.close();
      }
      assertThat(reader.failure.get()).isNull();
      assertThat(reader.mismatched.get()).isZero();
      assertThat(reader.accepted.get()).isGreaterThanOrEqualTo(3);
    } finally {
      scheduler.shutdownNow();
    }
  }
}
