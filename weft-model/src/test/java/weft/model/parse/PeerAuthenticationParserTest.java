package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.FILE;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.PeerAuthentication;
import weft.model.ResourceId;

class PeerAuthenticationParserTest {
  // ---- Istio's examples (security/v1beta1/peer_authentication.proto and the mTLS task) ----

  @Test
  void meshWideStrictInTheRootNamespace() {
    PeerAuthentication pa = only(parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: default
          namespace: istio-system
        spec:
          mtls:
            mode: STRICT
        """), PeerAuthentication.class);
    assertThat(pa).isEqualTo(new PeerAuthentication(new ResourceId("PeerAuthentication", "istio-system", "default"),
        null, "STRICT", Map.of()));
  }

  @Test
  void namespacePermissiveWithAStrictWorkload() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1beta1
        kind: PeerAuthentication
        metadata:
          name: default
          namespace: foo
        spec:
          mtls:
            mode: PERMISSIVE
        ---
        apiVersion: security.istio.io/v1beta1
        kind: PeerAuthentication
        metadata:
          name: finance
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: finance
          mtls:
            mode: STRICT
        """);
    assertThat(f.problems()).isEmpty();
    assertThat(f.resources()).containsExactly(
        new PeerAuthentication(new ResourceId("PeerAuthentication", "foo", "default"), null, "PERMISSIVE", Map.of()),
        new PeerAuthentication(new ResourceId("PeerAuthentication", "foo", "finance"), Map.of("app", "finance"),
            "STRICT", Map.of()));
  }

  @Test
  void workloadSelectorWithPortLevelMtls() {
    PeerAuthentication pa = only(parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: default
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: finance
          mtls:
            mode: STRICT
          portLevelMtls:
            8080:
              mode: DISABLE
            "9090":
              mode: PERMISSIVE
            443: {}
        """), PeerAuthentication.class);
    assertThat(pa.selector()).isEqualTo(Map.of("app", "finance"));
    assertThat(pa.mode()).isEqualTo("STRICT");
    assertThat(pa.portLevelMtls()).containsExactly(Map.entry(443, "UNSET"), Map.entry(8080, "DISABLE"),
        Map.entry(9090, "PERMISSIVE"));
  }

  @Test
  void unsetModeInheritsAndSnakeCaseIsAccepted() {
    PeerAuthentication pa = only(parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: finance, namespace: foo}
        spec:
          selector:
            match_labels: {app: finance}
          mtls: {mode: UNSET}
          port_level_mtls:
            8080: {mode: DISABLE}
        """), PeerAuthentication.class);
    assertThat(pa.mode()).isEqualTo("UNSET");
    assertThat(pa.portLevelMtls()).isEqualTo(Map.of(8080, "DISABLE"));
  }

  @Test
  void absentMtlsIsUnsetAndAMissingNamespaceIsDefault() {
    PeerAuthentication pa = only(parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: inherit}
        spec: {}
        """), PeerAuthentication.class);
    assertThat(pa).isEqualTo(new PeerAuthentication(new ResourceId("PeerAuthentication", "default", "inherit"), null,
        "UNSET", Map.of()));
  }

  @Test
  void anEmptySelectorIsNamespaceWideWithAWarning() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: all, namespace: foo}
        spec:
          selector: {matchLabels: {}}
          mtls: {mode: STRICT}
        """);
    assertThat(only(f, PeerAuthentication.class).selector()).isNull();
    assertThat(warnings(f)).singleElement()
        .satisfies(p -> assertThat(p.field()).isEqualTo("spec.selector.matchLabels"));
  }

  // ---- what Istio refuses ----

  @Test
  void portLevelMtlsWithoutSelectorIsRejectedAndItsSiblingKept() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: port-level-global, namespace: foo}
        spec:
          portLevelMtls:
            "80": {mode: STRICT}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: foo}
        spec:
          mtls: {mode: STRICT}
        """);
    assertThat(ids(f)).containsExactly(new ResourceId("PeerAuthentication", "foo", "default"));
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.file()).isEqualTo(FILE);
      assertThat(p.resource()).isEqualTo(new ResourceId("PeerAuthentication", "foo", "port-level-global"));
      assertThat(p.field()).isEqualTo("spec.portLevelMtls");
      assertThat(p.message()).contains("needs a selector");
    });
  }

  @Test
  void badPortKeysAreErrorsNamingTheKey() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: bad-ports, namespace: foo}
        spec:
          selector: {matchLabels: {app: a}}
          portLevelMtls:
            "acd": {mode: STRICT}
            "0": {mode: STRICT}
            "42949672": {mode: STRICT}
            "-1": {mode: STRICT}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(p -> p.field()).containsExactly("spec.portLevelMtls.acd",
        "spec.portLevelMtls.0", "spec.portLevelMtls.42949672", "spec.portLevelMtls.-1");
  }

  @Test
  void typoIsAnErrorWithAHint() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: typo, namespace: foo}
        spec:
          mtsl: {mode: STRICT}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.mtsl");
      assertThat(p.message()).contains("not a field of PeerAuthentication").contains("did you mean spec.mtls?");
    });
  }

  @Test
  void unsupportedVersionIsAnError() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1alpha1
        kind: PeerAuthentication
        metadata: {name: old, namespace: foo}
        spec: {}
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("apiVersion");
      assertThat(p.message()).contains("use security.istio.io/v1");
    });
  }

  @Test
  void recordCopiesAndOrdersPorts() {
    var ports = new java.util.HashMap<Integer, String>(Map.of(9000, "STRICT", 80, "DISABLE"));
    PeerAuthentication pa = new PeerAuthentication(new ResourceId("PeerAuthentication", "ns", "n"), Map.of("a", "b"),
        "UNSET", ports);
    ports.clear();
    assertThat(List.copyOf(pa.portLevelMtls().keySet())).containsExactly(80, 9000);
  }
}
