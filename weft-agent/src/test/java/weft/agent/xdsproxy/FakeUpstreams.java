package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Upstream streams a test drives by hand: it sees what the relay sends and answers for the control plane. */
final class FakeUpstreams implements UpstreamDialer {
  final List<FakeStream> opened = new ArrayList<>();

  @Override
  public Stream open(InetSocketAddress address, Events events) {
    FakeStream s = new FakeStream(address, events);
    opened.add(s);
    return s;
  }

  FakeStream last() {
    return opened.get(opened.size() - 1);
  }

  @Override
  public void close() {}

  static final class FakeStream implements Stream {
    final InetSocketAddress address;
    final Events events;
    final List<DiscoveryRequest> requests = new ArrayList<>();
    String cancelled;
    private int nonces;

    FakeStream(InetSocketAddress address, Events events) {
      this.address = address;
      this.events = events;
    }

    @Override
    public void send(DiscoveryRequest request) {
      requests.add(request);
    }

    @Override
    public void cancel(String why) {
      cancelled = why;
    }

    /** Answers as a control plane does: with a nonce of this stream's own. */
    String respond(DiscoveryResponse.Builder r) {
      String nonce = address.getPort() + "-" + (++nonces);
      events.onResponse(r.setNonce(nonce).build());
      return nonce;
    }

    void die() {
      events.onClosed(Status.UNAVAILABLE.withDescription("control plane went away").toString());
    }

    DiscoveryRequest lastRequest() {
      return requests.get(requests.size() - 1);
    }
  }

  /** The workload's side: what reached it and whether it was cut off. */
  static final class Workload implements Downstream {
    final List<DiscoveryResponse> received = new ArrayList<>();
    Status failed;

    @Override
    public void send(DiscoveryResponse response) {
      received.add(response);
    }

    @Override
    public void fail(Status status) {
      failed = status;
    }

    DiscoveryResponse last() {
      return received.get(received.size() - 1);
    }
  }
}
