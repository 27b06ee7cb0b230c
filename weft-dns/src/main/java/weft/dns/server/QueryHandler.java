package weft.dns.server;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Turns one query packet into at most one answer packet: mesh names from the client's {@link
 * MeshNames} (authoritative), names under the mesh's own zones that nobody serves as NXDOMAIN (never
 * asked upstream), everything else from the upstream resolvers. Parsing is dnsjava's, which rejects
 * truncated packets, names over 255 bytes and compression pointers that do not point backwards; such a
 * packet gets FORMERR when its header can be read, nothing otherwise. A packet with QR set (an answer,
 * perhaps spoofed to start a loop) gets nothing.
 */
final class QueryHandler {
  private static final System.Logger LOG = System.getLogger(QueryHandler.class.getName());
  /** The smallest UDP size every DNS client accepts (RFC 1035). */
  static final int MIN_UDP_SIZE = 512;
  /** The most we send over UDP whatever a client's EDNS0 says: the DNS Flag Day 2020 value, unfragmented. */
  static final int MAX_UDP_SIZE = 1232;
  /** A TCP message's length prefix is 16 bits. */
  static final int MAX_TCP_SIZE = 65535;
  /** TTL of mesh answers: Istio's DNS proxy uses 30 s; short enough to follow a table change. */
  static final long MESH_TTL = 30;

  private final ClientNames names;
  private final Forwarder forwarder; // null: no upstream, non-mesh names are REFUSED
  private final List<Name> meshZones;

  QueryHandler(ClientNames names, Forwarder forwarder, List<Name> meshZones) {
    this.names = names;
    this.forwarder = forwarder;
    this.meshZones = List.copyOf(meshZones);
  }

  /**
   * The answer to {@code packet[0, length)} from {@code source}: the bytes to send back, or null when
   * nothing is to be sent. It completes later, on another thread, when the question went upstream.
   */
  CompletableFuture<byte[]> handle(byte[] packet, int length, InetAddress source, boolean tcp) {
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    if (length < Header.LENGTH) {
      return CompletableFuture.completedFuture(null); // not even a header: nothing to answer to
    }
    byte[] bytes = length == packet.length ? packet : Arrays.copyOf(packet, length);
    Header header;
    try {
      header = new Header(bytes);
    } catch (IOException e) {
      return CompletableFuture.completedFuture(null);
    }
    if (header.getFlag(Flags.QR)) {
      return CompletableFuture.completedFuture(null);
    }
    try {
      answer(bytes, header, source, tcp, result::complete);
    } catch (RuntimeException e) {
      // A bug here must cost one answer, not the listener.
      LOG.log(System.Logger.Level.WARNING, "cannot answer a query from " + source + ": " + e, e);
      result.complete(bare(header, Rcode.SERVFAIL));
    }
    return result;
  }

  private void answer(byte[] bytes, Header header, InetAddress source, boolean tcp, Consumer<byte[]> reply) {
    Message query;
    try {
      query = new Message(bytes);
    } catch (IOException | RuntimeException e) {
      reply.accept(bare(header, Rcode.FORMERR));
      return;
    }
    if (header.getOpcode() != Opcode.QUERY) {
      reply.accept(bare(header, Rcode.NOTIMP));
      return;
    }
    Record question = query.getQuestion();
    if (header.getCount(Section.QUESTION) != 1 || question == null || optCount(query) > 1) {
      reply.accept(bare(header, Rcode.FORMERR));
      return;
    }
    OPTRecord opt = query.getOPT();
    int maxSize = tcp ? MAX_TCP_SIZE : MIN_UDP_SIZE;
    if (opt != null) {
      if (!opt.getName().equals(Name.root)) {
        reply.accept(bare(header, Rcode.FORMERR));
        return;
      }
      if (!tcp) {
        maxSize = Math.max(MIN_UDP_SIZE, Math.min(opt.getPayloadSize(), MAX_UDP_SIZE));
      }
      if (opt.getVersion() != 0) {
        Message m = response(header, question, opt);
        setRcode(m, Rcode.BADVERS);
        reply.accept(m.toWire(maxSize));
        return;
      }
    }
    int type = question.getType();
    if (question.getDClass() != DClass.IN || type == Type.AXFR || type == Type.IXFR || type == Type.MAILA
        || type == Type.MAILB) {
      Message m = response(header, question, opt);
      setRcode(m, question.getDClass() != DClass.IN ? Rcode.REFUSED : Rcode.NOTIMP);
      reply.accept(m.toWire(maxSize));
      return;
    }
    Message answer = meshAnswer(names.forClient(source), header, question, opt);
    if (answer != null) {
      reply.accept(answer.toWire(maxSize));
      return;
    }
    forward(header, question, opt, maxSize, reply);
  }

