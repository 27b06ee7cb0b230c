package weft.xds.security;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.model.MeshConfig;
import weft.registry.MeshService;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.view.ProxyView;

/**
 * Whether a client originates Istio mTLS to one cluster ({@code outbound|PORT|SUBSET|HOST}), and
 * which identities it accepts from the server.
 *
 * <p>The DestinationRule's {@code tls} (subset port-level, subset, rule port-level, rule) decides
 * when set: ISTIO_MUTUAL originates mTLS, DISABLE does not, SIMPLE and MUTUAL originate TLS with
 * the rule's own certificates ({@link #origination}) where the client can honour them, and a cluster
 * a client cannot honour them for is left out of its config ({@link #refusal}), never sent as
 * plaintext. Without one, auto mTLS decides as Istio's does, sending
 * mTLS exactly when the servers will take it. Per endpoint (its namespace, labels and target port):
 * STRICT takes only mTLS; DISABLE only plaintext; PERMISSIVE takes mTLS when the workload is in the
 * mesh ({@code security.istio.io/tlsMode: istio}), since an Envoy sidecar accepts both and a
 * proxyless server labelled so serves mTLS, and plaintext otherwise. Istio's Envoy decides this per
 * endpoint with transport-socket matches; grpc-java rejects those ({@code transport-socket-matches
 * not supported}), so Weft decides per cluster for both kinds of client: mTLS when every endpoint
 * takes it, plaintext when none does, and plaintext with a recorded reason when they disagree (a
 * DestinationRule then decides). A cluster without endpoints, or of a MESH_EXTERNAL service, is
 * plaintext.
 */
public final class UpstreamTls {
  private UpstreamTls() {}

  /** Istio mTLS to a cluster: the server identities to accept (empty: any the mesh roots signed) and the SNI (maybe empty). */
  public record Mtls(List<String> subjectAltNames, String sni) {
    public Mtls {
      subjectAltNames = List.copyOf(subjectAltNames);
      sni = sni == null ? "" : sni;
    }
  }

  /**
   * The mTLS the client originates to this cluster, or null for plaintext; reasons for anything
   * surprising are recorded in the view under the cluster's name.
   */
  public static Mtls decide(ProxyView view, ServiceView sv, int port, String subset, DestinationRule dr,
      String clusterName) {
    return decide(view.snapshot().meshConfig(), view.securityPolicies(), view::drop, sv, port, subset, dr, clusterName);
  }

  /**
   * The same from what it reads of the snapshot alone: it depends on no proxy attribute, so a
   * result is shared by every proxy that resolves the same DestinationRule.
   */
  public static Mtls decide(MeshConfig mesh, SecurityPolicies policies, java.util.function.BiConsumer<String, String> drop,
      ServiceView sv, int port, String subset, DestinationRule dr, String clusterName) {
    MeshService s = sv.service();
    DestinationRule.Tls tls = tls(dr, port, subset);
    if (tls != null && tls.mode() != null) {
      switch (tls.mode()) {
        case "ISTIO_MUTUAL" -> {
          List<String> sans = tls.subjectAltNames().isEmpty()
              ? Identities.of(mesh, s.namespace(), sv.endpoints()) : tls.subjectAltNames();
          return new Mtls(sans, tls.sni());
        }
        case "DISABLE" -> {
          return null;
        }
        default -> {
          // SIMPLE and MUTUAL: not Istio mTLS; generators build them from origination().
          return null;
        }
      }
    }
    if (s.meshExternal()) return null;
    DestinationRule.Subset sub = subset(dr, subset);
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    for (WorkloadEndpoint e : sv.endpoints()) {
      if (e.servicePort() != port) continue;
      if (sub != null && !Labels.matches(sub.labels(), e.labels())) continue;
      endpoints.add(e);
    }
    if (endpoints.isEmpty()) return null;
    String root = mesh.rootNamespace();
    Map<String, Boolean> memo = new HashMap<>();
    int mtls = 0;
    for (WorkloadEndpoint e : endpoints) {
      boolean wants = memo.computeIfAbsent(e.port() + "|" + new java.util.TreeMap<>(e.labels()), k -> {
        MtlsMode mode = PeerAuthentications.mode(policies, root, s.namespace(), e.labels(), e.port(), (a, b) -> { });
        return mode == MtlsMode.STRICT || (mode == MtlsMode.PERMISSIVE && Identities.inMesh(e.labels()));
      });
      if (wants) mtls++;
    }
    if (mtls == 0) return null;
    if (mtls < endpoints.size()) {
      drop.accept(clusterName, "auto mTLS: " + mtls + " of " + endpoints.size() + " endpoints take mTLS (STRICT, or "
          + "PERMISSIVE with label " + Identities.TLS_MODE_LABEL + "=istio) and the others plaintext; one cluster "
          + "has one TLS setting, so it is plaintext. Set a DestinationRule tls mode to choose");
      return null;
    }
    return new Mtls(Identities.of(mesh, s.namespace(), sv.endpoints()), "");
  }

