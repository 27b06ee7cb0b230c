package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.DemoConfig;

/** {@code weft why} against a running control plane on the demo's configuration and on broken ones. */
class WhyCommandTest {
  @TempDir
  Path tmp;

  private ControlPlane demo(Path c1, Path c2) throws Exception {
    DemoConfig.write(c1, c2);
    return ControlPlane.start(ControlPlaneOptions.forConfigDir(c1).withRemoteConfigDirs(Map.of("cluster2", c2))
        .withPorts(0, 0));
  }

  @Test
  void aSidecarInNetwork1ReachesEchoInBothClustersThroughNetwork2sGateway() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    try (ControlPlane cp = demo(c1, c2)) {
      Weft run = Weft.run("why", "echo-a", "echo:9080", "--control-plane", "localhost:" + cp.monitoringPort());

      assertThat(run.exit()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains(
          " 1. ok   source: sidecar~127.0.0.1~echo-a.default~default.svc.cluster.local (Envoy sidecar) in cluster "
              + "cluster1, network network-1, namespace default, locality us-east/zone-a",
          "ok   route: any request → [echo.default.svc.cluster.local subset v1 weight 80, "
              + "echo.default.svc.cluster.local subset v2 weight 20]",
          "decided by: VirtualService default/echo (cluster1:echo-virtualservice.yaml)",
          "decided by: DestinationRule default/echo (cluster1:echo-destinationrule.yaml)",
          "ok   TLS (client side): mTLS to SANs [spiffe://cluster.local/ns/default/sa/echo]",
          // Locality priorities (outlier detection is on): own zone first.
          "ok   endpoints: priority 0 us-east/zone-a weight 1: [127.0.0.1:19081 (cluster1, network-1)]; priority 1 "
              + "us-east/zone-b weight 1: [127.0.0.1:19082 (cluster1, network-1)]",
          "decided by: locality priorities from DestinationRule default/echo (cluster1:echo-destinationrule.yaml)",
          "127.0.0.4:19443 (east-west gateway of network-2 in cluster2)",
          "ok   TLS (server side): server takes [PERMISSIVE]",
          "ok   authorization: allowed: no ALLOW policy applies to the destination");
      assertThat(run.out().lines().toList()).last().isEqualTo("reachable");
    }
  }

  @Test
  void aProxylessClientInNetwork2StopsAtNetwork1WhichHasNoGateway() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    try (ControlPlane cp = demo(c1, c2)) {
      Weft run = Weft.run("why", "echo-west", "echo.default", "--cluster", "cluster2", "--proxyless",
          "--control-plane", "localhost:" + cp.monitoringPort());

      assertThat(run.exit()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains("STOP endpoints: none for this proxy: network network-1 has no gateway: its 2 "
          + "endpoint(s) are left out for this proxyless client");
      assertThat(run.out().lines().toList()).last().isEqualTo("reachable through some destinations only; stopped for "
          + "[echo.default.svc.cluster.local subset v1 (endpoints)]");
    }
  }

  @Test
  void anAllowPolicyThatAdmitsOnlyAnotherNamespaceStopsTheRequestAndIsNamedWithItsFile() throws Exception {
    Path c1 = Files.createDirectory(tmp.resolve("cluster1"));
    Path c2 = Files.createDirectory(tmp.resolve("cluster2"));
    try (ControlPlane cp = demo(c1, c2)) {
      Files.writeString(c1.resolve("authz.yaml"), """
          apiVersion: security.istio.io/v1
          kind: AuthorizationPolicy
          metadata: {name: only-payments, namespace: default}
          spec:
            selector: {matchLabels: {app: echo}}
            action: ALLOW
            rules:
            - from:
              - source: {namespaces: [payments]}
          """);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
          cp.registry().current().config().authorizationPolicies().size() == 1);

      Weft run = Weft.run("why", "echo-a.default", "echo:9080", "--control-plane", "localhost:" + cp.monitoringPort());

      assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(WhyCommand.NOT_REACHABLE);
      assertThat(run.out()).contains("STOP authorization: denied: ALLOW policies apply and none admits "
          + "cluster.local/ns/default/sa/echo", "decided by: AuthorizationPolicy default/only-payments (cluster1:authz.yaml)");
      assertThat(run.out().lines().toList()).last().asString().startsWith("not reachable: stopped at authorization: ");
    }
  }

  @Test
  void missingAndHiddenHostsStopAtVisibilityWithTheReason() throws Exception {
    Path b = AnalyzeCommandTest.resource("broken");
    try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(b.resolve("cluster1")).withPorts(0, 0))) {
      String at = "localhost:" + cp.monitoringPort();

      Weft missing = Weft.run("why", "echo-a", "missing:80", "--control-plane", at);
      assertThat(missing.exit()).as(missing.out() + missing.err()).isEqualTo(WhyCommand.NOT_REACHABLE);
      assertThat(missing.out()).contains("STOP visibility: missing.default.svc.cluster.local: no service with this "
          + "hostname in any cluster");

      Weft hidden = Weft.run("why", "10.1.0.1", "ratings.example.internal:8080", "--control-plane", at);
      assertThat(hidden.exit()).isEqualTo(WhyCommand.NOT_REACHABLE);
      assertThat(hidden.out()).contains("STOP visibility: ratings.example.internal: not exported to namespace default "
          + "(exportTo [ratings])", "decided by: ServiceEntry ratings/ratings (cluster1:services.yaml)");

      Weft nobody = Weft.run("why", "nobody", "echo", "--control-plane", at);
      assertThat(nobody.exit()).isEqualTo(1);
      assertThat(nobody.errLines()).singleElement().asString().startsWith("weft why: source nobody is neither a "
          + "connected proxy");
    }
  }
}
