package weft.xds.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs of resource names seen in requests, each kept once with its interned names. A full-mesh
 * sidecar repeats all of a type's names in every request; a thousand sidecars of one mesh send the
 * same run, byte for byte, thousands of times per minute. A request whose run is held here costs
 * one comparison of its bytes (vectorised) and allocates nothing, and the streams that sent it hold
 * the same names array, so their next ACK is recognised by identity.
 *
 * <p>Bounded by the bytes it holds; the run used least recently goes first. Runs are looked up by
 * a sample of their bytes (length, count and a few slices); every candidate is compared in full,
 * so a sample that two runs share costs a comparison, never a wrong answer.
 */
final class NameRuns {
  /** Shorter runs are interned name by name: cheap, and not worth a slot here. */
  static final int SHARED_FROM_BYTES = 512;
  static final NameRuns SHARED = new NameRuns(32L << 20);

  private final long maxBytes;
  private final LinkedHashMap<Long, List<Run>> bySample = new LinkedHashMap<>(64, 0.75f, true);
  private long heldBytes;

  NameRuns(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  private record Run(byte[] bytes, SotwRequest.WireName[] names) {}

  /**
   * The interned names of the run {@code wire[from, to)} holding {@code count} names (their places
   * in {@code scratch}); the array is shared by every request with this run and must not change.
   */
  SotwRequest.WireName[] names(byte[] wire, int from, int to, int count, SotwRequest.Scratch scratch) {
    long sample = sample(wire, from, to, count);
    synchronized (this) {
      List<Run> candidates = bySample.get(sample);
      if (candidates != null) {
        for (Run run : candidates) {
          if (run.names.length == count && Arrays.equals(run.bytes, 0, run.bytes.length, wire, from, to)) {
            return run.names;
          }
        }
      }
    }
    // Not held: intern each name (outside the lock; a concurrent twin only costs a second copy).
    SotwRequest.WireName[] names = new SotwRequest.WireName[count];
    for (int i = 0; i < count; i++) names[i] = SotwRequest.intern(wire, scratch.nameStart(i), scratch.nameLength(i));
    Run run = new Run(Arrays.copyOfRange(wire, from, to), names);
    synchronized (this) {
      bySample.computeIfAbsent(sample, k -> new ArrayList<>(1)).add(run);
      heldBytes += run.bytes.length;
      evictBeyondBound();
    }
    return names;
  }

  private void evictBeyondBound() {
    Iterator<Map.Entry<Long, List<Run>>> oldest = bySample.entrySet().iterator();
    while (heldBytes > maxBytes && oldest.hasNext()) {
      for (Run run : oldest.next().getValue()) heldBytes -= run.bytes.length;
      oldest.remove();
    }
  }

  synchronized long heldBytes() {
    return heldBytes;
  }

  /** Length, count and 16 bytes from each of the start, the middle and the end, mixed. */
  private static long sample(byte[] wire, int from, int to, int count) {
    long h = (to - from) * 0x9e3779b97f4a7c15L + count;
    int length = to - from;
    int[] at = {from, from + length / 2 - 8, to - 16};
    for (int start : at) {
      int lo = Math.max(from, start);
      int hi = Math.min(to, lo + 16);
      for (int i = lo; i < hi; i++) h = (h ^ wire[i]) * 0x100000001b3L;
    }
    return h ^ (h >>> 29);
  }
}
