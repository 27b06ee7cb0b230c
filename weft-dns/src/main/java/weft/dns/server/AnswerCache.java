package weft.dns.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;

/**
 * Upstream answers kept for their TTL, bounded by entries and by bytes (least recently used goes
 * first). A hit is handed out with its TTLs lowered by the time it has spent here. Answers that name no
 * lifetime (SERVFAIL, a negative answer without SOA) are not kept; negative answers live as long as
 * their SOA says (RFC 2308), within {@link #maxNegativeTtl}.
 */
final class AnswerCache {
  /** What an answer is cached under: the question. */
  record Key(Name name, int type, int dclass) {
    Key {
      name = name.canonicalize();
    }
  }

  /** An answer: its sections (OPT apart), its rcode and when it was stored. */
  private record Entry(int rcode, List<Record> answer, List<Record> authority, List<Record> additional,
      long storedNanos, long ttlSeconds, int bytes) {}

  private final int maxEntries;
  private final long maxBytes;
  private final long maxTtl;
  private final long maxNegativeTtl;
  private final LongSupplier nanos;
  // Guarded by this.
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;

  AnswerCache(int maxEntries, long maxBytes, long maxTtl, long maxNegativeTtl, LongSupplier nanos) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.maxTtl = maxTtl;
    this.maxNegativeTtl = maxNegativeTtl;
    this.nanos = nanos;
  }

  /** Keeps {@code response} (an upstream's answer to {@code key}) if it says how long it may be kept. */
  void put(Key key, Message response) {
    if (maxEntries == 0) {
      return;
    }
    int rcode = response.getRcode();
    List<Record> answer = response.getSection(Section.ANSWER);
    List<Record> authority = response.getSection(Section.AUTHORITY);
    long ttl;
    if (rcode == Rcode.NOERROR && !answer.isEmpty()) {
      ttl = Math.min(maxTtl, minTtl(answer));
    } else if (rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) {
      ttl = Math.min(maxNegativeTtl, negativeTtl(authority));
    } else {
      return;
    }
    if (ttl <= 0) {
      return;
    }
    List<Record> additional = new ArrayList<>();
    for (Record r : response.getSection(Section.ADDITIONAL)) {
      if (!(r instanceof OPTRecord)) {
        additional.add(r);
      }
    }
    int size = Math.max(response.numBytes(), 64);
    Entry e = new Entry(rcode, List.copyOf(answer), List.copyOf(authority), List.copyOf(additional),
        nanos.getAsLong(), ttl, size);
    synchronized (this) {
      Entry old = entries.put(key, e);
      if (old != null) {
        bytes -= old.bytes();
      }
      bytes += size;
      var it = entries.entrySet().iterator();
      while ((entries.size() > maxEntries || bytes > maxBytes) && it.hasNext()) {
        Map.Entry<Key, Entry> eldest = it.next();
        bytes -= eldest.getValue().bytes();
        it.remove();
      }
    }
  }

  /**
   * A fresh copy of the answer to {@code key} with its TTLs lowered by its age (rcode and sections
   * only: the caller sets header and question), or null.
   */
  Message get(Key key) {
    Entry e;
    long now = nanos.getAsLong();
    synchronized (this) {
      e = entries.get(key);
      if (e == null) {
        return null;
      }
      if (now - e.storedNanos() >= e.ttlSeconds() * 1_000_000_000L) {
        entries.remove(key);
        bytes -= e.bytes();
        return null;
      }
    }
    long age = (now - e.storedNanos()) / 1_000_000_000L;
    Message m = new Message();
    m.getHeader().setRcode(e.rcode());
    copy(e.answer(), Section.ANSWER, age, m);
    copy(e.authority(), Section.AUTHORITY, age, m);
    copy(e.additional(), Section.ADDITIONAL, age, m);
    return m;
  }

  synchronized int size() {
    return entries.size();
  }

  synchronized long bytes() {
    return bytes;
  }

  private static void copy(List<Record> records, int section, long age, Message into) {
    for (Record r : records) {
      long ttl = Math.max(0, r.getTTL() - age);
      // dnsjava's records are immutable from outside its package: rebuild with the lowered TTL.
      into.addRecord(Record.newRecord(r.getName(), r.getType(), r.getDClass(), ttl, r.rdataToWireCanonical()),
          section);
    }
  }

  private static long minTtl(List<Record> records) {
    long min = Long.MAX_VALUE;
    for (Record r : records) {
      min = Math.min(min, r.getTTL());
    }
    return min;
  }

  /** RFC 2308: the smaller of the SOA's own TTL and its MINIMUM field; nothing without an SOA. */
  private static long negativeTtl(List<Record> authority) {
    for (Record r : authority) {
      if (r instanceof SOARecord soa) {
        return Math.min(soa.getTTL(), soa.getMinimum());
      }
    }
    return 0;
  }
}
