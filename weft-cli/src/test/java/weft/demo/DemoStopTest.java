package weft.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The demo's files are its owner's only, and go when it ends: normally, or by Ctrl-C. */
class DemoStopTest {
  private static final PrintStream NOWHERE = new PrintStream(OutputStream.nullOutputStream());

  @Test
  void theFoldersAreTheOwnersOnlyAndCloseDeletesThemWithTheKeys() throws Exception {
    DemoFolders folders = DemoFolders.create();
    Path certs = folders.newFolder("certs-echo-a");
    Path key = Files.writeString(certs.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----");
    assertThat(Files.getPosixFilePermissions(folders.root())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(certs)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    folders.close();
    assertThat(key).doesNotExist();
    assertThat(folders.root()).doesNotExist();
    folders.close(); // a second close (the shutdown hook after the demo's own) is harmless
    assertThatThrownBy(() -> folders.newFolder("late")).hasMessageContaining("ending");
  }

  @Test
  void ctrlCInterruptsTheRunWhichDeletesItsFiles() throws Exception {
    DemoFolders folders = DemoFolders.create();
    Files.writeString(folders.newFolder("ca").resolve("ca-key.pem"), "secret");
    CountDownLatch finished = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    Thread runner = new Thread(() -> {
      try {
        new CountDownLatch(1).await(); // the demo, running until stopped
      } catch (InterruptedException e) {
        interrupted.set(true);
        folders.close();
      } finally {
        finished.countDown();
      }
    });
    runner.start();
    Demo.stopper(runner, finished, () -> folders, Duration.ofMinutes(5)).run();
    runner.join();
    assertThat(interrupted).isTrue();
    assertThat(folders.root()).doesNotExist();
  }

  @Test
  void ctrlCDeletesTheFilesEvenWhenTheRunDoesNotStopInTime() throws Exception {
    DemoFolders folders = DemoFolders.create();
    Path key = Files.writeString(folders.newFolder("certs-demo-client").resolve("key.pem"), "secret");
    CountDownLatch finished = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread stuck = new Thread(() -> {
      while (release.getCount() > 0) {
        try {
          release.await();
        } catch (InterruptedException ignoredAsAStuckDemoWould) {
          // keeps waiting
        }
      }
      finished.countDown();
    });
    stuck.start();
    try {
      Demo.stopper(stuck, finished, () -> folders, Duration.ZERO).run();
      assertThat(key).doesNotExist();
      assertThat(folders.root()).doesNotExist();
    } finally {
      release.countDown();
      stuck.join();
    }
  }

  @Test
  void aDurationThatIsNotPositiveIsRefused() {
    assertThatThrownBy(() -> new Demo(NOWHERE, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--duration must be a positive number of seconds, got 0");
    assertThatThrownBy(() -> new Demo(NOWHERE, -3)).hasMessageContaining("got -3");
  }
}
