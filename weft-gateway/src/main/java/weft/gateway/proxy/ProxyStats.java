package weft.gateway.proxy;

import java.util.concurrent.atomic.AtomicLong;

/** Connection counters for /stats. */
public final class ProxyStats {
  private final AtomicLong active = new AtomicLong();
  private final AtomicLong total = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  void opened() {
    active.incrementAndGet();
    total.incrementAndGet();
  }

  void closed() {
    active.decrementAndGet();
  }

  void refused() {
    refused.incrementAndGet();
  }

  public long active() {
    return active.get();
  }

  public long total() {
    return total.get();
  }

  /** Connections closed because of no SNI, an unknown SNI, no endpoint, or no endpoint reachable. */
  public long refusedCount() {
    return refused.get();
  }
}
