package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Hostile packets over raw sockets. "Nothing" is checked without a time window: after each bad packet
 * the same socket sends a good query, and the server (one UDP thread, in order) must answer that one;
 * whatever came before it must be an error answer to the bad packet's id.
 */
class DnsBadInputTest {
  private static final int GOOD_ID = 0x4242;
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private DnsServer server;

  @BeforeEach
  void start() throws Exception {
    MeshNames names = MeshNames.compile(Tables.mesh(), "default");
    server = DnsServer.builder().address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .names(c -> names).rateLimit(20, 20).tcpConnections(8, 4).tcpIdleTimeout(Duration.ofSeconds(30))
        .nanoTime(clock::get) // the rate limiter's clock stands still: no refill unless the test moves it
        .start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static byte[] goodQuery(int id) throws Exception {
    Message q = Message.newQuery(Record.newRecord(Name.fromString("echo.default.svc.cluster.local."), Type.A, DClass.IN));
    q.getHeader().setID(id);
    return q.toWire();
  }

  /** Sends {@code bad}, then a good query; returns what arrived before the good query's answer. */
  private List<Message> sendThenProbe(byte[] bad) throws Exception {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      s.setSoTimeout(10_000);
      s.send(new DatagramPacket(bad, bad.length, server.address()));
      byte[] good = goodQuery(GOOD_ID);
      s.send(new DatagramPacket(good, good.length, server.address()));
      List<Message> before = new ArrayList<>();
      while (true) {
        DatagramPacket p = new DatagramPacket(new byte[4096], 4096);
        s.receive(p);
        Message m = new Message(Arrays.copyOf(p.getData(), p.getLength()));
        if (m.getHeader().getID() == GOOD_ID && m.getRcode() == Rcode.NOERROR) {
          assertThat(m.getSection(Section.ANSWER)).hasSize(1);
          return before;
        }
        before.add(m);
      }
    }
  }

  private static byte[] header(int id, int flags, int qd, int an, int ns, int ar) {
    return new byte[] {(byte) (id >> 8), (byte) id, (byte) (flags >> 8), (byte) flags, 0, (byte) qd, 0, (byte) an,
        0, (byte) ns, 0, (byte) ar};
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static void assertOnlyError(List<Message> before, int id, int rcode) {
    assertThat(before).allSatisfy(m -> {
      assertThat(m.getHeader().getID()).isEqualTo(id);
      assertThat(m.getHeader().getFlag(Flags.QR)).isTrue();
      assertThat(m.getRcode()).isEqualTo(rcode);
      assertThat(m.getSection(Section.ANSWER)).isEmpty();
    });
  }

  @Test
  void textThatIsNotDnsGetsAnErrorOrNothing() throws Exception {
    byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    List<Message> before = sendThenProbe(http);
    assertThat(before).allSatisfy(m -> assertThat(m.getRcode()).isIn(Rcode.FORMERR, Rcode.NOTIMP));
    assertThat(sendThenProbe(new byte[] {1, 2, 3})).isEmpty();
    assertThat(sendThenProbe(new byte[0])).isEmpty();
  }

  @Test
  void aTruncatedQueryIsFormerr() throws Exception {
    byte[] q = goodQuery(0x1111);
    List<Message> before = sendThenProbe(Arrays.copyOf(q, 20)); // cut inside the name
    assertThat(before).hasSize(1);
    assertOnlyError(before, 0x1111, Rcode.FORMERR);
  }

  @Test
  void aNameLongerThan255BytesIsFormerr() throws Exception {
    ByteArrayOutputStream name = new ByteArrayOutputStream();
    for (int i = 0; i < 5; i++) { // 5 labels of 63 bytes: 320 bytes
      name.write(63);
      name.writeBytes("a".repeat(63).getBytes(StandardCharsets.US_ASCII));
    }
    name.write(0);
    byte[] packet = concat(header(0x2222, 0x0100, 1, 0, 0, 0), name.toByteArray(), new byte[] {0, 1, 0, 1});
    List<Message> before = sendThenProbe(packet);
    assertThat(before).hasSize(1);
    assertOnlyError(before, 0x2222, Rcode.FORMERR);
  }

  @Test
  void aCompressionPointerLoopIsFormerr() throws Exception {
    // The question's name is a pointer to offset 12: itself.
    byte[] selfLoop = concat(header(0x3333, 0x0100, 1, 0, 0, 0), new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1});
    assertOnlyError(sendThenProbe(selfLoop), 0x3333, Rcode.FORMERR);
    // Two labels pointing at each other: "a" then a pointer back to 12, and the question pointing forward.
    byte[] twoStep = concat(header(0x3334, 0x0100, 1, 0, 0, 0),
        new byte[] {1, 'a', (byte) 0xC0, 14, (byte) 0xC0, 12, 0, 1, 0, 1});
    assertOnlyError(sendThenProbe(twoStep), 0x3334, Rcode.FORMERR);
  }

