package weft.agent.cert;

import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import weft.agent.cert.CertificateSigner.SigningException;
import weft.security.SpiffeId;

/**
 * Keeps the workload's certificate: a new key and a certificate request for the workload's own
 * SPIFFE id, signed by the mesh CA, checked, and installed into the certificate-provider files; then
 * again when {@code rotationFraction} of its life has gone (half, by default), so the new one is in
 * place long before the old one expires. Connections the application already has keep the
 * certificate they were made with; new handshakes use the new one as soon as gRPC's file watcher reads
 * it, so no RPC is dropped.
 *
 * <p>A request that fails (CA unreachable, token refused, a chain that does not check out) leaves the
 * installed files as they are and is retried after a growing delay ({@link RetryPolicy}). Attempts run
 * on the given scheduler, one at a time; time is read from the given clock, so tests drive rotation
 * and retries without waiting.
 */
public final class CertificateManager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CertificateManager.class.getName());
  /** Istio's agents renew at half the certificate's life (SECRET_GRACE_PERIOD_RATIO 0.5). */
  public static final double DEFAULT_ROTATION_FRACTION = 0.5;
  // Floor between two successful requests: a CA whose clock runs behind ours would otherwise issue
  // certificates that look due for rotation at once, and be asked again in a tight loop.
  private static final Duration MIN_ROTATION_DELAY = Duration.ofSeconds(1);

  private final SpiffeId id;
  private final CertificateSigner signer;
  private final TrustRoots roots;
  private final CertificateFiles files;
  private final Duration ttl;
  private final double rotationFraction;
  private final RetryPolicy retry;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final DoubleSupplier random;
  private final Consumer<IssuedCertificate> onInstalled;
  private final CompletableFuture<IssuedCertificate> first = new CompletableFuture<>();
  private final ReentrantLock attempting = new ReentrantLock();

  private final Object lock = new Object();
  // @GuardedBy("lock")
  private ScheduledFuture<?> pending;
  // @GuardedBy("lock")
  private Instant nextAttempt;
  // @GuardedBy("lock")
  private boolean closed;

  private volatile IssuedCertificate current;
  private volatile int failures;
  private volatile Exception lastError;

  private CertificateManager(Builder b) {
    this.id = b.id;
    this.signer = b.signer;
    this.roots = b.roots;
    this.files = b.files;
    this.ttl = b.ttl;
    this.rotationFraction = b.rotationFraction;
    this.retry = b.retry;
    this.clock = b.clock;
    this.scheduler = Objects.requireNonNull(b.scheduler, "scheduler");
    this.random = b.random;
    this.onInstalled = b.onInstalled;
  }

  /** The one rule for a rotation fraction, shared with the agent's options. */
  public static double checkRotationFraction(double fraction) {
    if (!(fraction > 0 && fraction < 1)) {
      throw new IllegalArgumentException("rotation fraction must be between 0 and 1 (exclusive), got " + fraction);
    }
    return fraction;
  }

  public static Builder builder(SpiffeId id, CertificateSigner signer, TrustRoots roots, CertificateFiles files) {
    return new Builder(id, signer, roots, files);
  }

  /** Asks for the first certificate now (on the scheduler); rotation follows from there. */
  public void start() {
    schedule(Duration.ZERO);
  }

  /**
   * Waits for the first certificate to be installed.
   *
   * @throws TimeoutException naming the last reason a request failed
   */
  public IssuedCertificate awaitFirstCertificate(Duration timeout) throws InterruptedException, TimeoutException {
    try {
      return first.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("unreachable: the first certificate never completes exceptionally", e);
    } catch (TimeoutException e) {
      Exception last = lastError;
      TimeoutException t = new TimeoutException("no workload certificate for " + id + " after " + timeout
          + (last == null ? " (the CA has not answered yet)" : "; last failure: " + last.getMessage()));
      t.initCause(last);
      throw t;
    }
  }

  /** Asks for a new certificate now instead of at the scheduled time (after a root change, say). */
  public void rotateNow() {
    schedule(Duration.ZERO);
  }

  /**
   * Writes the installed certificate again, with the trust files as they are now (a peer's new roots,
   * say), on the scheduler: the same key and certificate, a new generation, so gRPC's file watcher
   * reads the new bundle map without a new certificate. Nothing happens before the first certificate
   * (its installation writes the trust files anyway). A failed write keeps what was installed.
   */
  public void rewriteTrustFiles() {
    try {
      scheduler.execute(this::rewriteNow);
    } catch (RejectedExecutionException e) {
      LOG.log(System.Logger.Level.DEBUG, "trust files not rewritten: the scheduler is shut down");
    }
  }

  private void rewriteNow() {
    if (!attempting.tryLock()) {
      // A request is running (on another thread of the scheduler): it must not be made to skip its
      // next schedule, so this waits for it instead; its installation may be the older map's.
      try {
        scheduler.schedule(this::rewriteNow, 50, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        LOG.log(System.Logger.Level.DEBUG, "trust files not rewritten: the scheduler is shut down");
      }
      return;
    }
    try {
      synchronized (lock) {
        if (closed) return;
      }
      IssuedCertificate installed = current;
      if (installed == null) return;
      files.install(installed);
      LOG.log(System.Logger.Level.INFO, () -> "trust bundles rewritten in " + files.directory());
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot rewrite the trust bundles in " + files.directory() + ": "
          + e.getMessage() + "; the files installed before stay");
    } finally {
      attempting.unlock();
    }
  }

  /** The certificate installed now, if any. */
  public Optional<IssuedCertificate> current() {
    return Optional.ofNullable(current);
  }

  /** When the next request is due; empty once closed. */
  public Optional<Instant> nextAttempt() {
    synchronized (lock) {
      return closed ? Optional.empty() : Optional.ofNullable(nextAttempt);
    }
  }

  /** Failed requests since the last success. */
  public int consecutiveFailures() {
    return failures;
  }

  /** Why the last request failed, while failures last. */
  public Optional<Exception> lastError() {
    return Optional.ofNullable(lastError);
  }

  public CertificateFiles files() {
    return files;
  }

  /** Stops rotating. The installed files stay: the application may still be serving with them. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (pending != null) {
        pending.cancel(false);
        pending = null;
      }
    }
  }

  private void attempt() {
    if (!attempting.tryLock()) {
      return; // one is running; it schedules the next itself
    }
    try {
      synchronized (lock) {
        if (closed) {
          return;
        }
        pending = null;
      }
      Duration next;
      try {
        IssuedCertificate issued = obtain();
        files.install(issued);
        current = issued;
        failures = 0;
        lastError = null;
        Duration untilRotation = Duration.between(clock.instant(), issued.rotationTime(rotationFraction));
        next = untilRotation.compareTo(MIN_ROTATION_DELAY) < 0 ? MIN_ROTATION_DELAY : untilRotation;
        LOG.log(System.Logger.Level.INFO, () -> "installed certificate for " + id + " (serial "
            + issued.leaf().getSerialNumber().toString(16) + ", valid until " + issued.notAfter() + ") in "
            + files.directory() + "; next rotation at " + issued.rotationTime(rotationFraction));
        first.complete(issued);
        if (onInstalled != null) {
          onInstalled.accept(issued);
        }
      } catch (SigningException | IOException | RuntimeException e) {
        int n = ++failures;
        lastError = e;
        next = retry.delayAfter(n, random);
        IssuedCertificate still = current;
        boolean expired = still != null && !clock.instant().isBefore(still.notAfter());
        LOG.log(expired || still == null ? System.Logger.Level.ERROR : System.Logger.Level.WARNING,
            "cannot get a certificate for " + id + " (attempt " + n + "): " + e.getMessage() + "; retrying in "
                + next + (still == null ? "" : expired ? "; the installed certificate has EXPIRED"
                : "; the installed certificate stays, valid until " + still.notAfter()));
      }
      schedule(next);
    } finally {
      attempting.unlock();
    }
  }

  private IssuedCertificate obtain() throws SigningException {
    KeyPair keys = CertificateRequests.newKeyPair();
    List<X509Certificate> sent = signer.sign(CertificateRequests.csr(keys, id), ttl);
    return IssuedCertificate.verify(sent, keys, id, roots.roots(), clock.instant());
  }

  private void schedule(Duration delay) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (pending != null) {
        pending.cancel(false);
      }
      nextAttempt = clock.instant().plus(delay);
      try {
        pending = scheduler.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        pending = null;
        LOG.log(System.Logger.Level.WARNING, "certificate rotation for " + id + " stopped: its scheduler is shut down");
      }
    }
  }

  /** What the manager needs; everything but the four essentials has a default. */
  public static final class Builder {
    private final SpiffeId id;
    private final CertificateSigner signer;
    private final TrustRoots roots;
    private final CertificateFiles files;
    private Duration ttl;
    private double rotationFraction = DEFAULT_ROTATION_FRACTION;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
    private Consumer<IssuedCertificate> onInstalled;

    private Builder(SpiffeId id, CertificateSigner signer, TrustRoots roots, CertificateFiles files) {
      this.id = Objects.requireNonNull(id, "id");
      this.signer = Objects.requireNonNull(signer, "signer");
      this.roots = Objects.requireNonNull(roots, "roots");
      this.files = Objects.requireNonNull(files, "files");
    }

    /** Lifetime to ask the CA for; null (the default) for the CA's own default. */
    public Builder ttl(Duration ttl) {
      this.ttl = ttl;
      return this;
    }

    /** Share of the certificate's life after which a new one is requested, in (0, 1). */
    public Builder rotationFraction(double fraction) {
      this.rotationFraction = checkRotationFraction(fraction);
      return this;
    }

    public Builder retryPolicy(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry);
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    /** Where requests run. Required; the caller owns it (and shuts it down). */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler);
      return this;
    }

    /** Source of the retry jitter, uniform in [0, 1). */
    public Builder random(DoubleSupplier random) {
      this.random = Objects.requireNonNull(random);
      return this;
    }

    /** Called on the scheduler after each certificate is installed. */
    public Builder onInstalled(Consumer<IssuedCertificate> listener) {
      this.onInstalled = listener;
      return this;
    }

    public CertificateManager build() {
      return new CertificateManager(this);
    }
  }
}
