package weft.xds.server;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
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
 * collected, and the table holds no bytes of its own. Runs are looked up by a 64-bit hash of all
 * their bytes; every candidate is compared name by name, so a hash two runs share costs a
 * comparison, never a wrong answer. At most {@code maxRuns} hashes are kept, the one used least
 * recently going first, and at most four runs per hash.
 *
 * <p>The hash covers every byte, not a sample: proxyless clients each list their own run of
 * service names, runs of one length whose first, middle and last bytes are alike, and a sample of
 * those few slices put thousands of runs under a handful of keys, so nearly every ACK missed and
 * interned its names one by one again. The hash is seeded per process, so a client cannot choose
 * names that crowd out other streams' runs.
 */
final class NameRuns {
  /** Shorter runs are interned name by name: cheap, and not worth a slot here. */
  static final int SHARED_FROM_BYTES = 512;
  static final NameRuns SHARED = new NameRuns(4096);

  private static final int MAX_PER_HASH = 4;
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long SEED = new SecureRandom().nextLong();
  private final int maxRuns;
  private final LinkedHashMap<Long, List<WeakReference<SotwRequest.WireName[]>>> byHash =
      new LinkedHashMap<>(64, 0.75f, true);

  NameRuns(int maxRuns) {
    this.maxRuns = maxRuns;
  }

  /**
   * The interned names of the run {@code wire[from, to)} holding {@code count} names (their places
   * in {@code scratch}); the array is shared by every request with this run and must not change.
   */
  SotwRequest.WireName[] names(byte[] wire, int from, int to, int count, SotwRequest.Scratch scratch) {
    long hash = contentHash(wire, from, to);
    synchronized (this) {
      List<WeakReference<SotwRequest.WireName[]>> candidates = byHash.get(hash);
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
      List<WeakReference<SotwRequest.WireName[]>> sameHash = byHash.computeIfAbsent(hash, k -> new ArrayList<>(1));
      // Runs that share a hash are rare: the oldest goes first.
      sameHash.removeIf(r -> r.get() == null);
      if (sameHash.size() >= MAX_PER_HASH) sameHash.remove(0);
      sameHash.add(new WeakReference<>(names));
      if (byHash.size() > maxRuns) {
        var oldest = byHash.entrySet().iterator();
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

  /** How many hashes are held (tests): at most {@code maxRuns}. */
  synchronized int hashes() {
    return byHash.size();
  }

  /**
   * A seeded hash of {@code wire[from, to)}: four independent lanes of eight bytes at a time, so a
   * 50 KB run (a full-mesh sidecar's EDS names) costs a few microseconds.
   */
  static long contentHash(byte[] wire, int from, int to) {
    long a = SEED ^ (to - from);
    long b = SEED * 0x9e3779b97f4a7c15L;
    long c = ~SEED;
    long d = SEED + 0x632be59bd9b4e019L;
    int i = from;
    for (; i + 32 <= to; i += 32) {
      a = Long.rotateLeft(a ^ (long) LONGS.get(wire, i), 29) * 0x9e3779b97f4a7c15L;
      b = Long.rotateLeft(b ^ (long) LONGS.get(wire, i + 8), 29) * 0xc2b2ae3d27d4eb4fL;
      c = Long.rotateLeft(c ^ (long) LONGS.get(wire, i + 16), 29) * 0x165667b19e3779f9L;
      d = Long.rotateLeft(d ^ (long) LONGS.get(wire, i + 24), 29) * 0x85ebca77c2b2ae63L;
    }
    for (; i + 8 <= to; i += 8) a = Long.rotateLeft(a ^ (long) LONGS.get(wire, i), 29) * 0x9e3779b97f4a7c15L;
    for (; i < to; i++) b = (b ^ wire[i]) * 0x100000001b3L;
    long h = a ^ Long.rotateLeft(b, 17) ^ Long.rotateLeft(c, 31) ^ Long.rotateLeft(d, 47);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    return h ^ (h >>> 33);
  }
}
