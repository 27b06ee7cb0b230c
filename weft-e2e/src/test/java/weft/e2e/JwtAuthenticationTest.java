package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.xds.XdsServerBuilder;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.demo.EchoService;
import weft.demo.GrpcBootstrap;
import weft.xds.TypeUrls;

/**
 * RequestAuthentication end to end through a running control plane: the issuer's keys served by an HTTP
 * server the test runs reach an Envoy sidecar's stream inline and follow a rotation; a server that fails
 * keeps the last keys; keys never fetched refuse every token. A proxyless grpc-java server, which cannot
 * verify JWTs, refuses what a requestPrincipals rule would allow (fail closed) and the finding is shown.
 */
class JwtAuthenticationTest {
  static final String POD_IP = "10.10.0.5";
  static final Duration WAIT = Duration.ofSeconds(60);

  Mesh mesh;
  HttpServer issuer;
  /** What the issuer's key URL answers: a key set, or null for HTTP 500. */
  final AtomicReference<String> served = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    mesh = new Mesh();
    issuer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    issuer.setExecutor(Executors.newSingleThreadExecutor());
    issuer.createContext("/jwks.json", ex -> {
      String body = served.get();
      if (body == null) {
        ex.sendResponseHeaders(500, -1);
      } else {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
      }
      ex.close();
    });
    issuer.start();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
    issuer.stop(0);
  }

  String jwksUri(String path) {
    return "http://127.0.0.1:" + issuer.getAddress().getPort() + path;
  }

  /** A fresh RSA public key as a JSON Web Key Set, as an identity provider publishes it. */
  static String newKeySet(String kid) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    RSAPublicKey k = (RSAPublicKey) g.generateKeyPair().getPublic();
    return "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"kid\":\"" + kid + "\",\"n\":\""
        + b64(k.getModulus()) + "\",\"e\":\"" + b64(k.getPublicExponent()) + "\"}]}";
  }

  private static String b64(BigInteger v) {
    byte[] bytes = v.toByteArray();
    if (bytes[0] == 0) bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  void writeHttpbin(String requestAuthentication) throws Exception {
    mesh.write("httpbin.yaml", Yamls.service("httpbin", "default", 8000, 8080, null)
        + Yamls.endpoints("httpbin", "default", 8080, new String[] {"httpbin-1", POD_IP, "v1"}) + "---\n"
        + requestAuthentication);
  }

  static String requestAuthentication(String selectorApp, String rule) {
    return """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt-example, namespace: default}
        spec:
          selector: {matchLabels: {app: %s}}
          jwtRules:
          - %s
        """.formatted(selectorApp, rule);
  }

  AdsStream sidecar() {
    AdsStream s = new AdsStream(mesh.controlPlane.xdsPort(), AdsStream.node("httpbin-1", "default", POD_IP,
        "cluster1", "", "", false, Map.of("app", "httpbin")));
    s.request(TypeUrls.LISTENER);
    return s;
  }

  /** The inline key set of the first jwt_authn provider on the httpbin port's inbound chain, or null. */
  static String sentKeys(AdsStream s) {
    Any a = s.all(TypeUrls.LISTENER).get("virtualInbound");
    if (a == null) return null;
    try {
      for (FilterChain c : a.unpack(Listener.class).getFilterChainsList()) {
        if (!c.getName().equals("0.0.0.0_8080")) continue;
        for (Filter f : c.getFiltersList()) {
          HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
          for (HttpFilter h : hcm.getHttpFiltersList()) {
            if (!h.getName().equals("envoy.filters.http.jwt_authn")) continue;
            return h.getTypedConfig().unpack(JwtAuthentication.class).getProvidersOrThrow("origins-0").getLocalJwks()
                .getInlineString();
          }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return null;
  }

  @Test
  void theIssuersKeysReachTheSidecarInlineFollowARotationAndSurviveAFailingServer() throws Exception {
    String keys1 = newKeySet("key-1");
    served.set(keys1);
    writeHttpbin(requestAuthentication("httpbin", "{issuer: \"testing@secure.example.com\", jwksUri: \""
        + jwksUri("/jwks.json") + "\"}"));
    try (AdsStream s = sidecar()) {
      await().atMost(WAIT).until(() -> keys1.equals(sentKeys(s)));

      String keys2 = newKeySet("key-2");
      served.set(keys2);
      mesh.controlPlane.jwks().refreshAll().get(30, TimeUnit.SECONDS);
      await("the rotation is pushed").atMost(WAIT).until(() -> keys2.equals(sentKeys(s)));

      served.set(null);
      mesh.controlPlane.jwks().refreshAll().get(30, TimeUnit.SECONDS);
      // Any later push (here: a republished snapshot) still carries the last good keys, and says why.
      mesh.controlPlane.registry().republish();
      await().atMost(WAIT).until(() -> mesh.debugStatus().contains("the last refresh of"));
      assertThat(sentKeys(s)).isEqualTo(keys2);
    }
  }

  @Test
  void keysNeverFetchedAreReplacedByKeysThatVerifyNothingAndTheFindingIsShown() throws Exception {
    writeHttpbin(requestAuthentication("httpbin", "{issuer: \"https://idp.example.com\", jwksUri: \""
        + jwksUri("/no-such-keys.json") + "\"}"));
    try (AdsStream s = sidecar()) {
      await().atMost(WAIT).until(() -> sentKeys(s) != null);
      assertThat(sentKeys(s)).contains("weft-keys-unavailable");
      await().atMost(WAIT).until(() -> mesh.debugStatus().contains("a key set that verifies nothing is sent"));
    }
  }

  @Test
  void aProxylessServerCannotCheckJwtsSoARequestPrincipalsRuleRefusesAndIsReported() throws Exception {
    String jwks = newKeySet("inline");
    mesh.write("ratings-policy.yaml", requestAuthentication("ratings", "{issuer: \"testing@secure.example.com\", "
        + "jwks: '" + jwks + "'}") + """
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: require-jwt, namespace: default}
        spec:
          selector: {matchLabels: {app: ratings}}
          action: ALLOW
          rules:
          - from: [{source: {requestPrincipals: ["testing@secure.example.com/testing@secure.example.com"]}}]
        """);
    await().atMost(WAIT).until(() -> mesh.controlPlane.registry().current().config().authorizationPolicies().size() == 1
        && mesh.controlPlane.registry().current().config().requestAuthentications().size() == 1);
    int port = Mesh.freePort();
    CountDownLatch serving = new CountDownLatch(1);
    Server server = XdsServerBuilder.forPort(port, InsecureServerCredentials.create())
        .overrideBootstrapForTest(GrpcBootstrap.of("localhost:" + mesh.controlPlane.xdsPort(), "ratings-1", "default",
            "127.0.0.1", "cluster1", "", Map.of("app", "ratings")))
        .addService(EchoService.named("ratings"))
        .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
          @Override
          public void onServing() {
            serving.countDown();
          }

          @Override
          public void onNotServing(Throwable throwable) {}
        })
        .build()
        .start();
    mesh.track(server);
    assertThat(serving.await(30, TimeUnit.SECONDS)).as("server got its inbound listener").isTrue();
    ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      // A token the server cannot verify must not open the door: never a silent allow.
      String token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ0ZXN0aW5nQHNlY3VyZS5leGFtcGxlLmNvbSJ9.c2lnbmF0dXJl";
      assertThatThrownBy(() -> Mesh.call(plain, Map.of("authorization", "Bearer " + token)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      assertThat(mesh.debugStatus()).contains("grpc-java cannot verify JWTs")
          .contains("grpc-java has no JWT filter");
    } finally {
      plain.shutdownNow();
    }
  }
}
