package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Upstream streams a test drives by hand: it sees what the relay sends and answers for the control plane. */
final class FakeUpstreams implements UpstreamDialer {
  final List<FakeStream> opened = new ArrayList<>();
  final List<FakeDeltaStream> openedDelta = new ArrayList<>();

  @Override
  public Stream<DiscoveryRequest> open(InetSocketAddress address, Events<DiscoveryResponse> events) {
    FakeStream s = new FakeStream(address, events);
    opened.add(s);
    return s;
  }

  @Override
  public Stream<DeltaDiscoveryRequest> openDelta(InetSocketAddress address, Events<DeltaDiscoveryResponse> events) {
    FakeDeltaStream s = new FakeDeltaStream(address, events);
    openedDelta.add(s);
    return s;
  }

  FakeDeltaStream lastDelta() {
    return openedDelta.get(openedDelta.size() - 1);
  }

  FakeStream last() {
    return opened.get(opened.size() - 1);
  }

  @Override
  public void close() {}

  static final class FakeStream implements Stream<DiscoveryRequest> {
    final InetSocketAddress address;
    final Events<DiscoveryResponse> events;
    final List<DiscoveryRequest> requests = new ArrayList<>();
    String cancelled;
    private int nonces;

    FakeStream(InetSocketAddress address, Events<DiscoveryResponse> events) {
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

  /** A Delta stream a test drives by hand. */
  static final class FakeDeltaStream implements Stream<DeltaDiscoveryRequest> {
    final InetSocketAddress address;
    final Events<DeltaDiscoveryResponse> events;
    final List<DeltaDiscoveryRequest> requests = new ArrayList<>();
    String cancelled;
    private int nonces;

    FakeDeltaStream(InetSocketAddress address, Events<DeltaDiscoveryResponse> events) {
      this.address = address;
      this.events = events;
    }

    @Override
    public void send(DeltaDiscoveryRequest request) {
      requests.add(request);
    }

    @Override
    public void cancel(String why) {
      cancelled = why;
    }

    String respond(DeltaDiscoveryResponse.Builder r) {
      String nonce = "d" + address.getPort() + "-" + (++nonces);
      events.onResponse(r.setNonce(nonce).build());
      return nonce;
    }

    void die() {
      events.onClosed(Status.UNAVAILABLE.withDescription("control plane went away").toString());
    }

    DeltaDiscoveryRequest lastRequest() {
      return requests.get(requests.size() - 1);
    }
  }

  /** The workload's Delta side. */
  static final class DeltaWorkload implements Downstream<DeltaDiscoveryResponse> {
    final List<DeltaDiscoveryResponse> received = new ArrayList<>();
    Status failed;

    @Override
    public void send(DeltaDiscoveryResponse response) {
      received.add(response);
    }

    @Override
    public void fail(Status status) {
      failed = status;
    }

    DeltaDiscoveryResponse last() {
      return received.get(received.size() - 1);
    }
  }

  /** The workload's side: what reached it and whether it was cut off. */
  static final class Workload implements Downstream<DiscoveryResponse> {
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
