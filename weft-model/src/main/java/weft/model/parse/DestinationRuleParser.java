package weft.model.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.DestinationRule;

/** A {@code networking.istio.io} DestinationRule, checked as Istio's validation checks it. */
final class DestinationRuleParser {
  private DestinationRuleParser() {}

  static DestinationRule parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    String host = spec.string("host");
    if (host == null || host.isEmpty()) {
      report.error(spec.at("host"), spec.at("host") + " is missing; set it to the host the rule applies to, e.g. "
          + "reviews.default.svc.cluster.local");
    } else {
      String bad = Checks.wildcardDomain(host);
      if (bad != null) report.error(spec.at("host"), bad);
    }
    DestinationRule.TrafficPolicy policy = TrafficPolicyParser.read(spec.object("trafficPolicy"), false);
    List<DestinationRule.Subset> subsets = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields s : spec.objects("subsets")) {
      String name = s.string("name");
      if (name == null || name.isEmpty()) {
        report.error(s.at("name"), s.at("name") + " is missing; every subset needs a name, e.g. v1");
      } else if (!names.add(name)) {
        report.error(s.at("name"), "subset name \"" + name + "\" is used twice; subset names must be unique");
      } else {
        String bad = Checks.istioLabel(name, "subset name");
        if (bad != null) report.error(s.at("name"), bad + "; rename the subset");
      }
      Map<String, String> labels = s.stringMap("labels");
      Checks.labels(report, s.at("labels"), labels);
      DestinationRule.TrafficPolicy subsetPolicy = TrafficPolicyParser.read(s.object("trafficPolicy"), false);
      s.rejectUnknown("Subset");
      subsets.add(new DestinationRule.Subset(name, labels, subsetPolicy));
    }
    Map<String, String> selector = Selectors.matchLabels(spec);
    List<String> exportTo = spec.strings("exportTo");
    Checks.exportTo(report, spec.at("exportTo"), exportTo, d.namespace(), false, selector != null);
    spec.rejectUnknown("DestinationRule");
    return new DestinationRule(d.id(), host, policy, subsets, exportTo, selector);
  }
}
