package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.parse;

import org.junit.jupiter.api.Test;
import weft.model.ResourceId;

/**
 * Large input is bounded and never slow: over the limit it is refused before parsing, under it a
 * long token (the case SnakeYAML's own reader handles in quadratic time) parses like any other.
 * Timings are in the README's "Bad input" section, not asserted here.
 */
class LargeInputTest {
  /** A Service whose annotation is one scalar of {@code size} characters. */
  private static String serviceWithAnnotation(String name, int size) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          annotations:
            note: %s
        spec:
          ports: [{name: http, port: 80}]
        """.formatted(name, "x".repeat(size));
  }

  @Test
  void multiDocumentFileJustUnderTheLimitParsesEveryDocument() {
    int each = (InputLimits.MAX_FILE_BYTES - 4096) / 4;
    StringBuilder file = new StringBuilder();
    for (int i = 0; i < 4; i++) file.append(serviceWithAnnotation("svc" + i, each - 200)).append("---\n");
    assertThat(file.length()).isLessThan(InputLimits.MAX_FILE_BYTES);

    ParsedFile parsed = parse(file.toString());

    assertThat(errors(parsed)).isEmpty();
    assertThat(ids(parsed)).containsExactly(new ResourceId("Service", "default", "svc0"),
        new ResourceId("Service", "default", "svc1"), new ResourceId("Service", "default", "svc2"),
        new ResourceId("Service", "default", "svc3"));
  }

  @Test
  void oneDocumentOfAlmostTheWholeLimitParses() {
    ParsedFile parsed = parse(serviceWithAnnotation("big", InputLimits.MAX_FILE_BYTES - 1024));

    assertThat(errors(parsed)).isEmpty();
    assertThat(ids(parsed)).containsExactly(new ResourceId("Service", "default", "big"));
  }

  @Test
  void eightMegabyteDocumentIsRefusedNamingTheFileAndTheLimit() {
    ParsedFile parsed = parse(serviceWithAnnotation("huge", 8 * 1024 * 1024));

    assertThat(parsed.unreadable()).isTrue();
    assertThat(parsed.resources()).isEmpty();
    assertThat(errors(parsed)).singleElement().satisfies(p -> {
      assertThat(p.file()).isEqualTo(Yamls.FILE);
      assertThat(p.message()).contains(Yamls.FILE, "4 MiB", String.valueOf(InputLimits.MAX_FILE_BYTES));
    });
  }

  @Test
  void positionsInErrorsStayRightAfterALongToken() {
    String yaml = serviceWithAnnotation("web", 100_000) + "  bad: [\n";

    ParsedFile parsed = parse(yaml);

    assertThat(errors(parsed)).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("line 9"));
  }

  @Test
  void nonPrintableCharacterIsRefusedAsSnakeYamlRefusesIt() {
    ParsedFile parsed = parse(serviceWithAnnotation("web", 10).replace("note: x", "note: \u0007x"));

    assertThat(parsed.unreadable()).isTrue();
    assertThat(errors(parsed)).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("special characters are not allowed"));
  }
}
