package weft.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Checks of the files and folders options name, each failing with the option and what it should name. */
final class Paths {
  private Paths() {}

  /** {@code dir} (when given) must be an existing folder. */
  static void requireFolder(String flag, Path dir, String what) {
    if (dir == null) return;
    if (Files.isRegularFile(dir)) {
      throw new CommandFailure(flag + " " + dir + " is a file, not a folder; point " + flag.strip() + " at " + what);
    }
    if (!Files.isDirectory(dir)) {
      throw new CommandFailure(flag + " " + dir + ": no such folder; create it or point " + flag.strip() + " at "
          + what);
    }
  }

  /** {@code file} (when given) must be an existing file. */
  static void requireFile(String flag, Path file, String what) {
    if (file == null) return;
    if (Files.isDirectory(file)) {
      throw new CommandFailure(flag + " " + file + " is a folder, not a file; point " + flag + " at " + what);
    }
    if (!Files.isRegularFile(file)) {
      throw new CommandFailure(flag + " " + file + ": no such file; point " + flag + " at " + what);
    }
  }

  /** {@code dir} (when given) is a folder or is to be made. */
  static void requireFolderOrAbsent(String flag, Path dir) {
    if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new CommandFailure(flag + " " + dir + " is a file, not a folder; name a new or existing folder");
    }
  }
}
