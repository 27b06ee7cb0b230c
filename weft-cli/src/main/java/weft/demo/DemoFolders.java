package weft.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;

/**
 * The demo's files: one temporary folder, readable by its owner only, holding the clusters'
 * config, the CA (with its private key) and each workload's certificate and key. Everything in
 * it goes when the demo ends, normally or by Ctrl-C.
 */
public final class DemoFolders implements AutoCloseable {
  private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  private final Path root;
  private boolean closed; // guarded by this; once set, no new folders

  private DemoFolders(Path root) {
    this.root = root;
  }

  /** A new owner-only (0700) temporary folder. */
  public static DemoFolders create() throws IOException {
    return new DemoFolders(POSIX ? Files.createTempDirectory("weft-demo", ownerOnly())
        : Files.createTempDirectory("weft-demo"));
  }

  public Path root() {
    return root;
  }

  /** A new owner-only folder inside the root. */
  public synchronized Path newFolder(String name) throws IOException {
    if (closed) throw new IOException(root + ": the demo is ending; no new folders");
    Path dir = root.resolve(name);
    return POSIX ? Files.createDirectory(dir, ownerOnly()) : Files.createDirectory(dir);
  }

  private static FileAttribute<?> ownerOnly() {
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  }

  /**
   * Deletes the folder and all in it. Safe to call again (the shutdown hook after the demo's own
   * close) and while a thread that has not stopped yet still writes into it: it goes over the tree
   * again until nothing is left.
   */
  @Override
  public synchronized void close() {
    closed = true;
    IOException last = null;
    for (int pass = 0; pass < 10 && Files.exists(root, LinkOption.NOFOLLOW_LINKS); pass++) {
      try (var files = Files.walk(root)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          try {
            Files.deleteIfExists(p);
          } catch (DirectoryNotEmptyException e) {
            last = e; // something was written meanwhile: the next pass takes it
          }
        }
      } catch (NoSuchFileException e) {
        // went while we walked
      } catch (IOException e) {
        last = e;
      }
    }
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new UncheckedIOException(root + ": could not delete the demo's files; remove the folder by hand",
          last == null ? new IOException("still there") : last);
    }
  }
}
