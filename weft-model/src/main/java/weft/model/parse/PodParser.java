package weft.model.parse;

import weft.model.Pod;

/**
 * A Kubernetes v1 Pod. Readiness is the Ready condition's status. A pod whose status has no
 * conditions at all (hand-written YAML, or a pod reported only by phase) counts as ready when its
 * phase is Running: there is nothing else to go by, and a running pod is what the author meant.
 */
final class PodParser {
  private PodParser() {}

  static Pod parse(Document d) {
    Fields spec = d.root().object("spec");
    Fields status = d.root().object("status");
    String serviceAccount = spec.string("serviceAccountName");
    if (serviceAccount == null || serviceAccount.isEmpty()) {
      // serviceAccount is the deprecated alias Kubernetes still fills in.
      serviceAccount = spec.string("serviceAccount");
    }
    if (serviceAccount == null || serviceAccount.isEmpty()) serviceAccount = "default";
    String nodeName = spec.string("nodeName");
    String podIp = status.string("podIP");
    if (podIp != null && !podIp.isEmpty() && !Checks.isIp(podIp)) {
      d.report().error(status.at("podIP"), status.at("podIP") + " \"" + podIp + "\" is not an IP address");
    }
    if ("".equals(podIp)) podIp = null;
    String phase = status.string("phase");
    boolean ready = ready(status, phase);
    return new Pod(d.id(), d.labels(), d.annotations(), podIp, serviceAccount, nodeName, phase, ready);
  }

  private static boolean ready(Fields status, String phase) {
    var conditions = status.objects("conditions");
    if (conditions.isEmpty()) return "Running".equals(phase);
    boolean ready = false;
    for (Fields c : conditions) {
      if ("Ready".equals(c.string("type"))) ready = "True".equals(c.string("status"));
    }
    return ready;
  }
}
