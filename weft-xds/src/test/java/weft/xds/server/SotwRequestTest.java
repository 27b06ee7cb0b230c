package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SotwRequestTest {
  private static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  @Test
  void readsEveryFieldAsProtobufDoes() throws IOException {
    Random random = new Random(7);
    for (int round = 0; round < 200; round++) {
      DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(EDS)
          .setVersionInfo("v" + random.nextInt(1000)).setResponseNonce(random.nextBoolean() ? "" : "n" + round);
      int names = random.nextInt(50);
      for (int i = 0; i < names; i++) b.addResourceNames("outbound|" + random.nextInt(9000) + "||svc-" + i + ".ns.svc.cluster.local\u00e9");
      if (random.nextBoolean()) {
        b.setNode(Node.newBuilder().setId("sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local").setCluster("c")
            .setMetadata(Struct.newBuilder().putFields("NAMESPACE", Value.newBuilder().setStringValue("ns").build())));
      }
      if (random.nextBoolean()) b.setErrorDetail(Status.newBuilder().setCode(3).setMessage("bad " + round));
      DiscoveryRequest expected = b.build();

      SotwRequest read = SotwRequest.parse(expected.toByteArray());

      assertThat(read.typeUrl()).isEqualTo(expected.getTypeUrl());
      assertThat(read.versionInfo()).isEqualTo(expected.getVersionInfo());
      assertThat(read.responseNonce()).isEqualTo(expected.getResponseNonce());
      assertThat(read.hasNode()).isEqualTo(expected.hasNode());
      assertThat(read.node()).isEqualTo(expected.getNode());
      assertThat(read.hasErrorDetail()).isEqualTo(expected.hasErrorDetail());
      assertThat(read.errorDetail()).isEqualTo(expected.getErrorDetail());
      assertThat(read.nameCount()).isEqualTo(expected.getResourceNamesCount());
      assertThat(read.names()).containsExactlyElementsOf(expected.getResourceNamesList());
    }
  }

  @Test
  void skipsFieldsItDoesNotReadWhereverTheyAre() throws IOException {
    // Names interleaved with other fields and with a field no version of the API has.
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeString(3, "a");
    out.writeString(4, EDS);
    out.writeUInt64(99, 12345);
    out.writeString(3, "b");
    out.writeBytes(98, ByteString.copyFromUtf8("opaque"));
    out.writeString(3, "c");
    out.flush();

    SotwRequest read = SotwRequest.parse(bytes.toByteArray());

    assertThat(read.names()).containsExactly("a", "b", "c");
    assertThat(read.typeUrl()).isEqualTo(EDS);
    assertThat(read.namesAre(SotwRequest.of(request("a", "b", "c")).wireNames())).isTrue();
  }

  @Test
  void readsLongNamesAndTagsWrittenInMoreBytesThanNeeded() throws IOException {
    String longName = "outbound|80||" + "x".repeat(200) + ".svc.cluster.local";
    String veryLong = "y".repeat(20_000);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeString(3, longName);
    out.writeString(3, veryLong);
    // Field 3's tag (0x1A) as two bytes: 0x9A 0x00.
    out.writeRawBytes(new byte[] {(byte) 0x9A, 0x00, 0x01, 'z'});
    out.writeString(4, EDS);
    out.flush();

    SotwRequest read = SotwRequest.parse(bytes.toByteArray());

    assertThat(read.names()).containsExactly(longName, veryLong, "z");
    assertThat(read.typeUrl()).isEqualTo(EDS);
  }

  @Test
  void comparesNamesInOrderOnTheirBytes() {
    SotwRequest first = SotwRequest.of(request("b", "a", "c"));
    SotwRequest.WireName[] order = first.wireNames();

    assertThat(SotwRequest.of(request("b", "a", "c")).namesAre(order)).isTrue();
    assertThat(SotwRequest.of(request("a", "b", "c")).namesAre(order)).as("another order").isFalse();
    assertThat(SotwRequest.of(request("b", "a")).namesAre(order)).as("fewer").isFalse();
    assertThat(SotwRequest.of(request("b", "a", "cc")).namesAre(order)).as("longer last name").isFalse();
    assertThat(SotwRequest.of(request("b", "a", "d")).namesAre(order)).as("same length, other bytes").isFalse();
    assertThat(SotwRequest.of(request()).namesAre(null)).as("nothing read before").isFalse();
    assertThat(SotwRequest.of(request()).namesAre(new SotwRequest.WireName[0])).isTrue();
  }

  @Test
  void streamsWithTheSameNamesShareOneCopyOfEach() {
    SotwRequest.WireName[] one = SotwRequest.of(request("x", "y")).wireNames();
    SotwRequest.WireName[] other = SotwRequest.of(request("y", "x")).wireNames();
    assertThat(one[0]).isSameAs(other[1]);
    assertThat(one[1]).isSameAs(other[0]);
  }

  @Test
  void aLongRunOfNamesIsHeldOnceAndItsAcksAreKnownByIdentity() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 300; i++) names.add("outbound|8080||svc-" + i + ".bench.svc.cluster.local");
    SotwRequest first = SotwRequest.of(request(names.toArray(String[]::new)));
    SotwRequest ack = SotwRequest.of(request(names.toArray(String[]::new)));

    assertThat(ack.wireNames()).as("the same run, one array").isSameAs(first.wireNames());
    assertThat(ack.namesAre(first.wireNames())).isTrue();

    List<String> oneChanged = new ArrayList<>(names);
    oneChanged.set(150, "outbound|8080||svc-150.bench.svc.cluster.locaL");
    SotwRequest other = SotwRequest.of(request(oneChanged.toArray(String[]::new)));
    assertThat(other.namesAre(first.wireNames())).as("a run of the same length and ends, one byte apart").isFalse();
    assertThat(other.wireNames()[0]).as("names are still shared one by one").isSameAs(first.wireNames()[0]);
  }

  @Test
  void heldRunsStayWithinTheirBound() throws IOException {
    NameRuns runs = new NameRuns(8);
    List<SotwRequest.WireName[]> held = new ArrayList<>();
    for (int round = 0; round < 50; round++) {
      String[] names = new String[40];
      for (int i = 0; i < names.length; i++) names[i] = "outbound|80||r" + round + "-" + i + ".ns.svc.cluster.local";
      byte[] wire = request(names).toByteArray();
      SotwRequest read = SotwRequest.parse(wire);
      assertThat(read.names()).containsExactly(names);
      // The run starts at the first name's tag: after the type URL and nonce fields.
      int from = 0;
      while (wire[from] != 0x1A) from += 2 + wire[from + 1];
      int to = from;
      while (to < wire.length && wire[to] == 0x1A) to += 2 + wire[to + 1];
      SotwRequest.Scratch scratch = SotwRequest.Scratch.get();
      int at = from;
      for (int i = 0; i < names.length; i++) {
        scratch.addName(i, at + 2, wire[at + 1]);
        at += 2 + wire[at + 1];
      }
      SotwRequest.WireName[] run = runs.names(wire, from, to, names.length, scratch);
      held.add(run);
      assertThat(run).hasSize(names.length);
      assertThat(runs.names(wire, from, to, names.length, scratch)).as("the same run again").isSameAs(run);
      assertThat(runs.hashes()).isLessThanOrEqualTo(8);
    }
  }

  @Test
  void runsAlikeAtBothEndsAndTheMiddleAreEachHeldAndFoundAgain() throws IOException {
    // Proxyless clients, each listing 100 services from its own starting place: runs of one length
    // and count whose first, middle and last bytes are the same for all of them.
    NameRuns runs = new NameRuns(4096);
    List<SotwRequest.WireName[]> first = new ArrayList<>();
    List<byte[]> wires = new ArrayList<>();
    for (int client = 0; client < 500; client++) {
      String[] names = new String[100];
      for (int i = 0; i < names.length; i++) {
        names[i] = String.format("outbound|8080||svc-%05d.bench.svc.cluster.local", (client * 7 + i) % 10_000);
      }
      names[50] = "outbound|8080||svc-shared.bench.svc.cluster.local";
      byte[] wire = request(names).toByteArray();
      wires.add(wire);
      first.add(runOf(runs, wire, names.length));
    }
    for (int client = 0; client < wires.size(); client++) {
      assertThat(runOf(runs, wires.get(client), 100)).as("client %d's ACK", client).isSameAs(first.get(client));
    }
  }

  /** The interned run of a request written by {@link #request} with one-byte name lengths. */
  private static SotwRequest.WireName[] runOf(NameRuns runs, byte[] wire, int count) {
    int from = 0;
    while (wire[from] != 0x1A) from += 2 + wire[from + 1];
    SotwRequest.Scratch scratch = SotwRequest.Scratch.get();
    int at = from;
    for (int i = 0; i < count; i++) {
      scratch.addName(i, at + 2, wire[at + 1]);
      at += 2 + wire[at + 1];
    }
    return runs.names(wire, from, at, count, scratch);
  }

  @Test
  void aNameThatIsNotUtf8IsRefusedWhenRead() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeString(4, EDS);
    out.writeBytes(3, ByteString.copyFrom(new byte[] {'o', 'k', (byte) 0xC3}));
    out.flush();

    SotwRequest read = SotwRequest.parse(bytes.toByteArray());

    assertThatThrownBy(read::names).isInstanceOf(InvalidProtocolBufferException.class);
  }

  @Test
  void bytesThatAreNoRequestFailTheCallAsProtobufWould() {
    List<byte[]> broken = new ArrayList<>();
    broken.add(new byte[] {0x1A, 0x7F, 'a'}); // a name longer than the message
    broken.add(new byte[] {0x22, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}); // bad varint
    broken.add(new byte[] {0x22, 0x02, (byte) 0xC3, 0x28}); // a type URL that is not UTF-8
    broken.add(new byte[] {0x12, 0x03, 0x0A, 0x05, 'x'}); // a node cut short
    broken.add(new byte[] {0x1A, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}); // length too long
    broken.add(new byte[] {0x1A, (byte) 0x80}); // length cut short
    broken.add(new byte[] {0x00, 0x01}); // field 0
    broken.add(new byte[] {0x0C}); // a stray end-group tag
    for (byte[] wire : broken) {
      assertThatThrownBy(() -> SotwRequest.MARSHALLER.parse(new ByteArrayInputStream(wire)))
          .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INTERNAL");
    }
  }

  private static DiscoveryRequest request(String... names) {
    return DiscoveryRequest.newBuilder().setTypeUrl(EDS).setResponseNonce("1").addAllResourceNames(List.of(names)).build();
  }
}
