package weft.e2e;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A proxyless grpc-java server in a JVM of its own, so that grpc-java 1.85 reads
 * {@code GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE} from its environment when its xDS classes load (it reads
 * the flag once, at class load). Its bootstrap comes from {@code GRPC_XDS_BOOTSTRAP}; it answers with
 * the caller's SPIFFE id, prints {@code serving spiffe=FLAG} once started and stops when its
 * standard input closes.
 *
 * <p>Arguments: the port.
 */
public final class SpiffeMapServerMain {
  private SpiffeMapServerMain() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Server server = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .addService(IdentityAndTrustTest.whoCalls())
        .build()
        .start();
    // What grpc-java itself decided from the environment: the parent checks the map file is in use.
    boolean spiffe = io.grpc.xds.internal.security.certprovider.FileWatcherCertificateProviderProvider.enableSpiffe;
    System.out.println("serving spiffe=" + spiffe);
    System.out.flush();
    InputStream in = System.in;
    while (in.read() >= 0) {
      // until the parent closes our input
    }
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    System.out.println(new String("stopped".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
  }
}
