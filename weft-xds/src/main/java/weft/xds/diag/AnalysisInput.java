package weft.xds.diag;

import java.util.List;
import java.util.Map;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.registry.MeshSnapshot;

/**
 * Everything {@link MeshAnalyzer} reads. The same record is filled by the control plane (live) and
 * by {@code weft analyze --config-dir} (offline), from the same parsing and snapshot building, so
 * the two agree.
 *
 * @param problems the configuration problems to report: the snapshot's, plus findings the caller
 *     computes beside it (the namespace-rule finding); consumed by severity, never by message text
 * @param origins resource → where it was declared; more than one entry in one cluster means the
 *     name is declared twice
 * @param proxies connected proxies (live) or proxies simulated for each workload (offline)
 * @param trustDomains cluster → the trust domain its workloads' identities carry, with its aliases
 * @param failoverWithoutOutlierDetection the control plane's {@code --locality-failover-without-outlier-detection}
 */
public record AnalysisInput(MeshSnapshot snapshot, List<ConfigProblem> problems,
    Map<ResourceId, List<ResourceOrigin>> origins, List<ProxyReport> proxies,
    Map<String, TrustDomain> trustDomains, boolean failoverWithoutOutlierDetection) {
  public AnalysisInput {
    problems = List.copyOf(problems);
    origins = Map.copyOf(origins);
    proxies = List.copyOf(proxies);
    trustDomains = Map.copyOf(trustDomains);
  }

  /** What one proxy was not sent and why ({@code dropped}), and what it rejected ({@code nacks}). */
  public record ProxyReport(String id, Map<String, String> dropped, List<String> nacks) {
    public ProxyReport {
      dropped = Map.copyOf(dropped);
      nacks = List.copyOf(nacks);
    }
  }

  /** A cluster's trust domain and its aliases (MeshConfig trustDomain, trustDomainAliases). */
  public record TrustDomain(String trustDomain, List<String> aliases) {
    public TrustDomain {
      aliases = List.copyOf(aliases);
    }
  }
}
