package weft.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpiffeIdTest {
  @Test
  void istioFormRoundTripsAndOtherShapesDoNotParse() {
    SpiffeId id = new SpiffeId("cluster.local", "default", "frontend");

    assertThat(id.toString()).isEqualTo("spiffe://cluster.local/ns/default/sa/frontend");
    assertThat(SpiffeId.parse(id.toString())).contains(id);
    assertThat(SpiffeId.parse("spiffe://cluster.local/ns/default/sa/frontend/extra")).isEmpty();
    assertThat(SpiffeId.parse("spiffe://cluster.local/sa/frontend/ns/default")).isEmpty();
    assertThat(SpiffeId.parse("https://cluster.local/ns/default/sa/frontend")).isEmpty();
    assertThat(SpiffeId.parse("spiffe://Cluster.Local/ns/default/sa/frontend")).isEmpty();
    assertThat(id.inTrustDomain("old.local").toString()).isEqualTo("spiffe://old.local/ns/default/sa/frontend");
  }
}
