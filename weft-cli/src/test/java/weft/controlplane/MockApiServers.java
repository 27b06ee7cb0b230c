package weft.controlplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What tests that run a control plane against fabric8's mock API server share. */
final class MockApiServers {
  private MockApiServers() {}

  /** A kubeconfig in {@code dir} for the mock API server on {@code port} (plain HTTP, a static token). */
  static Path kubeconfig(Path dir, int port) throws IOException {
    return Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster: {server: "http://127.0.0.1:%d"}
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        users:
        - name: u
          user: {token: t}
        """.formatted(port));
  }
}
