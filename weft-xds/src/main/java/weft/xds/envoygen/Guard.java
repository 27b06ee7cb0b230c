package weft.xds.envoygen;

import weft.xds.view.ProxyView;

/**
 * One service's (or server's) resources are built inside a guard: a bug triggered by one
 * configuration must cost the proxy that service only, not every listener or cluster it has. The
 * reason shows in {@code /debug/status} like any other drop.
 */
final class Guard {
  private static final System.Logger LOG = System.getLogger(Guard.class.getName());

  private Guard() {}

  static void run(ProxyView view, String subject, Runnable work) {
    try {
      work.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "generating Envoy resources for " + subject + " for "
          + view.proxy().id() + " failed", e);
      view.drop(subject, "internal error while generating its resources: " + e);
    }
  }
}
