package weft.dns.server;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

/**
 * Asks the upstream resolvers what the mesh does not know, through dnsjava's resolvers (which retry
 * over TCP when an answer is truncated), and keeps the answers in an {@link AnswerCache}. Identical
 * questions in flight share one upstream query, and at most {@code maxInFlight} questions are in
 * flight: past that a question fails at once instead of queueing without bound.
 */
final class Forwarder {
  private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());
  // A completion only stores the answer and hands bytes to a socket: run it where it completes.
  private static final Executor DIRECT = Runnable::run;

  private final Resolver resolver;
  private final List<InetSocketAddress> upstreams;
  private final AnswerCache cache;
  private final int maxInFlight;
  private final ConcurrentHashMap<AnswerCache.Key, CompletableFuture<Message>> inFlight = new ConcurrentHashMap<>();

  Forwarder(List<InetSocketAddress> upstreams, Duration timeout, int maxInFlight, AnswerCache cache) {
    if (upstreams.isEmpty()) {
      throw new IllegalArgumentException("no upstream resolver");
    }
    List<Resolver> each = new ArrayList<>();
    for (InetSocketAddress a : upstreams) {
      SimpleResolver r = new SimpleResolver(a);
      r.setTimeout(timeout);
      each.add(r);
    }
    ExtendedResolver all = new ExtendedResolver(each);
    all.setTimeout(timeout.multipliedBy(Math.max(2, upstreams.size())));
    all.setRetries(2);
    this.resolver = all;
    this.upstreams = List.copyOf(upstreams);
    this.cache = cache;
    this.maxInFlight = maxInFlight;
  }

  List<InetSocketAddress> upstreams() {
    return upstreams;
  }

  /** The cached answer to {@code key}, or null. */
  Message cached(AnswerCache.Key key) {
    return cache.get(key);
  }

  /**
   * The upstream answer to {@code key} (sections and rcode; header and question are the caller's),
   * completing exceptionally when no upstream answers in time or too many questions are in flight.
   */
  CompletableFuture<Message> resolve(AnswerCache.Key key) {
    CompletableFuture<Message> mine = new CompletableFuture<>();
    if (inFlight.size() >= maxInFlight) {
      CompletableFuture<Message> shared = inFlight.get(key);
      return shared != null ? shared : CompletableFuture.failedFuture(
          new IllegalStateException(maxInFlight + " upstream queries in flight already"));
    }
    CompletableFuture<Message> shared = inFlight.putIfAbsent(key, mine);
    if (shared != null) {
      return shared;
    }
    Message query = Message.newQuery(Record.newRecord(key.name(), key.type(), key.dclass()));
    query.getHeader().setFlag(Flags.RD);
    try {
      resolver.sendAsync(query, DIRECT).whenComplete((response, error) -> {
        inFlight.remove(key, mine);
        if (error != null) {
          LOG.log(System.Logger.Level.DEBUG, () -> "upstream query for " + key.name() + " failed: " + error);
          mine.completeExceptionally(error);
          return;
        }
        cache.put(key, response);
        mine.complete(response);
      });
    } catch (RuntimeException e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(e);
    }
    return mine;
  }
}