  /** The answer from the mesh's names, or null when the name is not the mesh's to answer. */
  private Message meshAnswer(MeshNames table, Header header, Record question, OPTRecord opt) {
    Name name = question.getName();
    int type = question.getType();
    if (type == Type.PTR) {
      List<Name> hosts = table.reverse(name);
      if (!hosts.isEmpty()) {
        Message m = authoritative(header, question, opt);
        for (Name host : hosts) {
          m.addRecord(new PTRRecord(name, DClass.IN, MESH_TTL, host), Section.ANSWER);
        }
        return m;
      }
      return null;
    }
    MeshNames.Host host = table.lookup(name);
    if (host != null) {
      Message m = authoritative(header, question, opt);
      if (type == Type.A || type == Type.ANY) {
        addAddresses(m, name, host, true, false, Section.ANSWER);
      }
      if (type == Type.AAAA || type == Type.ANY) {
        addAddresses(m, name, host, false, true, Section.ANSWER);
      }
      return m; // any other type: the name exists, no data of that type (NOERROR, empty)
    }
    if (type == Type.SRV || type == Type.ANY) {
      Message srv = srvAnswer(table, header, question, opt);
      if (srv != null) {
        return srv;
      }
    }
    if (inMeshZone(name)) {
      Message m = authoritative(header, question, opt);
      setRcode(m, Rcode.NXDOMAIN);
      return m;
    }
    return null;
  }

  /**
   * {@code _PORT._PROTO.HOST} (Kubernetes' SRV form; the host in any search form): one SRV record
   * per matching port, targeting the host's full name, with its addresses as additional records.
   */
  private Message srvAnswer(MeshNames table, Header header, Record question, OPTRecord opt) {
    Name name = question.getName();
    if (name.labels() < 4) {
      return null;
    }
    String portLabel = name.getLabelString(0).toLowerCase(java.util.Locale.ROOT);
    String protoLabel = name.getLabelString(1).toLowerCase(java.util.Locale.ROOT);
    if (!portLabel.startsWith("_") || !(protoLabel.equals("_tcp") || protoLabel.equals("_udp"))) {
      return null;
    }
    MeshNames.Host host = table.lookup(new Name(name, 2));
    if (host == null) {
      return null;
    }
    Message m = authoritative(header, question, opt);
    boolean udp = protoLabel.equals("_udp");
    String portName = portLabel.substring(1);
    for (MeshNames.Port p : host.ports()) {
      if (p.name().equals(portName) && p.udp() == udp) {
        m.addRecord(new SRVRecord(name, DClass.IN, MESH_TTL, 0, 100, p.number(), host.name()), Section.ANSWER);
      }
    }
    if (m.getSection(Section.ANSWER).isEmpty()) {
      setRcode(m, Rcode.NXDOMAIN); // as Kubernetes DNS: an unknown port name is no name at all
    } else {
      addAddresses(m, host.name(), host, true, true, Section.ADDITIONAL);
    }
    return m;
  }

