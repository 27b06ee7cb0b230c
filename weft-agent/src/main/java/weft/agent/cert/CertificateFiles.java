package weft.agent.cert;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import weft.security.ca.Pem;

/**
 * The certificate-provider files grpc-java's {@code file_watcher} plugin reads, in Istio's names:
 * {@code cert-chain.pem}, {@code key.pem} (mode 0600) and {@code root-cert.pem}, in one folder.
 *
 * <p>They are replaced as one. Each certificate is written, complete and synced, into a new hidden
 * generation folder; the {@code ..data} link is then renamed onto it in a single {@code rename(2)};
 * the three visible names are links through {@code ..data}. This is how the kubelet updates Secret
 * volumes, so readers that follow symlinks (grpc-java, grpc-go, Envoy, the JDK) already cope. Any one
 * open therefore sees one whole generation, never a half-written file.
 *
 * <p>A reader that opens the key and the certificate separately can still straddle a swap. grpc-java's
 * reader guards against that: it takes both files' modification times, reads both, and keeps the pair
 * only when both times are unchanged. Each generation's files get modification times strictly later
 * than the previous generation's, so a straddled read always shows a changed time and is discarded
 * (and both files always look changed to it, which it also requires before reloading). The previous
 * generation is kept until the next swap, so a reader that resolved {@code ..data} just before a swap
 * still finds its files.
 */
public final class CertificateFiles {
  public static final String CERT_CHAIN = "cert-chain.pem";
  public static final String PRIVATE_KEY = "key.pem";
  public static final String ROOT_CERT = "root-cert.pem";
  static final String DATA_LINK = "..data";
  private static final String GENERATION_PREFIX = "..gen-";
  private static final Pattern GENERATION = Pattern.compile("\\.\\.gen-(\\d+)");
  private static final List<String> NAMES = List.of(CERT_CHAIN, PRIVATE_KEY, ROOT_CERT);
  private static final Set<PosixFilePermission> KEY_MODE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> CERT_MODE = PosixFilePermissions.fromString("rw-r--r--");

  private final Path dir;
  private final boolean posix;
  /** Roots per trust domain for {@link SpiffeBundleMap#FILE_NAME}; null: no map file. */
  private final TrustDomainRoots trust;
  private long generation;

  /** @param dir the folder; made when missing */
  public CertificateFiles(Path dir) {
    this(dir, null);
  }

  /**
   * @param dir the folder; made when missing
   * @param trust when set, each generation also holds {@link SpiffeBundleMap#FILE_NAME} (gRFC A87),
   *     our roots filed under our trust domain and its aliases, peers' under theirs
   */
  public CertificateFiles(Path dir, TrustDomainRoots trust) {
    this.trust = trust;
    this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    this.posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    try {
      Files.createDirectories(this.dir);
      this.generation = latestGeneration();
    } catch (IOException e) {
      throw new UncheckedIOException(this.dir + ": cannot prepare the certificate folder: " + e.getMessage(), e);
    }
  }

  public Path directory() {
    return dir;
  }

  public Path certificateChainFile() {
    return dir.resolve(CERT_CHAIN);
  }

  public Path privateKeyFile() {
    return dir.resolve(PRIVATE_KEY);
  }

  public Path rootCertificateFile() {
    return dir.resolve(ROOT_CERT);
  }

  /** The SPIFFE trust-bundle map (gRFC A87), or null when these files have none. */
  public Path spiffeBundleMapFile() {
    return trust == null ? null : dir.resolve(SpiffeBundleMap.FILE_NAME);
  }

  private List<String> names() {
    return trust == null ? NAMES : List.of(CERT_CHAIN, PRIVATE_KEY, ROOT_CERT, SpiffeBundleMap.FILE_NAME);
  }

