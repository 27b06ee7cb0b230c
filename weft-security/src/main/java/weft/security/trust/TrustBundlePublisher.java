package weft.security.trust;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import weft.security.api.trust.TrustBundleServiceGrpc;
import weft.security.api.trust.TrustBundleSet;
import weft.security.api.trust.RootCertificates;
import weft.security.api.trust.WatchTrustBundlesRequest;

/**
 * {@code weft.security.v1.TrustBundleService/WatchTrustBundles} on the secure port: each agent holds one
 * stream and gets the mesh's per-trust-domain roots ({@link TrustBundles}, federated peers' included)
 * at once and again whenever they change. That is how a peer's rotated root reaches proxyless workloads
 * (their gRFC A87 bundle map, which the agent writes) without a restart.
 *
 * <p>A watcher that does not read gets no queue: only the newest set is kept for it and sent when its
 * transport is ready again, so a stuck agent costs one message of memory. Thread-safety: {@link
 * #publish} may be called from any thread; each watcher's sends are serialised by its own lock.
 */
public final class TrustBundlePublisher extends TrustBundleServiceGrpc.TrustBundleServiceImplBase {
  private static final System.Logger LOG = System.getLogger(TrustBundlePublisher.class.getName());
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
  private volatile TrustBundleSet current;

  /** Sends {@code bundles} to every watcher when they differ from the last set published. */
  public void publish(TrustBundles bundles) {
    TrustBundleSet next = toMessage(bundles.byTrustDomain());
    TrustBundleSet before = current;
    if (before != null && before.getVersion().equals(next.getVersion())) return;
    current = next;
    watchers.forEach(w -> w.offer(next));
  }

  /** The set watchers get now; null before the first {@link #publish}. */
  public TrustBundleSet current() {
    return current;
  }

  /** How many agents watch now. */
  public int watchers() {
    return watchers.size();
  }

  @Override
  public void watchTrustBundles(WatchTrustBundlesRequest request, StreamObserver<TrustBundleSet> responses) {
    ServerCallStreamObserver<TrustBundleSet> out = (ServerCallStreamObserver<TrustBundleSet>) responses;
    Watcher w = new Watcher(out);
    out.setOnCancelHandler(() -> watchers.remove(w));
    out.setOnReadyHandler(w::drain);
    watchers.add(w);
    TrustBundleSet now = current;
    if (now != null) w.offer(now);
  }

  /** The message for a map of trust domain to roots; its version is a digest of the content. */
  static TrustBundleSet toMessage(Map<String, List<X509Certificate>> byDomain) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
    TrustBundleSet.Builder b = TrustBundleSet.newBuilder();
    // Sorted, so equal content gives an equal digest whatever order the map was built in.
    for (Map.Entry<String, List<X509Certificate>> e : new TreeMap<>(byDomain).entrySet()) {
      RootCertificates.Builder roots = RootCertificates.newBuilder();
      digest.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      digest.update((byte) 0);
      for (X509Certificate c : e.getValue()) {
        byte[] der;
        try {
          der = c.getEncoded();
        } catch (CertificateEncodingException ex) {
          throw new IllegalArgumentException("root of " + e.getKey() + " cannot be encoded", ex);
        }
        digest.update(der);
        roots.addCertificates(ByteString.copyFrom(der));
      }
      digest.update((byte) 1);
      b.putTrustDomains(e.getKey(), roots.build());
    }
    return b.setVersion(HexFormat.of().formatHex(digest.digest(), 0, 12)).build();
  }

  /** One agent's stream: the newest set not yet sent, sent when the transport takes it. */
  private final class Watcher {
    private final ServerCallStreamObserver<TrustBundleSet> out;
    // @GuardedBy("this")
    private TrustBundleSet pending;
    // @GuardedBy("this")
    private boolean done;

    Watcher(ServerCallStreamObserver<TrustBundleSet> out) {
      this.out = out;
    }

    synchronized void offer(TrustBundleSet set) {
      pending = set;
      drain();
    }

    synchronized void drain() {
      if (done || pending == null || !out.isReady()) return;
      if (out.isCancelled()) {
        done = true;
        watchers.remove(this);
        return;
      }
      try {
        out.onNext(pending);
        pending = null;
      } catch (RuntimeException e) {
        // The call was closed under us: this watcher is gone; the others carry on.
        done = true;
        watchers.remove(this);
        LOG.log(System.Logger.Level.DEBUG, "trust bundle watcher gone: " + e.getMessage());
      }
    }
  }
}