  private void forward(Header header, Record question, OPTRecord opt, int maxSize, Consumer<byte[]> reply) {
    if (forwarder == null) {
      Message m = response(header, question, opt);
      setRcode(m, Rcode.REFUSED);
      reply.accept(m.toWire(maxSize));
      return;
    }
    AnswerCache.Key key = new AnswerCache.Key(question.getName(), question.getType(), question.getDClass());
    Message cached = forwarder.cached(key);
    if (cached != null) {
      reply.accept(fromUpstream(header, question, opt, cached).toWire(maxSize));
      return;
    }
    forwarder.resolve(key).whenComplete((upstream, error) -> {
      Message m;
      if (error != null) {
        m = response(header, question, opt);
        setRcode(m, Rcode.SERVFAIL);
      } else {
        m = fromUpstream(header, question, opt, upstream);
      }
      reply.accept(m.toWire(maxSize));
    });
  }

  /** Our answer with the upstream's rcode and records (not its OPT: EDNS is per hop). */
  private static Message fromUpstream(Header header, Record question, OPTRecord opt, Message upstream) {
    Message m = response(header, question, opt);
    setRcode(m, upstream.getRcode());
    for (int section : new int[] {Section.ANSWER, Section.AUTHORITY, Section.ADDITIONAL}) {
      for (Record r : upstream.getSection(section)) {
        if (!(r instanceof OPTRecord)) {
          m.addRecord(r, section);
        }
      }
    }
    return m;
  }

  private static void addAddresses(Message m, Name owner, MeshNames.Host host, boolean v4, boolean v6, int section) {
    if (v4) {
      for (var a : host.ipv4()) {
        m.addRecord(new ARecord(owner, DClass.IN, MESH_TTL, a), section);
      }
    }
    if (v6) {
      for (var a : host.ipv6()) {
        m.addRecord(new AAAARecord(owner, DClass.IN, MESH_TTL, a), section);
      }
    }
  }

  private boolean inMeshZone(Name name) {
    for (Name zone : meshZones) {
      if (name.subdomain(zone) && !name.equals(zone)) {
        return true;
      }
    }
    return false;
  }

  private static Message authoritative(Header query, Record question, OPTRecord opt) {
    Message m = response(query, question, opt);
    m.getHeader().setFlag(Flags.AA);
    return m;
  }

  /** QR, RA, the query's id, opcode and RD, its question, and an OPT when the query had one. */
  private static Message response(Header query, Record question, OPTRecord opt) {
    Message m = new Message(query.getID());
    Header h = m.getHeader();
    h.setFlag(Flags.QR);
    h.setFlag(Flags.RA);
    h.setOpcode(query.getOpcode());
    if (query.getFlag(Flags.RD)) {
      h.setFlag(Flags.RD);
    }
    if (question != null) {
      m.addRecord(question, Section.QUESTION);
    }
    if (opt != null) {
      m.addRecord(new OPTRecord(MAX_UDP_SIZE, 0, 0, 0), Section.ADDITIONAL);
    }
    return m;
  }

  /** Sets an rcode; one above 15 goes in the OPT's extended bits (RFC 6891). */
  private static void setRcode(Message m, int rcode) {
    m.getHeader().setRcode(rcode & 0xF);
    if (rcode > 0xF) {
      OPTRecord old = m.getOPT();
      if (old != null) {
        m.removeRecord(old, Section.ADDITIONAL);
      }
      m.addRecord(new OPTRecord(MAX_UDP_SIZE, rcode >>> 4, 0, 0), Section.ADDITIONAL);
    }
  }

  /** Header only: id, opcode, QR, RD copied, and the rcode. */
  private static byte[] bare(Header query, int rcode) {
    Message m = response(query, null, null);
    m.getHeader().setRcode(rcode);
    return m.toWire(MIN_UDP_SIZE);
  }

  private static int optCount(Message m) {
    int n = 0;
    for (Record r : m.getSection(Section.ADDITIONAL)) {
      if (r instanceof OPTRecord) {
        n++;
      }
    }
    return n;
  }
}
