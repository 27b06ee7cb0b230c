package weft.xds.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.lang.ref.WeakReference;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Runs of resource names seen in requests, each kept once as its array of interned names. A
 * full-mesh sidecar repeats all of a type's names in every request; a thousand sidecars of one mesh
 * send the same run, byte for byte, thousands of times per minute. A request whose run is held here
 * costs a comparison of its names (no copy) and allocates nothing, and the streams that sent it
 * hold the same array, so their next ACK is recognised by identity.
 *
 * <p>A run is held weakly: only the streams that listed it keep it alive, so a run no stream holds
 * any more (a proxyless client's own list, a subscription that changed) costs nothing once
 * collected, and the table holds no bytes of its own. Runs are looked up by a sample of their
 * bytes (length, count and a few slices); every candidate is compared name by name, so a sample two
 * runs share costs a comparison, never a wrong answer. At most {@code maxRuns} samples are kept,
 * the one used least recently going first, and at most four runs per sample.
 */
final class NameRuns {
  /** Shorter runs are interned name by name: cheap, and not worth a slot here. */
  static final int SHARED_FROM_BYTES = 512;
  static final NameRuns SHARED = new NameRuns(4096);

  private static final int MAX_PER_SAMPLE = 4;
  private final int maxRuns;
  private final LinkedHashMap<Long, List<WeakReference<SotwRequest.WireName[]>>> bySample =
      new LinkedHashMap<>(64, 0.75f, true);

  NameRuns(int maxRuns) {
    this.maxRuns = maxRuns;
  }

  /**
   * The interned names of the run {@code wire[from, to)} holding {@code count} names (their places
   * in {@code scratch}); the array is shared by every request with this run and must not change.
   */
  SotwRequest.WireName[] names(byte[] wire, int from, int to, int count, SotwRequest.Scratch scratch) {
    long sample = sample(wire, from, to, count);
    synchronized (this) {
      List<WeakReference<SotwRequest.WireName[]>> candidates = bySample.get(sample);
      if (candidates != null) {
        for (var it = candidates.iterator(); it.hasNext(); ) {
          SotwRequest.WireName[] names = it.next().get();
          if (names == null) {
            it.remove();
          } else if (sameNames(names, wire, count, scratch)) {
            return names;
          }
        }
      }
    }
    // Not held: intern each name (outside the lock; a concurrent twin only costs a second array).
    SotwRequest.WireName[] names = new SotwRequest.WireName[count];
    for (int i = 0; i < count; i++) names[i] = SotwRequest.intern(wire, scratch.nameStart(i), scratch.nameLength(i));
    synchronized (this) {
      List<WeakReference<SotwRequest.WireName[]>> sameSample = bySample.computeIfAbsent(sample, k -> new ArrayList<>(1));
      // Runs that share a sample (a client can make them) are few: the oldest goes first.
      if (sameSample.size() >= MAX_PER_SAMPLE) sameSample.remove(0);
      sameSample.add(new WeakReference<>(names));
      if (bySample.size() > maxRuns) {
        var oldest = bySample.entrySet().iterator();
        oldest.next();
        oldest.remove();
      }
    }
    return names;
  }

  private static boolean sameNames(SotwRequest.WireName[] names, byte[] wire, int count, SotwRequest.Scratch scratch) {
    if (names.length != count) return false;
    for (int i = 0; i < count; i++) {
      int at = scratch.nameStart(i);
      byte[] expected = names[i].bytes;
      if (!Arrays.equals(expected, 0, expected.length, wire, at, at + scratch.nameLength(i))) return false;
    }
    return true;
  }

  /** How many samples are held (tests): at most {@code maxRuns}. */
  synchronized int samples() {
    return bySample.size();
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
