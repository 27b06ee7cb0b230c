package weft.security.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.testing.MutableClock;

class FileTokenAuthenticatorTest {
  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

  @Test
  void tokenFileGrantsEachTokenOneIdentityUntilItExpires() throws Exception {
    Path file = write("""
        - token: frontend-token
          namespace: default
          serviceAccount: frontend
        - token: batch-token
          namespace: jobs
          serviceAccount: batch
          expires: 2030-01-01T01:00:00Z
        """);
    FileTokenAuthenticator auth = FileTokenAuthenticator.load(file, clock);

    assertThat(auth.authenticate("frontend-token", "any-cluster"))
        .extracting(Identity::namespace, Identity::serviceAccount).containsExactly("default", "frontend");
    assertThat(auth.authenticate("batch-token", null).spiffeId("cluster.local").toString())
        .isEqualTo("spiffe://cluster.local/ns/jobs/sa/batch");

    clock.advance(Duration.ofHours(1));

    assertThatThrownBy(() -> auth.authenticate("batch-token", null))
        .isInstanceOf(AuthenticationException.class).hasMessageContaining("expired at 2030-01-01T01:00:00Z");
    assertThatThrownBy(() -> auth.authenticate("nope", null))
        .isInstanceOf(AuthenticationException.class).hasMessage("unknown token (not in the CA token file)");
    assertThatThrownBy(() -> auth.authenticate("", null))
        .isInstanceOf(AuthenticationException.class).hasMessage("no bearer token");
  }

  @Test
  void mistakesInTheTokenFileNameFileEntryAndField() throws Exception {
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("""
        - token: a
          namespace: default
        """), clock)).hasMessageContaining("entry 1: field 'serviceAccount' is missing");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("""
        - token: a
          namespace: default
          serviceAccount: frontend
          servceAccount: typo
        """), clock)).hasMessageContaining("entry 1: unknown field 'servceAccount'");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("""
        - {token: a, namespace: default, serviceAccount: frontend}
        - {token: a, namespace: default, serviceAccount: other}
        """), clock)).hasMessageContaining("the same token is listed twice");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("""
        - {token: a, namespace: Default_NS, serviceAccount: frontend}
        """), clock)).hasMessageContaining("field 'namespace': 'Default_NS' is not a Kubernetes name");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("""
        - {token: a, namespace: default, serviceAccount: frontend, expires: tomorrow}
        """), clock)).hasMessageContaining("field 'expires': 'tomorrow' is not an RFC 3339 time");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(write("token: a\n"), clock))
        .hasMessageContaining("expected a YAML list");
    Path missing = dir.resolve("missing.yaml");
    assertThatThrownBy(() -> FileTokenAuthenticator.load(missing, clock)).hasMessageContaining(missing.toString());
  }

  private Path write(String yaml) throws Exception {
    Path file = Files.createTempFile(dir, "tokens", ".yaml");
    Files.writeString(file, yaml);
    return file;
  }
}
