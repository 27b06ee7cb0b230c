package weft.agent.bootstrap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Puts a bootstrap where grpc-java looks for it. grpc-java reads, in this order and the first it
 * finds: the file named by the environment variable {@code GRPC_XDS_BOOTSTRAP}, the file named by the
 * system property {@code io.grpc.xds.bootstrap}, the JSON in the environment variable
 * {@code GRPC_XDS_BOOTSTRAP_CONFIG}, the JSON in the system property {@code io.grpc.xds.bootstrapConfig}.
 * It reads once per process, when the first xDS channel or server needs it, and keeps what it read.
 * So the agent must install before the application makes any xDS channel or server, and an earlier
 * source in that list would silently win over it: that is refused here, with the name to remove.
 */
public final class BootstrapInstaller {
  /** Environment variable: path of a bootstrap file (grpc-java's first choice). */
  public static final String FILE_ENV = "GRPC_XDS_BOOTSTRAP";
  /** System property: path of a bootstrap file. */
  public static final String FILE_PROPERTY = "io.grpc.xds.bootstrap";
  /** Environment variable: the bootstrap JSON itself. */
  public static final String CONFIG_ENV = "GRPC_XDS_BOOTSTRAP_CONFIG";
  /** System property: the bootstrap JSON itself (what the embedded agent sets). */
  public static final String CONFIG_PROPERTY = "io.grpc.xds.bootstrapConfig";

  private final Function<String, String> env;

  public BootstrapInstaller() {
    this(System::getenv);
  }

  /** @param env reads environment variables (tests pass a map) */
  public BootstrapInstaller(Function<String, String> env) {
    this.env = env;
  }

  /**
   * Sets {@value #CONFIG_PROPERTY} for this process.
   *
   * @return undoes it (restores what the property held before)
   * @throws IllegalStateException when a source grpc-java prefers is set
   */
  public AutoCloseable installInProcess(XdsBootstrap bootstrap) {
    requireNoEarlierSource();
    String previous = System.setProperty(CONFIG_PROPERTY, bootstrap.toJson());
    return () -> {
      if (previous == null) {
        System.clearProperty(CONFIG_PROPERTY);
      } else {
        System.setProperty(CONFIG_PROPERTY, previous);
      }
    };
  }

  /**
   * Checks that grpc-java would read {@value #CONFIG_PROPERTY}: that no source it prefers is set.
   *
   * @throws IllegalStateException naming what to unset
   */
  public void requireNoEarlierSource() {
    Map<String, String> earlier = new LinkedHashMap<>();
    put(earlier, "environment variable " + FILE_ENV, env.apply(FILE_ENV));
    put(earlier, "system property " + FILE_PROPERTY, System.getProperty(FILE_PROPERTY));
    put(earlier, "environment variable " + CONFIG_ENV, env.apply(CONFIG_ENV));
    if (!earlier.isEmpty()) {
      throw new IllegalStateException("gRPC would read its xDS bootstrap from " + String.join(" and ", earlier.keySet())
          + " instead of the one the Weft agent makes; unset " + (earlier.size() == 1 ? "it" : "them")
          + ", or run the agent standalone and point " + FILE_ENV + " at the file it writes");
    }
  }

  /** Writes the bootstrap to {@code file} whole: readers see the old file or the new, never part. */
  public static void writeFile(XdsBootstrap bootstrap, Path file) throws IOException {
    Path target = file.toAbsolutePath();
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.writeString(tmp, bootstrap.toJson(), StandardCharsets.UTF_8);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void put(Map<String, String> m, String what, String value) {
    if (value != null && !value.isBlank()) {
      m.put(what, value);
    }
  }
}
