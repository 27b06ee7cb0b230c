package weft.xds.sds;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.ResourceId;
import weft.model.TlsSecret;
import weft.registry.MeshSnapshot;

/**
 * What {@code /debug/status} shows of the TLS Secrets it serves over SDS: namespace, name, what
 * they hold, the certificate's subject and validity. Never a certificate's or key's bytes.
 */
public final class SecretStatus {
  private SecretStatus() {}

  public static List<Map<String, Object>> of(MeshSnapshot snapshot, Instant now) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map.Entry<ResourceId, TlsSecret> e : new TreeMap<>(snapshot.secrets()).entrySet()) {
      TlsSecret s = e.getValue();
      if (!s.hasCertificate() && !s.hasCaCertificates()) continue; // not TLS material: nothing to say
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("namespace", e.getKey().namespace());
      m.put("name", e.getKey().name());
      m.put("certificate", s.hasCertificate());
      m.put("caCertificates", s.hasCaCertificates());
      if (s.hasCertificate()) {
        m.put("subject", s.subject());
        m.put("notAfter", s.notAfter().toString());
        m.put("valid", now.isBefore(s.notAfter()));
      }
      out.add(m);
    }
    return out;
  }
}
