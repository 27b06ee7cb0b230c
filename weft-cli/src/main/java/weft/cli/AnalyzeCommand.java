package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.model.ClusterIds;
import weft.model.ConfigProblem;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.parse.MeshConfigParser;
import weft.model.parse.Parsed;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.registry.file.FileClusterSource;
import weft.controlplane.Analysis;
import weft.xds.Generators;
import weft.xds.diag.AnalysisInput;
import weft.xds.diag.AnalyzerCode;
import weft.xds.diag.Finding;
import weft.xds.diag.MeshAnalyzer;
import weft.xds.diag.Severity;
import weft.xds.diag.SimulatedProxies;

@Command(name = "analyze", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = {"Find problems in a mesh's configuration, like istioctl analyze: one line per finding with a "
        + "stable code, severity, resource and where it was declared (CLUSTER:FILE).",
        "Offline: give each cluster's folder with --config-dir DIR --cluster-id ID (repeatable; the first is the "
            + "config cluster, as control-plane --config-dir, the others as --remote-config-dir). Each workload "
            + "then stands for one proxy (an Envoy sidecar and a proxyless client) so that per-proxy drops are found "
            + "as a control plane would record them.",
        "Live (no --config-dir): ask the control plane at --control-plane; its connected proxies' drops and NACKs "
            + "are included.",
        "Exit codes: 0 nothing at --failure-threshold or above; 79 a finding reached it; 65 an input could not be "
            + "read at all (a file that is not YAML, a document without kind); 64 wrong usage; 1 anything else.",
        "Codes: see --list-codes."})
final class AnalyzeCommand implements Callable<Integer> {
  /** istioctl's exit codes (sysexits-style: EX_USAGE, EX_DATAERR; 79 "analyzer found issues"). */
  static final int EXIT_USAGE = 64;
  static final int EXIT_PARSE_ERROR = 65;
  static final int EXIT_FOUND = 79;

  /** One cluster's folder. */
  static final class ClusterFolder {
    @Option(names = "--config-dir", paramLabel = "DIR", required = true,
        description = "A cluster's state as YAML files (as control-plane --config-dir).")
    Path dir;

    @Option(names = "--cluster-id", paramLabel = "ID", required = true, description = "That cluster's id.")
    String clusterId;

    @Option(names = "--network", paramLabel = "ID",
        description = {"Network of that cluster's endpoints when nothing else names one.", "Default: none."})
    String network;

    @Option(names = "--mesh-config", paramLabel = "FILE", description = {"That cluster's MeshConfig YAML (its "
        + "trust domain is compared with the other clusters'; the first cluster's is the mesh's).",
        "Default: Istio's defaults (the first cluster's for the others)."})
    Path meshConfig;
  }

  @ArgGroup(exclusive = false, multiplicity = "0..*")
  List<ClusterFolder> folders = new ArrayList<>();

  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @Option(names = "--mesh-networks", paramLabel = "FILE",
      description = {"Offline: Istio MeshNetworks YAML.", "Default: none."})
  Path meshNetworks;

  @Option(names = "--system-namespace", paramLabel = "NS", defaultValue = "istio-system",
      description = "Offline: where the clusters' network label is read.")
  String systemNamespace;

  @Option(names = "--locality-failover-without-outlier-detection",
      description = "Offline: as the control-plane flag (failover applies without outlier detection). Default: off.")
  boolean failoverWithoutOutlierDetection;

  @Option(names = "--failure-threshold", paramLabel = "LEVEL", defaultValue = "ERROR",
      description = "Exit 79 when a finding has this severity or more: INFO, WARNING or ERROR.")
  String failureThreshold;

  @Option(names = "--output-threshold", paramLabel = "LEVEL", defaultValue = "INFO",
      description = "Print findings of this severity or more: INFO, WARNING or ERROR.")
  String outputThreshold;

  @Option(names = {"-o", "--output"}, defaultValue = "log", description = "log (one line per finding) or json.")
  String output;

  @Option(names = "--list-codes", description = "Print every analyzer code with its severity and meaning, and exit.")
  boolean listCodes;

