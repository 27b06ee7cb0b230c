package weft.dns.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

class AnswerCacheTest {
  private final AtomicLong nanos = new AtomicLong();
  private static final long SECOND = 1_000_000_000L;

  private static Message answer(String name, long ttl) throws Exception {
    Message m = new Message();
    m.addRecord(new ARecord(Name.fromString(name), DClass.IN, ttl, InetAddress.getByName("192.0.2.1")), Section.ANSWER);
    return m;
  }

  private static AnswerCache.Key key(String name) {
    return new AnswerCache.Key(Name.fromConstantString(name), Type.A, DClass.IN);
  }

  @Test
  void aHitCarriesItsRemainingTtlAndExpires() throws Exception {
    AnswerCache cache = new AnswerCache(10, 1 << 20, 3600, 300, nanos::get);
    cache.put(key("a.example."), answer("a.example.", 60));
    nanos.addAndGet(25 * SECOND);
    assertThat(cache.get(key("A.EXAMPLE.")).getSection(Section.ANSWER).get(0).getTTL()).isEqualTo(35);
    nanos.addAndGet(35 * SECOND);
    assertThat(cache.get(key("a.example."))).isNull();
    assertThat(cache.size()).isZero();
  }

  @Test
  void negativeAnswersLiveAsTheirSoaSaysAndFailuresNotAtAll() throws Exception {
    AnswerCache cache = new AnswerCache(10, 1 << 20, 3600, 300, nanos::get);
    Message nx = new Message();
    nx.getHeader().setRcode(Rcode.NXDOMAIN);
    Name zone = Name.fromConstantString("example.");
    nx.addRecord(new SOARecord(zone, DClass.IN, 900, zone, zone, 1, 2, 3, 4, 20), Section.AUTHORITY);
    cache.put(key("gone.example."), nx);
    nanos.addAndGet(19 * SECOND);
    assertThat(cache.get(key("gone.example.")).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    nanos.addAndGet(SECOND);
    assertThat(cache.get(key("gone.example."))).isNull();

    Message servfail = new Message();
    servfail.getHeader().setRcode(Rcode.SERVFAIL);
    cache.put(key("broken.example."), servfail);
    Message nxNoSoa = new Message();
    nxNoSoa.getHeader().setRcode(Rcode.NXDOMAIN);
    cache.put(key("nosoa.example."), nxNoSoa);
    assertThat(cache.size()).isZero();
  }

  @Test
  void entriesAndBytesAreBoundedLeastRecentlyUsedFirst() throws Exception {
    AnswerCache cache = new AnswerCache(2, 1 << 20, 3600, 300, nanos::get);
    cache.put(key("a.example."), answer("a.example.", 60));
    cache.put(key("b.example."), answer("b.example.", 60));
    cache.get(key("a.example."));
    cache.put(key("c.example."), answer("c.example.", 60));
    assertThat(cache.get(key("b.example."))).isNull();
    assertThat(cache.get(key("a.example."))).isNotNull();
    assertThat(cache.size()).isEqualTo(2);

    AnswerCache small = new AnswerCache(1000, 200, 3600, 300, nanos::get);
    for (int i = 0; i < 10; i++) {
      small.put(key("n" + i + ".example."), answer("n" + i + ".example.", 60));
    }
    assertThat(small.bytes()).isLessThanOrEqualTo(200);
  }
}
