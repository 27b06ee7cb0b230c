package weft.xds.grpcgen;

import weft.xds.view.PartCache;
import weft.xds.view.PushContext;

/**
 * A cache of endpoint assignments that a caller holds across views (tests, tools). Each host's
 * entries remember the service view and config they were generated from and start over when
 * handed another. The control plane itself keeps its parts in each snapshot's {@link PushContext}.
 */
public final class EndpointCache {
  private final PartCache parts = new PartCache();

  /** The parts this cache holds. */
  public PartCache parts() {
    return parts;
  }
}