  /**
   * Makes {@code cert} the one every reader sees from now on.
   *
   * @throws IOException when the folder cannot be written; what readers saw before stays in place
   */
  public synchronized void install(IssuedCertificate cert) throws IOException {
    FileTime floor = newestVisibleTime();
    long next = generation + 1;
    Path gen = dir.resolve(GENERATION_PREFIX + String.format("%08d", next));
    deleteTree(gen); // a leftover of a crash between writing and swapping
    Files.createDirectory(gen);
    write(gen.resolve(PRIVATE_KEY), Pem.encodePrivateKey(cert.privateKey()), KEY_MODE);
    write(gen.resolve(CERT_CHAIN), Pem.encode(cert.chain()), CERT_MODE);
    write(gen.resolve(ROOT_CERT), Pem.encode(cert.roots()), CERT_MODE);
    if (trust != null) {
      String map;
      try {
        map = trust.bundleMap(cert.roots()).json();
      } catch (IllegalArgumentException e) {
        throw new IOException(SpiffeBundleMap.FILE_NAME + ": " + e.getMessage(), e);
      }
      write(gen.resolve(SpiffeBundleMap.FILE_NAME), map, CERT_MODE);
    }
    List<String> names = names();
    for (String name : names) {
      makeLaterThan(gen.resolve(name), floor);
    }
    syncDirectory(gen);
    replaceWithLink(dir.resolve(DATA_LINK), gen.getFileName());
    for (String name : names) {
      Path target = Path.of(DATA_LINK, name);
      Path visible = dir.resolve(name);
      if (!Files.isSymbolicLink(visible) || !Files.readSymbolicLink(visible).equals(target)) {
        if (Files.isDirectory(visible, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException(visible + " is a directory; remove it so the agent can keep its " + name + " there");
        }
        replaceWithLink(visible, target);
      }
    }
    syncDirectory(dir);
    generation = next;
    deleteGenerationsBefore(next - 1);
  }

  /** Writes a new file completely and durably before anything can point at it. */
  private void write(Path file, String pem, Set<PosixFilePermission> mode) throws IOException {
    FileAttribute<?>[] attrs = posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)}
        : new FileAttribute<?>[0];
    try (FileChannel ch = FileChannel.open(file, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        attrs)) {
      ByteBuffer buf = ByteBuffer.wrap(pem.getBytes(StandardCharsets.US_ASCII));
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    if (posix) {
      Files.setPosixFilePermissions(file, mode); // the umask may have taken bits away
    }
  }

  /**
   * Gives {@code file} a modification time after {@code floor}: the clock may not have moved on a file
   * system with coarse timestamps, or may have been set back.
   */
  private static void makeLaterThan(Path file, FileTime floor) throws IOException {
    if (floor == null || Files.getLastModifiedTime(file).compareTo(floor) > 0) {
      return;
    }
    long floorMicros = floor.to(TimeUnit.MICROSECONDS);
    for (long step : new long[] {1_000, 1_000_000, 2_000_000}) { // 1 ms, then whole seconds for coarse file systems
      Files.setLastModifiedTime(file, FileTime.from(floorMicros + step, TimeUnit.MICROSECONDS));
      if (Files.getLastModifiedTime(file).compareTo(floor) > 0) {
        return;
      }
    }
    throw new IOException(file + ": cannot give it a modification time after " + floor);
  }

  /** The latest modification time among the files readers see now; null when there are none. */
  private FileTime newestVisibleTime() throws IOException {
    FileTime newest = null;
    for (String name : names()) {
      try {
        FileTime t = Files.getLastModifiedTime(dir.resolve(name));
        if (newest == null || t.compareTo(newest) > 0) {
          newest = t;
        }
      } catch (NoSuchFileException e) {
        // first install, or a half-made folder
      }
    }
    return newest;
  }

  /** Points {@code link} at {@code target} in one rename, whatever {@code link} was before. */
  private static void replaceWithLink(Path link, Path target) throws IOException {
    Path tmp = link.resolveSibling(link.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, target);
    try {
      Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.deleteIfExists(tmp);
      throw new IOException(link.getParent() + ": this file system cannot replace files atomically; "
          + "put the certificate folder on a local file system", e);
    }
  }

  private static void syncDirectory(Path d) {
    try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not every platform can sync a directory; the files themselves are synced.
    }
  }

  private long latestGeneration() throws IOException {
    long max = 0;
    for (Path p : generations()) {
      max = Math.max(max, generationOf(p));
    }
    return max;
  }

  private void deleteGenerationsBefore(long keepFrom) throws IOException {
    for (Path p : generations()) {
      if (generationOf(p) < keepFrom) {
        deleteTree(p);
      }
    }
  }

  private List<Path> generations() throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, GENERATION_PREFIX + "*")) {
      for (Path p : ds) {
        if (GENERATION.matcher(p.getFileName().toString()).matches()
            && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.add(p);
        }
      }
    }
    return out;
  }

  private static long generationOf(Path p) {
    Matcher m = GENERATION.matcher(p.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
