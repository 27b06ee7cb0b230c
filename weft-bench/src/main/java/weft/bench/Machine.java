package weft.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine a run measured on, printed first by every mode: figures from different machines (or
 * from one machine under different load) are not comparable, so each report names its own.
 */
final class Machine {
  private Machine() {}

  /**
   * Cores, architecture, memory, Java, the load average, and the heap limits of the harness and
   * of the control plane ({@code controlPlaneHeap}, e.g. {@code "-Xmx2g"}, or a note when it
   * runs inside the harness).
   */
  static String describe(String controlPlaneHeap) {
    return String.format("machine: %d cores, %s, %s, Java %s, load average %s; harness max heap %d MB,"
            + " control plane %s", Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"),
        memory(), System.getProperty("java.version"), loadAverage(), Runtime.getRuntime().maxMemory() >> 20,
        controlPlaneHeap);
  }

  /** The 1, 5 and 15 minute load averages, or "unknown" off Linux. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * File descriptors this process may open (the JVM raises its soft limit to the hard one at
   * start), or {@code Long.MAX_VALUE} when the platform does not say.
   */
  static long maxFileDescriptors() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return unix.getMaxFileDescriptorCount();
    }
    return Long.MAX_VALUE;
  }

  private static String memory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("\\D", ""));
          return String.format("%.0f GiB memory", kb / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: leave it out
    }
    return "memory unknown";
  }
}