  @Test
  void answersAndOtherOpcodesAreNotAnswered() throws Exception {
    byte[] response = goodQuery(0x5555);
    response[2] |= (byte) 0x80; // QR: an answer, maybe spoofed to make two servers talk forever
    assertThat(sendThenProbe(response)).isEmpty();

    Message update = Message.newQuery(Record.newRecord(Name.fromString("echo.default.svc.cluster.local."), Type.A,
        DClass.IN));
    update.getHeader().setID(0x5556);
    update.getHeader().setOpcode(Opcode.UPDATE);
    assertOnlyError(sendThenProbe(update.toWire()), 0x5556, Rcode.NOTIMP);

    byte[] twoQuestions = goodQuery(0x5557);
    twoQuestions[5] = 2; // QDCOUNT 2 with one question present: parsing fails or counts disagree
    assertOnlyError(sendThenProbe(twoQuestions), 0x5557, Rcode.FORMERR);

    Message chaos = Message.newQuery(Record.newRecord(Name.fromString("version.bind."), Type.TXT, DClass.CH));
    chaos.getHeader().setID(0x5558);
    assertOnlyError(sendThenProbe(chaos.toWire()), 0x5558, Rcode.REFUSED);
  }

  @Test
  void aFloodFromOneSourceIsCutAtItsRateAndOthersAreStillAnswered() throws Exception {
    int flood = 100;
    try (DatagramSocket flooder = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        DatagramSocket other = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0))) {
      flooder.setReceiveBufferSize(1 << 20);
      flooder.setSoTimeout(10_000);
      other.setSoTimeout(10_000);
      for (int i = 0; i < flood; i++) {
        byte[] q = goodQuery(i);
        flooder.send(new DatagramPacket(q, q.length, server.address()));
      }
      // Another source sent after the flood is answered: the flood cost it nothing.
      await().atMost(Duration.ofSeconds(60)).until(() -> server.queries() >= flood);
      byte[] q = goodQuery(GOOD_ID);
      other.send(new DatagramPacket(q, q.length, server.address()));
      DatagramPacket p = new DatagramPacket(new byte[512], 512);
      other.receive(p);
      assertThat(new Message(Arrays.copyOf(p.getData(), p.getLength())).getHeader().getID()).isEqualTo(GOOD_ID);
      assertThat(server.rateLimited()).isEqualTo(flood - 20);
      for (int i = 0; i < 20; i++) { // the burst's worth was answered
        DatagramPacket a = new DatagramPacket(new byte[512], 512);
        flooder.receive(a);
        assertThat(new Message(Arrays.copyOf(a.getData(), a.getLength())).getHeader().getID()).isEqualTo(i);
      }
      // Time refills the bucket: the flooder is answered again.
      clock.addAndGet(1_000_000_000L);
      byte[] again = goodQuery(GOOD_ID);
      flooder.send(new DatagramPacket(again, again.length, server.address()));
      DatagramPacket a = new DatagramPacket(new byte[512], 512);
      flooder.receive(a);
      assertThat(new Message(Arrays.copyOf(a.getData(), a.getLength())).getHeader().getID()).isEqualTo(GOOD_ID);
    }
  }

  @Test
  void tcpGarbageAndTooManyConnectionsCloseConnectionsButTheServerKeepsAnswering() throws Exception {
    // A zero length prefix, then a length with fewer bytes behind it than it promises.
    try (Socket s = new Socket(server.address().getAddress(), server.port())) {
      new DataOutputStream(s.getOutputStream()).writeShort(0);
      assertThat(s.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
    }
    try (Socket s = new Socket(server.address().getAddress(), server.port())) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeShort(300);
      out.write(new byte[10]);
      s.shutdownOutput();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    // Over 4 connections from one source: the fifth is closed at once.
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        open.add(new Socket(server.address().getAddress(), server.port()));
      }
      // The server may not have taken in all four yet (it accepts on its own thread): a probe it
      // accepted as an ordinary connection gets no answer, so each probe waits briefly and the
      // next one tries again, until one is refused.
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        try (Socket extra = new Socket(server.address().getAddress(), server.port())) {
          extra.setSoTimeout(1_000);
          return extra.getInputStream().read() == -1 && server.refusedConnections() > 0;
        } catch (java.net.SocketTimeoutException accepted) {
          return false;
        }
      });
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
    // And a well-formed query over TCP still gets its answer, once the server has seen those
    // connections close (it learns of a close asynchronously; until then it counts them).
    await().atMost(Duration.ofSeconds(60)).until(this::aGoodTcpQueryIsAnswered);
  }

  /** One well-formed query over a new TCP connection: true when it got its answer, false when the connection was refused. */
  private boolean aGoodTcpQueryIsAnswered() throws Exception {
    try (Socket s = new Socket(server.address().getAddress(), server.port())) {
      s.setSoTimeout(10_000);
      byte[] q = goodQuery(GOOD_ID);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeShort(q.length);
      out.write(q);
      DataInputStream in = new DataInputStream(s.getInputStream());
      byte[] answer = new byte[in.readUnsignedShort()];
      in.readFully(answer);
      assertThat(new Message(answer).getSection(Section.ANSWER)).hasSize(1);
      return true;
    } catch (EOFException | java.net.SocketException e) {
      return false;
    }
  }
}
