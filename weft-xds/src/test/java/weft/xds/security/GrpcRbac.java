package weft.xds.security;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.xds.InternalRbacFilter;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.Principal;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLSession;

/**
 * Our RBAC filters run through grpc-java's own RBAC engine (the one a proxyless server builds from
 * LDS): each filter is parsed by grpc-java, which throws on anything it would NACK, and a call is
 * evaluated as grpc-java evaluates it, with the peer's SPIFFE URI as its certificate's SAN.
 */
final class GrpcRbac {
  private static final String RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
  private final List<ServerInterceptor> interceptors = new ArrayList<>();

  GrpcRbac(List<HttpFilter> filters) {
    for (HttpFilter f : filters) {
      if (!f.getTypedConfig().getTypeUrl().equals(RBAC_TYPE)) continue;
      try {
        // grpc-xds carries its own (shaded) copy of Envoy's protos: cross over by the wire format.
        var shaded = io.grpc.xds.shaded.io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.parseFrom(
            f.getTypedConfig().getValue());
        ServerInterceptor i = InternalRbacFilter.createInterceptor(shaded);
        if (i != null) interceptors.add(i);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
  }

  /**
   * Whether grpc-java lets the call through.
   *
   * @param peer the client's SPIFFE id, or null for a plaintext connection
   * @param method full method name, {@code package.Service/Method}
   */
  boolean allows(String peer, String method, int localPort, String remoteIp) {
    for (ServerInterceptor i : interceptors) {
      FakeCall call = new FakeCall(peer, method, localPort, remoteIp);
      boolean[] passed = {false};
      ServerCallHandler<Object, Object> next = (c, h) -> {
        passed[0] = true;
        return new ServerCall.Listener<>() {};
      };
      i.interceptCall(call, new Metadata(), next);
      if (!passed[0]) return false;
    }
    return true;
  }

  boolean allows(String peer, String method) {
    return allows(peer, method, 50051, "10.2.0.1");
  }

  private static final class FakeCall extends ServerCall<Object, Object> {
    private final MethodDescriptor<Object, Object> method;
    private final Attributes attributes;

    FakeCall(String peer, String fullMethodName, int localPort, String remoteIp) {
      MethodDescriptor.Marshaller<Object> m = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Object value) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Object parse(InputStream stream) {
          throw new UnsupportedOperationException();
        }
      };
      this.method = MethodDescriptor.newBuilder(m, m).setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(fullMethodName).build();
      Attributes.Builder a = Attributes.newBuilder()
          .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, new InetSocketAddress("10.1.0.1", localPort))
          .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new InetSocketAddress(remoteIp, 40000));
      if (peer != null) a.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session(new PeerCertificate(peer)));
      this.attributes = a.build();
    }

    @Override
    public Attributes getAttributes() {
      return attributes;
    }

    @Override
    public String getAuthority() {
      return "greeter.default.svc.cluster.local:50051";
    }

    @Override
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
      return method;
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(Object message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }
  }

  private static SSLSession session(X509Certificate peer) {
    return (SSLSession) java.lang.reflect.Proxy.newProxyInstance(GrpcRbac.class.getClassLoader(),
        new Class<?>[] {SSLSession.class}, (proxy, m, args) -> switch (m.getName()) {
          case "getPeerCertificates" -> new Certificate[] {peer};
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> null;
        });
  }

  /** Only what grpc-java's RBAC reads from a peer certificate: its URI SAN. */
  private static final class PeerCertificate extends X509Certificate {
    private final String uri;

    PeerCertificate(String uri) {
      this.uri = uri;
    }

    @Override
    public Collection<List<?>> getSubjectAlternativeNames() {
      return List.of(List.of(6, uri)); // 6 = uniformResourceIdentifier (RFC 5280)
    }

    @Override public void checkValidity() {}
    @Override public void checkValidity(Date date) {}
    @Override public int getVersion() { return 3; }
    @Override public BigInteger getSerialNumber() { return BigInteger.ONE; }
    @Override public Principal getIssuerDN() { return null; }
    @Override public Principal getSubjectDN() { return null; }
    @Override public Date getNotBefore() { return null; }
    @Override public Date getNotAfter() { return null; }
    @Override public byte[] getTBSCertificate() { return new byte[0]; }
    @Override public byte[] getSignature() { return new byte[0]; }
    @Override public String getSigAlgName() { return null; }
    @Override public String getSigAlgOID() { return null; }
    @Override public byte[] getSigAlgParams() { return null; }
    @Override public boolean[] getIssuerUniqueID() { return null; }
    @Override public boolean[] getSubjectUniqueID() { return null; }
    @Override public boolean[] getKeyUsage() { return null; }
    @Override public int getBasicConstraints() { return -1; }
    @Override public byte[] getEncoded() { return new byte[0]; }
    @Override public void verify(PublicKey key) {}
    @Override public void verify(PublicKey key, String sigProvider) {}
    @Override public String toString() { return "peer " + uri; }
    @Override public PublicKey getPublicKey() { return null; }
    @Override public boolean hasUnsupportedCriticalExtension() { return false; }
    @Override public Set<String> getCriticalExtensionOIDs() { return Set.of(); }
    @Override public Set<String> getNonCriticalExtensionOIDs() { return Set.of(); }
    @Override public byte[] getExtensionValue(String oid) { return null; }
  }
}
