package weft.bench;

import java.util.concurrent.TimeUnit;

/** One simulated proxy on its own ADS stream, whichever wire and kind. */
interface Client extends ChangeRounds.Watcher {
  /** Waits until the client holds everything it asked for (and has ACKed it). */
  boolean awaitSynced(long timeout, TimeUnit unit) throws InterruptedException;

  /** The first stream or protocol error seen, or null. */
  Throwable error();

  /** What the client still lacks, for a report when it does not sync. */
  String missing();

  void close();
}
