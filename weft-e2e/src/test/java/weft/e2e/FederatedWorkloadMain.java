package weft.e2e;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;

/**
 * A proxyless grpc-java workload of a federated mesh in a JVM of its own, started with
 * {@code GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true} and {@code GRPC_XDS_BOOTSTRAP} (the agent's file): grpc-java
 * 1.85 reads the flag once, when its xDS classes load. It serves (answering {@code NAME|CALLER_SPIFFE})
 * and, in mode {@code both}, calls {@code TARGET} until its standard input closes.
 *
 * <p>The calls: the first waits for its answer (xDS, certificates); from then on, every call is on a
 * new channel and without wait-for-ready, so that each call is a new mTLS handshake
 * and a peer certificate the workload does not trust fails that call (UNAVAILABLE) instead of being
 * hidden by a connection made earlier. One line per call: {@code OK SERVER_SPIFFE SERIAL ANSWER} or
 * {@code FAIL STATUS}; the first time a server certificate is seen, {@code CERT SERIAL BASE64_DER}.
 *
 * <p>Arguments: MODE (server, both) NAME PORT [TARGET]
 */
public final class FederatedWorkloadMain {
  private FederatedWorkloadMain() {}

  public static void main(String[] a) throws Exception {
    try {
      run(a);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] a) throws Exception {
    String mode = a[0];
    String name = a[1];
    int port = Integer.parseInt(a[2]);
    Server server = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .addService(IdentityAndTrustTest.whoCalls(name))
        .build()
        .start();
    boolean spiffe = io.grpc.xds.internal.security.certprovider.FileWatcherCertificateProviderProvider.enableSpiffe;
    System.out.println("serving spiffe=" + spiffe);
    System.out.flush();
    Thread caller = null;
    if (mode.equals("both")) {
      String target = a[3];
      caller = new Thread(() -> callForever(target), "caller");
      caller.setDaemon(true);
      caller.start();
    }
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
    while (stdin.readLine() != null) {
      // until the parent closes our input
    }
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    System.exit(0);
  }

  private static void callForever(String target) {
    Set<String> seen = new HashSet<>();
    ManagedChannel previous = null;
    boolean warm = false;
    while (true) {
      AtomicReference<SSLSession> session = new AtomicReference<>();
      // A new channel for every call, the previous one closed only after it: the workload's xDS client
      // and certificate providers stay in use (as in a real process), while each call still needs a
      // handshake of its own.
      ManagedChannel ch = channel(target, session);
      CallOptions options = warm ? CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)
          : CallOptions.DEFAULT.withDeadlineAfter(120, TimeUnit.SECONDS).withWaitForReady();
      try {
        String answer = ClientCalls.blockingUnaryCall(ch, weft.demo.EchoService.WHO, options, StringValue.of("hi"))
            .getValue();
        X509Certificate leaf = leaf(session.get());
        String serial = leaf == null ? "none" : leaf.getSerialNumber().toString(16);
        if (leaf != null && seen.add(serial)) {
          System.out.println("CERT " + serial + " " + Base64.getEncoder().encodeToString(leaf.getEncoded()));
        }
        System.out.println("OK " + IdentityAndTrustTest.spiffe(session.get()) + " " + serial + " " + answer);
        warm = true;
      } catch (StatusRuntimeException e) {
        System.out.println("FAIL " + e.getStatus());
      } catch (Exception e) {
        System.out.println("FAIL " + e);
      }
      if (previous != null) previous.shutdown();
      previous = ch;
      System.out.flush();
      try {
        Thread.sleep(20); // pacing between calls, not a wait for state: a steady stream of handshakes
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static X509Certificate leaf(SSLSession session) {
    try {
      return session == null ? null : (X509Certificate) session.getPeerCertificates()[0];
    } catch (Exception e) {
      return null;
    }
  }

  /** A channel whose calls record the server's TLS session in {@code session}. */
  private static ManagedChannel channel(String target, AtomicReference<SSLSession> session) {
    ClientInterceptor capture = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        ClientCall<Q, R> call = next.newCall(method, options);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata h) {
                session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                super.onHeaders(h);
              }
            }, headers);
          }
        };
      }
    };
    return Grpc.newChannelBuilder(target, XdsChannelCredentials.create(InsecureChannelCredentials.create()))
        .intercept(capture).build();
  }
}
