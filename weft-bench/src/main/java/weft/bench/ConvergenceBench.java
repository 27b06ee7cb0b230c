package weft.bench;

import java.util.Set;

/**
 * The default mode: convergence and memory at scale with proxyless gRPC clients that each call a
 * few services. N services × E endpoints on disk (spread over C file clusters with
 * {@code --clusters}), S ADS streams each watching W services ({@code --watch}), and repeated
 * endpoint changes of one service that every stream watches. See {@link StreamRun} for what it
 * measures; the control plane runs in its own JVM so that its heap and CPU are its own.
 *
 * <p>Issue 12's intermediate target is
 * {@code --clusters 10 --services 10000 --endpoints 10 --streams 2000 --watch 100}.
 */
public final class ConvergenceBench {
  private ConvergenceBench() {}

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args, Set.of(), Scenario.VALUE_OPTIONS);
    StreamRun.run(Scenario.from(o, Scenario.Clients.PROXYLESS));
    // Stream callbacks run on gRPC's threads; nothing is left to wait for.
    System.exit(0);
  }
}
