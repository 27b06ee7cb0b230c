package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.ServiceEntry;
import weft.model.VirtualService;

/** Plain scalars read as sigs.k8s.io/yaml (go-yaml v2, then JSON) reads them, rule by rule. */
class GoYamlScalarsTest {
  private static JsonNode read(String yaml) throws Yaml.Unreadable {
    return Yaml.documents(yaml).get(0);
  }

  /** One flow list under a key (a list at the top of a stream would be read as one document per item). */
  private static JsonNode list(String flow) throws Yaml.Unreadable {
    return read("v: " + flow + "\n").get("v");
  }

  @Test
  void serviceEntryWithIpv6AddressInFlowListKeepsBothAddresses() {
    ServiceEntry se = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: external-v6, namespace: egress}
        spec:
          hosts: [api.example.com]
          addresses: [1.2.3.4, 001:db8::]
          ports: [{number: 443, name: tls, protocol: TLS}]
          resolution: NONE
          location: MESH_EXTERNAL
        """), ServiceEntry.class);
    assertThat(se.addresses()).containsExactly("1.2.3.4", "001:db8::");
  }

  @Test
  void colonBeforeAFlowIndicatorIsPartOfThePlainScalar() throws Exception {
    JsonNode n = read("""
        a: [2001:db8::, fe80::1:, "x:"]
        b: {k: 2001:db8::}
        c: [host.example:8080, 10.0.0.1:53]
        """);
    assertThat(n.get("a").toString()).isEqualTo("[\"2001:db8::\",\"fe80::1:\",\"x:\"]");
    assertThat(n.get("b").toString()).isEqualTo("{\"k\":\"2001:db8::\"}");
    assertThat(n.get("c").toString()).isEqualTo("[\"host.example:8080\",\"10.0.0.1:53\"]");
    // A ':' that starts a token in a flow collection is a value indicator for go-yaml too, with no node
    // before it: refused by both.
    assertThatThrownBy(() -> read("d: [::1]\n")).isInstanceOf(Yaml.Unreadable.class);
  }

  @Test
  void colonFollowedBySpaceStillStartsAValueInFlowCollections() throws Exception {
    JsonNode n = read("m: [{name: http, port: 80}, a: b]\n");
    assertThat(n.get("m").toString()).isEqualTo("[{\"name\":\"http\",\"port\":80},{\"a\":\"b\"}]");
  }

  @Test
  void blockIpv6EndingInColonIsAMappingForGoToo() throws Exception {
    // A ':' before the end of the line ends the scalar in block context for go-yaml as well.
    JsonNode n = read("addresses:\n- 2001:db8::\n");
    assertThat(n.get("addresses").get(0).isObject()).isTrue();
    assertThat(read("addresses:\n- 2001:db8::1\n").get("addresses").get(0).textValue()).isEqualTo("2001:db8::1");
  }

  @Test
  void yamlOneOneBooleansAreBooleansIncludingSingleLetters() throws Exception {
    JsonNode n = list("[y, Y, yes, Yes, YES, on, On, ON, true, True, TRUE, n, N, no, No, NO, off, Off, OFF, false,"
        + " False, FALSE, tRue, yES, oN, 'yes']");
    List<String> kinds = new java.util.ArrayList<>();
    n.forEach(e -> kinds.add(e.isBoolean() ? String.valueOf(e.booleanValue()) : "'" + e.textValue() + "'"));
    assertThat(kinds).containsExactly("true", "true", "true", "true", "true", "true", "true", "true", "true",
        "true", "true", "false", "false", "false", "false", "false", "false", "false", "false", "false", "false",
        "false", "'tRue'", "'yES'", "'oN'", "'yes'");
  }

  @Test
  void booleanWordInAStringFieldIsRejectedAsIstioRejectsIt() {
    ParsedFile f = parse("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: words, namespace: egress}
        spec:
          hosts: [no]
          ports: [{number: 80, name: http, protocol: HTTP}]
          resolution: DNS
        """);
    assertThat(errors(f)).anySatisfy(p -> assertThat(p.describe()).contains("spec.hosts[0] must be a string, got false"));
  }

  @Test
  void integersFollowGoBasePrefixesAndLeadingZeroOctal() throws Exception {
    JsonNode n = list("[0777, 0o17, 0x1F, 0b101, -0b101, 1_000, +1, -0x10, 0, 0_7, 99999999999999999999]");
    assertThat(n.toString()).isEqualTo("[511,15,31,5,-5,1000,1,-16,0,7,99999999999999999999]");
  }

  @Test
  void floatsFollowGoSyntaxAndOverflowStaysAString() throws Exception {
    JsonNode n = list("[1e3, 1.5e-3, .5, +.5, 1., 08, 09.5, 1_000.5, 1e400, 1e, e3, .e3, 0x, '1e3']");
    assertThat(n.get(0).isFloatingPointNumber()).isTrue();
    assertThat(n.get(0).doubleValue()).isEqualTo(1000.0);
    assertThat(n.get(1).doubleValue()).isEqualTo(0.0015);
    assertThat(n.get(2).doubleValue()).isEqualTo(0.5);
    assertThat(n.get(3).doubleValue()).isEqualTo(0.5);
    assertThat(n.get(4).doubleValue()).isEqualTo(1.0);
    assertThat(n.get(5).doubleValue()).isEqualTo(8.0); // not valid octal, so Go reads a float
    assertThat(n.get(6).doubleValue()).isEqualTo(9.5);
    assertThat(n.get(7).doubleValue()).isEqualTo(1000.5);
    for (int i = 8; i < n.size(); i++) {
      assertThat(n.get(i).isTextual()).as("item %d", i).isTrue();
    }
    assertThat(n.get(8).textValue()).isEqualTo("1e400");
  }

  @Test
  void infinityAndNanAreRefusedLikeGoRefusesThemInJson() {
    assertThatThrownBy(() -> read("ratio: .inf\n")).isInstanceOf(Yaml.Unreadable.class)
        .hasMessageContaining(".inf is a YAML float that JSON cannot hold");
    assertThatThrownBy(() -> read("ratio: .NaN\n")).hasMessageContaining("quote it");
  }

  @Test
  void timestampsBaseSixtyAndAddressesAreStrings() throws Exception {
    JsonNode n = list("[2024-01-02, 2001-12-14t21:59:43.10-05:00, 1:20, 190:20:30, 1.2.3.4, 10.0.0.0/8, Infinity, NaN]");
    n.forEach(e -> assertThat(e.isTextual()).as(e.toString()).isTrue());
    assertThat(n.get(0).textValue()).isEqualTo("2024-01-02");
  }

  @Test
  void nullsAreTheGoNullSpellings() throws Exception {
    JsonNode n = read("a: ~\nb: Null\nc: NULL\nd:\ne: nULL\n");
    assertThat(n.get("a").isNull() && n.get("b").isNull() && n.get("c").isNull() && n.get("d").isNull()).isTrue();
    assertThat(n.get("e").textValue()).isEqualTo("nULL");
  }

  @Test
  void numberAndBooleanKeysBecomeTheStringsGoWrites() throws Exception {
    JsonNode n = read("{on: a, 0x10: b, 1e3: c, 1.5: d, 1e7: e, 'on': f}\n");
    assertThat(n.fieldNames()).toIterable().containsExactly("true", "16", "1000", "1.5", "1e+07", "on");
    assertThatThrownBy(() -> read("~: x\n")).hasMessageContaining("null key");
  }

  @Test
  void taggedScalarsKeepTheirTag() throws Exception {
    JsonNode n = read("a: !!str 0777\nb: !!str yes\n");
    assertThat(n.get("a").textValue()).isEqualTo("0777");
    assertThat(n.get("b").textValue()).isEqualTo("yes");
  }

  @Test
  void yesAndOnInABooleanFieldAreTrue() {
    VirtualService vs = only(parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: shop}
        spec:
          hosts: [reviews]
          http:
          - match: [{uri: {prefix: /a}, ignoreUriCase: yes}, {uri: {prefix: /b}, ignoreUriCase: on}]
            route: [{destination: {host: reviews}}]
        """), VirtualService.class);
    assertThat(vs.http().get(0).match()).extracting(VirtualService.HttpMatch::ignoreUriCase).containsExactly(true, true);
  }
}
