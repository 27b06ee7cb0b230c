package weft.xds.server;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Runs tasks one at a time, in order, on a shared pool: one per connection, so a stream's state
 * needs no locks and its response observer has one writer. A task never blocks (sends respect flow
 * control), so one slow stream holds no pool thread.
 */
final class SerialExecutor implements Executor {
  private final Executor pool;
  /** Told of a task that threw, on this executor: the stream's state can no longer be trusted. */
  private final Consumer<RuntimeException> onFailure;
  private final Queue<Runnable> tasks = new ArrayDeque<>();
  private boolean running;

  SerialExecutor(Executor pool, Consumer<RuntimeException> onFailure) {
    this.pool = pool;
    this.onFailure = onFailure;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (tasks) {
      tasks.add(task);
      if (running) return;
      running = true;
    }
    pool.execute(this::drain);
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (tasks) {
        next = tasks.poll();
        if (next == null) {
          running = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        onFailure.accept(e);
      }
    }
  }
}
