package weft.registry.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * One connection of a cluster source to its API server: an informer per kind, which list and then
 * watch. An attempt is dropped whole when it is in trouble and replaced by a new one, never
 * repaired: the new one lists again, which is what makes deletes missed meanwhile apply.
 *
 * <p>Built, started, checked and closed on its source's thread; {@link #live} and {@link #absent}
 * are also read and written by fabric8's threads.
 */
final class Attempt {
  private static final System.Logger LOG = System.getLogger(Attempt.class.getName());

  /** Where an informer's events go (on fabric8's thread). */
  interface Events {
    void seen(Attempt attempt, WatchedKind kind, GenericKubernetesResource object, boolean deleted);

    /** An informer event of {@code kind}: add, update or delete (counted for Istio's pilot_k8s_*_events). */
    void counted(WatchedKind kind, String event);
  }

  final int number;
  final long startedNanos = System.nanoTime();
  final Map<WatchedKind, SharedIndexInformer<GenericKubernetesResource>> informers = new LinkedHashMap<>();
  /** Istio kinds the API server does not serve (CRD not installed): listed as empty, not watched. */
  final Set<WatchedKind> absent = ConcurrentHashMap.newKeySet();
  /** Set once the listing has been taken; events before that are already in the informers' stores. */
  volatile boolean live;
  long liveSinceNanos;
  /** Since when a live attempt has been in trouble (a watch down), or -1. */
  long troubleSinceNanos = -1;

  private final KubernetesClient client;
  private final List<WatchedKind> kinds;
  private final Events events;
  private volatile Throwable lastError;

  Attempt(int number, KubernetesClient client, List<WatchedKind> kinds, Events events) {
    this.number = number;
    this.client = client;
    this.kinds = kinds;
    this.events = events;
  }

  /** Completes when every kind is listed and watched; fails at the first kind that cannot be. */
  CompletableFuture<Void> start() {
    CompletableFuture<Void> result = new CompletableFuture<>();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (WatchedKind kind : kinds) {
      SharedIndexInformer<GenericKubernetesResource> informer = kind.informer(client);
      informer.addEventHandler(new Handler(kind));
      // Any list or watch failure stops the informer: the source replaces the whole attempt, which
      // also relists (fabric8 alone would resume the watch and could miss deletes).
      informer.exceptionHandler((isStarted, t) -> {
        lastError = t;
        return false;
      });
      informers.put(kind, informer);
      CompletableFuture<Void> f = informer.start().toCompletableFuture();
      if (kind.istio()) {
        f = f.exceptionally(t -> {
          if (!notFound(t)) throw t instanceof CompletionException c ? c : new CompletionException(t);
          absent.add(kind);
          return null;
        });
      }
      f.whenComplete((v, t) -> {
        if (t != null) result.completeExceptionally(t);
      });
      all.add(f);
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenRun(() -> result.complete(null));
    return result;
  }

  /** What is wrong with a live attempt, or null. */
  String trouble() {
    for (Map.Entry<WatchedKind, SharedIndexInformer<GenericKubernetesResource>> e : informers.entrySet()) {
      if (absent.contains(e.getKey())) continue;
      if (!e.getValue().isRunning()) {
        Throwable t = lastError;
        return "the informer for " + e.getKey() + " stopped" + (t == null ? "" : " (" + KubeClusterSource.describe(t)
            + ")");
      }
      if (!watching(e.getValue())) return "the watch of " + e.getKey() + " is down";
    }
    return null;
  }

  /** A stopped informer does not come back on its own; a watch that is down may. */
  boolean anyStopped() {
    for (Map.Entry<WatchedKind, SharedIndexInformer<GenericKubernetesResource>> e : informers.entrySet()) {
      if (!absent.contains(e.getKey()) && !e.getValue().isRunning()) return true;
    }
    return false;
  }

  void close() {
    for (SharedIndexInformer<GenericKubernetesResource> informer : informers.values()) {
      try {
        informer.close();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, this + ": closing an informer failed: " + e);
      }
    }
  }

  /** fabric8 can throw here while an informer is stopping; that is "not watching". */
  private static boolean watching(SharedIndexInformer<GenericKubernetesResource> informer) {
    try {
      return informer.isWatching();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean notFound(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof KubernetesClientException k && k.getCode() == 404;
  }

  @Override
  public String toString() {
    return "attempt " + number + " on " + client.getMasterUrl();
  }

  private final class Handler implements ResourceEventHandler<GenericKubernetesResource> {
    private final WatchedKind kind;

    Handler(WatchedKind kind) {
      this.kind = kind;
    }

    @Override
    public void onAdd(GenericKubernetesResource object) {
      events.counted(kind, "add");
      events.seen(Attempt.this, kind, object, false);
    }

    @Override
    public void onUpdate(GenericKubernetesResource before, GenericKubernetesResource object) {
      events.counted(kind, "update");
      events.seen(Attempt.this, kind, object, false);
    }

    @Override
    public void onDelete(GenericKubernetesResource object, boolean finalStateUnknown) {
      events.counted(kind, "delete");
      events.seen(Attempt.this, kind, object, true);
    }
  }
}
