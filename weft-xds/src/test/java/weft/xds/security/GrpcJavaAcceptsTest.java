package weft.xds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static weft.xds.security.SecureMesh.CLUSTER;
import static weft.xds.security.SecureMesh.IN_MESH;
import static weft.xds.security.SecureMesh.SERVER_LISTENER;
import static weft.xds.security.SecureMesh.authorizationPolicy;
import static weft.xds.security.SecureMesh.peerAuthentication;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The proxyless listener and cluster, with mTLS and RBAC, pass grpc-java's own LDS and CDS
 * validation (XdsListenerResource.parseServerSideListener, XdsClusterResource.processCluster),
 * called by reflection since they are package-private: what a real client would NACK fails here.
 */
class GrpcJavaAcceptsTest {
  /** The certificate-provider instances a Weft agent's bootstrap defines. */
  static final Set<String> BOOTSTRAP_INSTANCES = Set.of("default");

  static final String SECURED = SecureMesh.greeter(IN_MESH, IN_MESH)
      + peerAuthentication("istio-system", "default", "mtls: {mode: STRICT}")
      + authorizationPolicy("default", "allow", """
          rules:
          - from: [{source: {principals: ["cluster.local/ns/default/*"], notNamespaces: [evil], ipBlocks: [10.0.0.0/8]}}]
            to: [{operation: {paths: ["/greet.Greeter/*", "/x/{**}"], notMethods: [GET], ports: ["50051"], hosts: ["*.local"]}}]
            when: [{key: "request.headers[x-user]", values: ["*"]}, {key: source.serviceAccount, notValues: [default/x]}]
          """)
      + authorizationPolicy("default", "deny", """
          action: DENY
          rules: [{from: [{source: {notRequestPrincipals: ["*"], trustDomains: ["other.*"]}}]}]
          """)
      + authorizationPolicy("default", "nothing", "{}");

  @Test
  void serverListenerWithMtlsAndRbacIsAccepted() throws Exception {
    try (SecureMesh mesh = new SecureMesh(SECURED)) {
      Listener l = SecureMesh.listener(mesh.server(IN_MESH), SERVER_LISTENER);
      assertThat(l.getFilterChains(0).hasTransportSocket()).isTrue();
      Object parsed = parseListener(l, BOOTSTRAP_INSTANCES);
      assertThat(parsed.toString()).contains("filterChains");
    }
  }

  @Test
  void clientClusterWithMtlsIsAccepted() throws Exception {
    try (SecureMesh mesh = new SecureMesh(SECURED)) {
      Cluster c = SecureMesh.cluster(mesh.client(), CLUSTER);
      assertThat(c.hasTransportSocket()).isTrue();
      Object update = parseCluster(c, BOOTSTRAP_INSTANCES);
      Method tls = Class.forName("io.grpc.xds.XdsClusterResource$CdsUpdate").getDeclaredMethod("upstreamTlsContext");
      tls.setAccessible(true);
      assertThat(tls.invoke(update)).isNotNull();
    }
  }

  @Test
  void theCheckIsRealAnInstanceTheBootstrapLacksIsRejected() throws Exception {
    try (SecureMesh mesh = new SecureMesh(SECURED)) {
      Cluster c = SecureMesh.cluster(mesh.client(), CLUSTER);
      assertThatThrownBy(() -> parseCluster(c, Set.of("other"))).hasMessageContaining("not defined in the bootstrap");
      Listener l = SecureMesh.listener(mesh.server(IN_MESH), SERVER_LISTENER);
      assertThatThrownBy(() -> parseListener(l, Set.of("other"))).hasMessageContaining("not defined in the bootstrap");
    }
  }

  static Object parseListener(Listener l, Set<String> instances) throws Exception {
    var shaded = io.grpc.xds.shaded.io.envoyproxy.envoy.config.listener.v3.Listener.parseFrom(l.toByteArray());
    Class<?> resource = Class.forName("io.grpc.xds.XdsListenerResource");
    Class<?> registry = Class.forName("io.grpc.xds.FilterRegistry");
    Method defaults = registry.getDeclaredMethod("getDefaultRegistry");
    defaults.setAccessible(true);
    Method parse = resource.getDeclaredMethod("parseServerSideListener", shaded.getClass(),
        Class.forName("io.grpc.xds.TlsContextManager"), registry, Set.class, io.grpc.xds.client.XdsResourceType.Args.class);
    parse.setAccessible(true);
    return invoke(parse, shaded, new io.grpc.xds.internal.security.TlsContextManagerImpl(null), defaults.invoke(null),
        instances, new io.grpc.xds.client.XdsResourceType.Args(bootstrap().servers().get(0), "1", "n", bootstrap(), null, null));
  }

  /** Only what parsing reads: a server and a node. */
  static io.grpc.xds.client.Bootstrapper.BootstrapInfo bootstrap() {
    return io.grpc.xds.client.Bootstrapper.BootstrapInfo.builder()
        .servers(java.util.List.of(io.grpc.xds.client.Bootstrapper.ServerInfo.create("localhost:15010", new Object())))
        .node(io.grpc.xds.client.EnvoyProtoData.Node.newBuilder().setId("test").build())
        .build();
  }

  static Object parseCluster(Cluster c, Set<String> instances) throws Exception {
    var shaded = io.grpc.xds.shaded.io.envoyproxy.envoy.config.cluster.v3.Cluster.parseFrom(c.toByteArray());
    Class<?> resource = Class.forName("io.grpc.xds.XdsClusterResource");
    Method process = resource.getDeclaredMethod("processCluster", shaded.getClass(), Set.class,
        io.grpc.xds.client.Bootstrapper.ServerInfo.class, io.grpc.LoadBalancerRegistry.class);
    process.setAccessible(true);
    return invoke(process, shaded, instances, null, io.grpc.LoadBalancerRegistry.getDefaultRegistry());
  }

  private static Object invoke(Method m, Object... args) throws Exception {
    try {
      return m.invoke(null, args);
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof Exception x ? x : e;
    }
  }
}