  /**
   * Why the cluster {@code outbound|port|subset|…} must be left out for this proxy rather than sent
   * without the TLS its DestinationRule asks for, or null when Weft can produce that TLS.
   */
  public static String refusal(ProxyView view, DestinationRule dr, int port, String subset) {
    return refusal(view.proxy().proxyless(), view.proxy().servedSecrets(), dr, port, subset);
  }

  /**
   * The same for a kind of client. SIMPLE and MUTUAL are originated for Envoy from files on the
   * proxy, or with {@code credentialName} from a Kubernetes Secret over SDS, which Weft sends only
   * to a proxy that proved its identity on the secure port ({@code servedSecrets}); on the plaintext
   * port the cluster is left out. grpc-java 1.85 has no SDS, reads certificates only from its
   * bootstrap's certificate-provider instances (the mesh's own), validates against those or the
   * system roots, and cannot skip verification: a setting beyond that leaves the cluster out for
   * proxyless clients.
   */
  public static String refusal(boolean proxyless, boolean servedSecrets, DestinationRule dr, int port, String subset) {
    Chosen chosen = chosen(dr, port, subset);
    if (chosen == null || !chosen.tls().originates()) return null;
    DestinationRule.Tls tls = chosen.tls();
    String mode = tls.mode();
    String where = "DestinationRule " + dr.id().namespace() + "/" + dr.id().name() + " sets " + chosen.path() + " "
        + mode;
    String leftOut = "; the cluster is left out so calls fail instead of going out without that TLS";
    if (tls.credentialName() != null && proxyless) {
      return where + " with credentialName " + tls.credentialName() + ", a Secret sent over SDS, which proxyless "
          + "gRPC clients (grpc-java 1.85) do not support" + leftOut + ". Use SIMPLE with the system's roots (no "
          + "credentialName), or ISTIO_MUTUAL";
    }
    if (tls.credentialName() != null && !servedSecrets) {
      return where + " with credentialName " + tls.credentialName() + ", a Secret Weft sends over SDS only to a "
          + "proxy that proved its identity on the secure port (15012), and this one did not" + leftOut
          + ". Connect the proxy to the secure port with its workload certificate or token";
    }
    if (!proxyless) return null;
    List<String> gaps = proxylessGaps(tls);
    if (gaps.isEmpty()) return null;
    return where + " with " + String.join(", ", gaps) + ", which proxyless gRPC clients cannot honour (grpc-java "
        + "takes certificates only from its bootstrap's certificate providers and cannot skip verification)"
        + leftOut + ". Use SIMPLE with the system's roots (no caCertificates), or ISTIO_MUTUAL";
  }