  @picocli.CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if (listCodes) {
      for (AnalyzerCode c : AnalyzerCode.values()) out.printf("%-9s %-8s %s%n", c.name(), c.severity().label(), c.title());
      out.flush();
      return 0;
    }
    Severity failAt = level("--failure-threshold", failureThreshold);
    Severity showAt = level("--output-threshold", outputThreshold);
    if (!output.equals("log") && !output.equals("json")) throw usage("-o " + output + ": use log or json");
    boolean live = folders.isEmpty();
    if (!live && spec.commandLine().getParseResult().hasMatchedOption("--control-plane")) {
      throw usage("--config-dir analyzes folders offline and --control-plane a running control plane; give one");
    }
    List<Finding> findings = new ArrayList<>();
    long unreadable;
    long proxies;
    if (live) {
      JsonNode answer = address.getJson("/debug/analyze");
      for (JsonNode f : answer.path("findings")) {
        Severity s = Severity.parse(f.path("severity").asText("ERROR"));
        findings.add(new Finding(f.path("code").asText(), s == null ? Severity.ERROR : s, f.path("resource").asText(),
            f.path("origin").asText(), f.path("message").asText()));
      }
      unreadable = answer.path("unreadable").asLong();
      proxies = answer.path("proxies").asLong();
    } else {
      Offline result = offline();
      findings.addAll(result.findings());
      unreadable = result.unreadable();
      proxies = result.proxies();
    }
    List<Finding> shown = findings.stream().filter(f -> f.severity().compareTo(showAt) >= 0).toList();
    if (output.equals("json")) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("findings", shown.stream().map(Finding::toMap).toList());
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
    } else if (shown.isEmpty()) {
      out.println("✔ No validation issues found (" + (live ? "control plane " + address.address : folders.size()
          + " cluster folder(s)") + ", " + proxies + (live ? " connected" : " simulated") + " proxies).");
    } else {
      shown.forEach(f -> out.println(f.line()));
    }
    out.flush();
    if (unreadable > 0) {
      spec.commandLine().getErr().println("weft analyze: " + unreadable + " input(s) could not be read at all; see "
          + "the WEFT0001 findings without a resource");
      spec.commandLine().getErr().flush();
      return EXIT_PARSE_ERROR;
    }
    return findings.stream().anyMatch(f -> f.severity().compareTo(failAt) >= 0) ? EXIT_FOUND : 0;
  }

  private record Offline(List<Finding> findings, long unreadable, long proxies) {}

  /** The control plane's own reading of the folders: sources, registry, snapshot, generators. */
  private Offline offline() throws IOException {
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (ClusterFolder f : folders) {
      String problem = ClusterIds.problem(f.clusterId);
      if (problem != null) throw usage("--cluster-id: " + problem);
      if (!ids.add(f.clusterId)) throw usage("--cluster-id " + f.clusterId + " is given twice; one folder per cluster");
      if (!Files.isDirectory(f.dir)) {
        throw usage("--config-dir " + f.dir + " (cluster " + f.clusterId + ") is not a folder");
      }
    }
    Map<String, AnalysisInput.TrustDomain> trust = new LinkedHashMap<>();
    List<ConfigProblem> meshProblems = new ArrayList<>();
    MeshConfig meshConfig = null;
    for (ClusterFolder f : folders) {
      MeshConfig mc = f.meshConfig == null ? null : read(f.meshConfig, "--mesh-config",
          MeshConfigParser::parseMeshConfig, meshProblems);
      if (meshConfig == null && f == folders.get(0)) meshConfig = mc == null ? MeshConfig.defaults() : mc;
      if (mc != null || f == folders.get(0)) {
        MeshConfig own = mc == null ? meshConfig : mc;
        trust.put(f.clusterId, new AnalysisInput.TrustDomain(own.trustDomain(), own.trustDomainAliases()));
      }
    }
    try (Registry registry = new Registry()) {
      registry.setMeshConfig(meshConfig);
      if (meshNetworks != null) {
        MeshNetworks n = read(meshNetworks, "--mesh-networks", MeshConfigParser::parseMeshNetworks, meshProblems);
        if (n != null) registry.setMeshNetworks(n);
      }
      List<FileClusterSource> sources = new ArrayList<>();
      try {
        for (int i = 0; i < folders.size(); i++) {
          ClusterFolder f = folders.get(i);
          registry.addCluster(new ClusterSettings(f.clusterId, f.network == null ? "" : f.network, systemNamespace),
              i == 0);
          FileClusterSource source = new FileClusterSource(f.dir, f.clusterId, registry);
          sources.add(source);
          source.start();
        }
        registry.flush();
        MeshSnapshot snapshot = registry.current();
        List<ConfigProblem> problems = new ArrayList<>(meshProblems);
        problems.addAll(Analysis.problems(snapshot, Analysis.foreignTrustDomains(snapshot)));
        Generators generators = new Generators(failoverWithoutOutlierDetection);
        List<AnalysisInput.ProxyReport> reports = SimulatedProxies.reports(snapshot, generators);
        AnalysisInput input = new AnalysisInput(snapshot, problems, Analysis.origins(sources), reports, trust,
            failoverWithoutOutlierDetection);
        return new Offline(MeshAnalyzer.analyze(input), problems.stream().filter(MeshAnalyzer::unreadable).count(),
            reports.size());
      } finally {
        sources.forEach(FileClusterSource::close);
      }
    }
  }

  private interface MeshParser<T> {
    Parsed<T> parse(String file, String content);
  }

  private <T> T read(Path file, String flag, MeshParser<T> parser, List<ConfigProblem> problems) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw usage(flag + " " + file + ": cannot read (" + e.getMessage() + ")");
    }
    Parsed<T> parsed = parser.parse(file.toString(), text);
    problems.addAll(parsed.problems());
    return parsed.value();
  }

  private Severity level(String flag, String text) {
    Severity s = Severity.parse(text);
    if (s == null) throw usage(flag + " " + text + ": use INFO, WARNING or ERROR");
    return s;
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
}
