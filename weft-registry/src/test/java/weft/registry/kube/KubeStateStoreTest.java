package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.K8sService;
import weft.model.ResourceId;

class KubeStateStoreTest {
  @TempDir
  Path dir;

  static final String SERVICE = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
      + "\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}";

  @Test
  void savedStateReadsBackThroughTheParserAndReplacesTheFileWhole() throws Exception {
    StateStore store = new StateStore(dir.resolve("state"));
    assertThat(store.load("c2")).isNull();
    store.save("c2", List.of(SERVICE, SERVICE.replace("\"web\"", "\"api\"")));
    StateStore.Saved saved = store.load("c2");
    assertThat(saved.objects()).extracting(s -> s.resource().id()).containsExactlyInAnyOrder(
        new ResourceId("Service", "default", "web"), new ResourceId("Service", "default", "api"));
    assertThat(saved.objects().get(0).resource()).isInstanceOf(K8sService.class);
    assertThat(saved.objects().get(0).json()).startsWith("{");

    store.save("c2", List.of(SERVICE));
    assertThat(store.load("c2").objects()).hasSize(1);
    try (var files = Files.list(dir.resolve("state"))) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("c2.yaml"); // no temp file left
    }
    store.delete("c2");
    assertThat(store.load("c2")).isNull();
  }

  @Test
  void aDocumentTheParserRejectsIsLeftOutAndTheRestServes() throws Exception {
    StateStore store = new StateStore(dir);
    store.save("c2", List.of(SERVICE, SERVICE.replace("\"port\":80", "\"port\":70000").replace("web", "bad")));
    assertThat(store.load("c2").objects()).extracting(s -> s.resource().id().name()).containsExactly("web");
  }

  @Test
  void clusterIdsCannotLeaveTheFolderOrHideAsDotFiles() {
    assertThat(StateStore.fileName("cluster-1.east")).isEqualTo("cluster-1.east.yaml");
    assertThat(StateStore.fileName("../etc/passwd")).isEqualTo("%2E.%2Fetc%2Fpasswd.yaml");
    assertThat(new StateStore(dir).file("../x").getParent()).isEqualTo(dir);
  }
}
