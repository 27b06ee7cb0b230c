package weft.dns.server;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per source address, so that one client's flood costs the others nothing. The map of
 * sources is bounded: past {@code maxSources}, the source heard from least recently is forgotten (it
 * starts again with a full bucket, which costs at most one burst).
 */
final class SourceRateLimiter {
  private final double perNano;
  private final double burst;
  private final int maxSources;
  private final LongSupplier nanos;
  // Guarded by this. Access order: the eldest entry is the source heard from least recently.
  private final LinkedHashMap<InetAddress, Bucket> buckets;

  SourceRateLimiter(int perSecond, int burst, int maxSources, LongSupplier nanos) {
    if (perSecond < 1 || burst < 1 || maxSources < 1) {
      throw new IllegalArgumentException("rate limit: queries per second, burst and sources must be at least 1");
    }
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.maxSources = maxSources;
    this.nanos = nanos;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
        return size() > SourceRateLimiter.this.maxSources;
      }
    };
  }

  /** Whether a query from {@code source} may be answered now (and takes its token). */
  synchronized boolean tryAcquire(InetAddress source) {
    long now = nanos.getAsLong();
    Bucket b = buckets.get(source);
    if (b == null) {
      b = new Bucket();
      b.tokens = burst;
      buckets.put(source, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (now - b.refilled) * perNano);
    }
    b.refilled = now;
    if (b.tokens < 1) {
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  private static final class Bucket {
    double tokens;
    long refilled;
  }

  synchronized int sources() {
    return buckets.size();
  }
}
