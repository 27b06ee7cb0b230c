package weft.registry.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.registry.testing.Fifos;

/** What a watched folder lists, reads and refuses, and that each refusal is logged once. */
class WatchedFolderTest {
  @TempDir
  Path dir;
  @TempDir
  Path outside;

  private WatchedFolder folder(List<Map<Path, String>> reports) throws IOException {
    return new WatchedFolder(dir, FileClusterSource::isYaml, true, reports::add);
  }

  @Test
  void fifoIsWarnedAboutOnceHoweverOftenTheFolderIsListed() throws Exception {
    Fifos.make(dir.resolve("pipe.yaml"));
    List<String> warnings = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger(WatchedFolder.class.getName());
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel() == Level.WARNING) warnings.add(r.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(handler);
    try {
      List<Map<Path, String>> reports = new CopyOnWriteArrayList<>();
      WatchedFolder folder = folder(reports);
      for (int i = 0; i < 3; i++) assertThat(folder.files()).isEmpty();
      assertThat(folder.read(folder.root().resolve("pipe.yaml")).refusal()).contains("FIFO");

      assertThat(warnings).singleElement().satisfies(w -> assertThat(w).contains("pipe.yaml", "FIFO"));
      assertThat(reports).hasSize(1);

      Files.delete(dir.resolve("pipe.yaml"));
      assertThat(folder.files()).isEmpty();
      assertThat(folder.skipped()).isEmpty();
      assertThat(reports).hasSize(2);
      assertThat(reports.get(1)).isEmpty();
    } finally {
      logger.removeHandler(handler);
    }
  }

  @Test
  void linkToAFileOutsideIsNeverRead() throws Exception {
    Files.writeString(outside.resolve("secret.yaml"), "kind: Secret\n");
    Files.createSymbolicLink(dir.resolve("leak.yaml"), outside.resolve("secret.yaml"));
    WatchedFolder folder = folder(new CopyOnWriteArrayList<>());

    assertThat(folder.files()).isEmpty();
    WatchedFolder.Content content = folder.read(folder.root().resolve("leak.yaml"));
    assertThat(content.text()).isNull();
    assertThat(content.refusal()).contains("leak.yaml", "link out of the folder");
  }

  @Test
  void linksThatLeadNowhereAreNamedForWhatTheyAre() throws Exception {
    Files.createSymbolicLink(dir.resolve("a.yaml"), Path.of("b.yaml"));
    Files.createSymbolicLink(dir.resolve("b.yaml"), Path.of("a.yaml"));
    Files.createSymbolicLink(dir.resolve("gone.yaml"), Path.of("nothing.yaml"));
    Files.createDirectory(dir.resolve("sub"));
    Files.createSymbolicLink(dir.resolve("sub/up"), Path.of(".."));
    WatchedFolder folder = folder(new CopyOnWriteArrayList<>());

    assertThat(folder.files()).isEmpty();
    Map<Path, String> skipped = folder.skipped();
    Path root = folder.root();
    assertThat(skipped.get(root.resolve("a.yaml"))).contains("link loop");
    assertThat(skipped.get(root.resolve("b.yaml"))).contains("link loop");
    assertThat(skipped.get(root.resolve("gone.yaml"))).contains("dangling");
    assertThat(skipped.get(root.resolve("sub/up"))).contains("link loop");
  }

  @Test
  void linkToAFileInsideIsReadAndAnOversizedFileIsRefused() throws Exception {
    Files.createDirectory(dir.resolve("data"));
    Files.writeString(dir.resolve("data/real.yaml"), "a: 1\n");
    Files.createSymbolicLink(dir.resolve("link.yaml"), Path.of("data/real.yaml"));
    Files.write(dir.resolve("big.yaml"), new byte[weft.model.parse.InputLimits.MAX_FILE_BYTES + 1]);
    WatchedFolder folder = folder(new CopyOnWriteArrayList<>());
    Path root = folder.root();

    assertThat(folder.files()).containsExactly(root.resolve("big.yaml"), root.resolve("data/real.yaml"),
        root.resolve("link.yaml"));
    assertThat(folder.read(root.resolve("link.yaml")).text()).isEqualTo("a: 1\n");
    assertThat(folder.read(root.resolve("big.yaml")).refusal()).contains("big.yaml", "larger than", "4 MiB");
    assertThat(folder.read(root.resolve("none.yaml")).absent()).isTrue();
  }
}
