package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;

/** The workload's side of one proxied stream: where responses go. */
interface Downstream {
  void send(DiscoveryResponse response);

  /** Ends the workload's stream with {@code status} (bad input); the agent goes on. */
  void fail(Status status);
}
