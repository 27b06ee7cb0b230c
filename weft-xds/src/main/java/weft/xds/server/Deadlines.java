package weft.xds.server;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The clock and timer the server's send timeouts run on: injected so that a test moves time itself
 * instead of waiting for a real timeout. Thread-safe.
 */
interface Deadlines {
  long nanoTime();

  /** Runs {@code task} once, no earlier than {@code delayNanos} from now, on the timer's own thread. */
  void after(long delayNanos, Runnable task);

  /** Real time on {@code timer}; once it is shut down, nothing more runs (the server is closing). */
  static Deadlines on(ScheduledThreadPoolExecutor timer) {
    timer.setRemoveOnCancelPolicy(true);
    timer.setRejectedExecutionHandler(new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
    return new Deadlines() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public void after(long delayNanos, Runnable task) {
        timer.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
      }
    };
  }
}
