package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import weft.registry.McsExportStatus;

/** The ServiceExport conditions the MCS controller writes, as KEP-1645 names them. */
class McsControllerTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode conditions(String patch, String path) throws Exception {
    JsonNode op = JSON.readTree(patch).get(0);
    assertThat(op.get("op").asText()).isEqualTo("add");
    assertThat(op.get("path").asText()).isEqualTo(path);
    return path.equals("/status") ? op.get("value").get("conditions") : op.get("value");
  }

  @Test
  void aValidExportWithoutConflictIsValidTrueAndConflictFalse() throws Exception {
    JsonNode c = conditions(McsController.patch(new McsExportStatus("c2", "default", "reviews", null, null, "ok"),
        false), "/status");
    assertThat(c.get(0).get("type").asText()).isEqualTo("Valid");
    assertThat(c.get(0).get("status").asText()).isEqualTo("True");
    assertThat(c.get(1).get("type").asText()).isEqualTo("Conflict");
    assertThat(c.get(1).get("status").asText()).isEqualTo("False");
    assertThat(c.get(1).get("lastTransitionTime").asText()).endsWith("Z");
  }

  @Test
  void aMissingServiceIsValidFalseAndAPortConflictIsConflictTrue() throws Exception {
    JsonNode invalid = conditions(McsController.patch(new McsExportStatus("c2", "default", "ghost", "ServiceNotFound",
        null, "no Service default/ghost in cluster c2"), true), "/status/conditions");
    assertThat(invalid.get(0).get("status").asText()).isEqualTo("False");
    assertThat(invalid.get(0).get("reason").asText()).isEqualTo("ServiceNotFound");
    assertThat(invalid.get(0).get("message").asText()).contains("no Service default/ghost");
    JsonNode conflict = conditions(McsController.patch(new McsExportStatus("c3", "default", "reviews", null,
        "ports differ", "ports differ"), true), "/status/conditions");
    assertThat(conflict.get(1).get("status").asText()).isEqualTo("True");
    assertThat(conflict.get(1).get("reason").asText()).isEqualTo("PortConflict");
    assertThat(conflict.get(1).get("message").asText()).isEqualTo("ports differ");
  }
}
