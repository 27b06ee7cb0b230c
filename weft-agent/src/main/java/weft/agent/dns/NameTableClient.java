package weft.agent.dns;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import weft.agent.cert.RetryPolicy;
import weft.dns.nds.NameTable;
import weft.model.text.ClientText;

/**
 * Subscribes to the workload's name table (Istio's NDS type) over one ADS stream, SotW, wildcard, as
 * Istio's agent does, and hands every accepted table to a consumer. A response that is not a name
 * table is NACKed and the last good table stays in use. When the stream ends, it is opened again after
 * a backoff; the consumer keeps the last table meanwhile (nothing is cleared on a disconnect).
 *
 * <p>The agent points it at its own xDS proxy on loopback, so the upstream side (mutual TLS, failover
 * between control planes, replay, keeping the last config while none answers) is the proxy's.
 *
 * <p>Threads: everything runs on {@code sync}, a serialising scheduler; gRPC's callbacks only hop
 * onto it. Callbacks of a replaced stream carry an old id and are dropped.
 */
public final class NameTableClient implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NameTableClient.class.getName());
  /** Istio's type URL for the name table; its agents ask for it with no resource names. */
  public static final String TYPE_URL = "type.googleapis.com/istio.networking.nds.v1.NameTable";
  /** Reconnect to the local proxy: it is on loopback, so quick, but never a busy loop. */
  private static final RetryPolicy BACKOFF = new RetryPolicy(java.time.Duration.ofMillis(100),
      java.time.Duration.ofSeconds(5), 2, 0.2);

  private final ManagedChannel channel;
  private final Node node;
  private final Consumer<NameTable> onTable;
  private final ScheduledExecutorService sync;

  // Owned by `sync`.
  private ClientCallStreamObserver<DiscoveryRequest> stream;
  private long streamId;
  private int failures;
  private String acceptedVersion = "";
  private ScheduledFuture<?> reconnect;
  private boolean closed;
  private volatile long tablesAccepted;
  private volatile long tablesRejected;

  /**
   * @param channel to the ADS server (the agent's xDS proxy); closed with this client
   * @param node what to say about the workload; DNS_CAPTURE and DNS_AUTO_ALLOCATE are set on it
   */
  public NameTableClient(ManagedChannel channel, Node node, Consumer<NameTable> onTable, ScheduledExecutorService sync) {
    this.channel = Objects.requireNonNull(channel);
    this.node = withDnsMetadata(node);
    this.onTable = Objects.requireNonNull(onTable);
    this.sync = Objects.requireNonNull(sync);
  }

  /** Istio's node metadata for a proxy whose DNS the agent answers: a name table, auto-allocated addresses. */
  static Node withDnsMetadata(Node node) {
    var md = node.getMetadata().toBuilder()
        .putFields(DnsMetadata.DNS_CAPTURE, com.google.protobuf.Value.newBuilder().setStringValue("true").build())
        .putFields(DnsMetadata.DNS_AUTO_ALLOCATE, com.google.protobuf.Value.newBuilder().setStringValue("true").build());
    return node.toBuilder().setMetadata(md).build();
  }

  public void start() {
    run(this::open);
  }

  /** Tables accepted and rejected so far (tests, logs). */
  public long tablesAccepted() {
    return tablesAccepted;
  }

  public long tablesRejected() {
    return tablesRejected;
  }

  private void open() {
    reconnect = null;
    if (closed) {
      return;
    }
    long id = ++streamId;
    ClientCallStreamObserver<DiscoveryRequest>[] holder = newHolder();
    AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(
        new ClientResponseObserver<DiscoveryRequest, DiscoveryResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> requests) {
            holder[0] = requests;
          }

          @Override
          public void onNext(DiscoveryResponse response) {
            run(() -> handle(id, response));
          }

          @Override
          public void onError(Throwable t) {
            run(() -> ended(id, Status.fromThrowable(t).toString()));
          }

          @Override
          public void onCompleted() {
            run(() -> ended(id, "the server ended the stream"));
          }
        });
    stream = holder[0];
    // The version last accepted goes with the first request, as Envoy and gRPC do after a reconnect.
    send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(TYPE_URL).setVersionInfo(acceptedVersion));
  }

  private void handle(long id, DiscoveryResponse r) {
    if (closed || id != streamId) {
      return;
    }
    failures = 0;
    if (!TYPE_URL.equals(r.getTypeUrl())) {
      return; // not ours to answer (a server pushing other types to this stream)
    }
    NameTable table;
    try {
      table = parse(r);
    } catch (IllegalArgumentException e) {
      tablesRejected++;
      LOG.log(System.Logger.Level.WARNING, "rejected name table version " + ClientText.forLog(r.getVersionInfo())
          + ": " + e.getMessage() + "; answering from the last good one");
      send(DiscoveryRequest.newBuilder().setTypeUrl(TYPE_URL).setVersionInfo(acceptedVersion)
          .setResponseNonce(r.getNonce())
          .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE)
              .setMessage(e.getMessage())));
      return;
    }
    try {
      onTable.accept(table);
    } catch (RuntimeException e) {
      tablesRejected++;
      LOG.log(System.Logger.Level.WARNING, "cannot use name table version " + ClientText.forLog(r.getVersionInfo())
          + ": " + e);
      send(DiscoveryRequest.newBuilder().setTypeUrl(TYPE_URL).setVersionInfo(acceptedVersion)
          .setResponseNonce(r.getNonce())
          .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(Code.INTERNAL_VALUE)
              .setMessage("cannot use the name table: " + e.getMessage())));
      return;
    }
    tablesAccepted++;
    acceptedVersion = r.getVersionInfo();
    send(DiscoveryRequest.newBuilder().setTypeUrl(TYPE_URL).setVersionInfo(acceptedVersion)
        .setResponseNonce(r.getNonce()));
  }

  /**
   * The table of a response: Istio sends exactly one; several are merged (the first holding a name
   * wins), none is the empty table (the workload may see no host).
   */
  static NameTable parse(DiscoveryResponse r) {
    if (r.getResourcesCount() == 1) {
      return unpack(r.getResources(0));
    }
    NameTable.Builder merged = NameTable.newBuilder();
    for (Any a : r.getResourcesList()) {
      unpack(a).getTableMap().forEach((k, v) -> {
        if (!merged.containsTable(k)) {
          merged.putTable(k, v);
        }
      });
    }
    return merged.build();
  }

  private static NameTable unpack(Any a) {
    if (!TYPE_URL.equals(a.getTypeUrl())) {
      throw new IllegalArgumentException("a resource of type '" + ClientText.forLog(a.getTypeUrl())
          + "' in a name-table response");
    }
    try {
      return NameTable.parseFrom(a.getValue());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("the name table does not parse: " + e.getMessage());
    }
  }

  private void ended(long id, String why) {
    if (closed || id != streamId) {
      return;
    }
    stream = null;
    failures++;
    long delay = BACKOFF.delayAfter(failures, () -> ThreadLocalRandom.current().nextDouble()).toMillis();
    LOG.log(System.Logger.Level.WARNING, "name-table stream ended (" + ClientText.forLog(why, 512)
        + "); answering DNS from the last table; reconnecting in " + delay + " ms");
    reconnect = sync.schedule(this::open, delay, TimeUnit.MILLISECONDS);
  }

  private void send(DiscoveryRequest.Builder b) {
    if (stream == null) {
      return;
    }
    try {
      stream.onNext(b.build());
    } catch (RuntimeException e) {
      // The stream's own onError reconnects.
      LOG.log(System.Logger.Level.DEBUG, () -> "name-table request not sent: " + e);
    }
  }

  private void run(Runnable r) {
    try {
      sync.execute(r);
    } catch (RejectedExecutionException shutDown) {
      // closing
    }
  }

  @Override
  public void close() {
    try {
      sync.submit(() -> {
        closed = true;
        if (reconnect != null) {
          reconnect.cancel(false);
        }
        if (stream != null) {
          stream.cancel("the agent is closing", null);
          stream = null;
        }
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the scheduler is gone or stuck: the channel's shutdown below ends the stream anyway
    }
    channel.shutdownNow();
  }

  @SuppressWarnings("unchecked")
  private static ClientCallStreamObserver<DiscoveryRequest>[] newHolder() {
    return new ClientCallStreamObserver[1];
  }
}
