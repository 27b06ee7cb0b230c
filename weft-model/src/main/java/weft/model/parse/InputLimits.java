package weft.model.parse;

/**
 * How much input one file, Secret or object may hold. Bounded so that no single input, by mistake
 * or on purpose, can fill the heap or hold a reader thread for long.
 */
public final class InputLimits {
  /**
   * 4 MiB: four times the 1 MiB etcd keeps per object by default (Kubernetes' own ceiling for a
   * ConfigMap or Secret), so any manifest Kubernetes would store fits, with room for comments.
   */
  public static final int MAX_FILE_BYTES = 4 * 1024 * 1024;

  private InputLimits() {}

  /** The limit as people read it, for messages. */
  public static String describe() {
    return "4 MiB (" + MAX_FILE_BYTES + " bytes)";
  }
}
