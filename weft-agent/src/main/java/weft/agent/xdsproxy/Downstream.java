package weft.agent.xdsproxy;

import io.grpc.Status;

/** The workload's side of one proxied stream: where responses ({@code R}, SotW or Delta) go. */
interface Downstream<R> {
  void send(R response);

  /** Ends the workload's stream with {@code status} (bad input); the agent goes on. */
  void fail(Status status);
}