  /** Whether any tls setting of the rule (rule, port-level, subsets) names a credentialName. */
  public static boolean namesCredential(DestinationRule dr) {
    if (dr == null) return false;
    if (namesCredential(dr.trafficPolicy())) return true;
    for (DestinationRule.Subset s : dr.subsets()) if (namesCredential(s.trafficPolicy())) return true;
    return false;
  }

  private static boolean namesCredential(DestinationRule.TrafficPolicy policy) {
    if (policy == null) return false;
    if (policy.tls() != null && policy.tls().credentialName() != null) return true;
    for (DestinationRule.TrafficPolicy p : policy.portLevelSettings()) {
      if (p.tls() != null && p.tls().credentialName() != null) return true;
    }
    return false;
  }

  private static List<String> proxylessGaps(DestinationRule.Tls tls) {
    List<String> gaps = new ArrayList<>();
    if (tls.insecureSkipVerify()) gaps.add("insecureSkipVerify");
    if (tls.caCertificates() != null) gaps.add("caCertificates " + tls.caCertificates());
    if (tls.clientCertificate() != null || tls.privateKey() != null) gaps.add("client certificate files");
    if (tls.caCrl() != null) gaps.add("caCrl");
    return gaps;
  }

  /**
   * The DestinationRule's SIMPLE or MUTUAL setting for this cluster (by Istio's precedence), or null
   * when the cluster does not originate TLS to a server with its own certificate.
   */
  public static DestinationRule.Tls origination(DestinationRule dr, int port, String subset) {
    DestinationRule.Tls tls = tls(dr, port, subset);
    return tls != null && tls.originates() ? tls : null;
  }

  /** A tls setting and the path of its mode field in the DestinationRule. */
  private record Chosen(DestinationRule.Tls tls, String path) {}

  /** The tls setting that applies, by {@link #tls}'s precedence, with where it is written. */
  private static Chosen chosen(DestinationRule dr, int port, String subset) {
    if (dr == null) return null;
    if (subset != null && !subset.isEmpty()) {
      for (int i = 0; i < dr.subsets().size(); i++) {
        DestinationRule.Subset s = dr.subsets().get(i);
        if (!s.name().equals(subset)) continue;
        Chosen c = chosen(s.trafficPolicy(), port, "spec.subsets[" + i + "].trafficPolicy");
        if (c != null) return c;
        break;
      }
    }
    return chosen(dr.trafficPolicy(), port, "spec.trafficPolicy");
  }

  private static Chosen chosen(DestinationRule.TrafficPolicy policy, int port, String path) {
    if (policy == null) return null;
    List<DestinationRule.TrafficPolicy> ports = policy.portLevelSettings();
    for (int i = 0; i < ports.size(); i++) {
      if (ports.get(i).port() == port && ports.get(i).tls() != null) {
        return new Chosen(ports.get(i).tls(), path + ".portLevelSettings[" + i + "].tls.mode");
      }
    }
    return policy.tls() == null ? null : new Chosen(policy.tls(), path + ".tls.mode");
  }

  /** Istio's precedence for the tls component: subset port-level, subset, rule port-level, rule. */
  static DestinationRule.Tls tls(DestinationRule dr, int port, String subset) {
    if (dr == null) return null;
    DestinationRule.Subset s = subset(dr, subset);
    DestinationRule.Tls tls = s == null ? null : tls(s.trafficPolicy(), port);
    return tls != null ? tls : tls(dr.trafficPolicy(), port);
  }

  private static DestinationRule.Tls tls(DestinationRule.TrafficPolicy policy, int port) {
    if (policy == null) return null;
    for (DestinationRule.TrafficPolicy p : policy.portLevelSettings()) {
      if (p.port() == port && p.tls() != null) return p.tls();
    }
    return policy.tls();
  }

  private static DestinationRule.Subset subset(DestinationRule dr, String name) {
    if (dr == null || name == null || name.isEmpty()) return null;
    for (DestinationRule.Subset s : dr.subsets()) {
      if (s.name().equals(name)) return s;
    }
    return null;
  }
}
