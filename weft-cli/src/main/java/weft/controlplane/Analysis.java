package weft.controlplane;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.registry.MeshSnapshot;
import weft.registry.file.FileClusterSource;
import weft.security.trust.ForeignNamespaceRules;
import weft.xds.diag.AnalysisInput;
import weft.xds.diag.Finding;
import weft.xds.diag.MeshAnalyzer;

/**
 * Builds the input of {@link MeshAnalyzer} the same way for a running control plane and for
 * {@code weft analyze} on folders: the snapshot's problems plus the namespace-rule finding, the
 * files each resource came from, and the proxies' reports.
 */
public final class Analysis {
  private Analysis() {}

  /** The problems {@code /debug/status} shows: the snapshot's and the namespace-rule finding. */
  public static List<ConfigProblem> problems(MeshSnapshot s, java.util.Collection<String> foreignTrustDomains) {
    List<ConfigProblem> all = new ArrayList<>(s.problems());
    all.addAll(ForeignNamespaceRules.findings(s.config().authorizationPolicies(), foreignTrustDomains));
    return all;
  }

  /** Trust domains named by MeshConfig caCertificates that are neither ours nor an alias. */
  public static java.util.Set<String> foreignTrustDomains(MeshSnapshot s) {
    java.util.Set<String> domains = new java.util.TreeSet<>();
    s.meshConfig().caCertificates().forEach(c -> domains.addAll(c.trustDomains()));
    domains.remove(s.meshConfig().trustDomain());
    s.meshConfig().trustDomainAliases().forEach(domains::remove);
    return domains;
  }

  /** Resource → the files that declare it, over folders of several clusters (in the order given). */
  public static Map<ResourceId, List<weft.xds.diag.ResourceOrigin>> origins(List<FileClusterSource> sources) {
    Map<ResourceId, List<weft.xds.diag.ResourceOrigin>> out = new TreeMap<>();
    for (FileClusterSource source : sources) {
      source.declaringFiles().forEach((id, files) -> {
        List<weft.xds.diag.ResourceOrigin> list = out.computeIfAbsent(id, k -> new ArrayList<>());
        for (String f : files) list.add(new weft.xds.diag.ResourceOrigin(source.clusterId(), f));
      });
    }
    return out;
  }

  /** The JSON of {@code /debug/analyze}: the findings, and how many inputs could not be read at all. */
  public static Map<String, Object> toJson(AnalysisInput input, List<Finding> findings) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("snapshotVersion", input.snapshot().version());
    out.put("proxies", input.proxies().size());
    out.put("unreadable", input.problems().stream().filter(MeshAnalyzer::unreadable).count());
    out.put("findings", findings.stream().map(Finding::toMap).toList());
    return out;
  }
}
