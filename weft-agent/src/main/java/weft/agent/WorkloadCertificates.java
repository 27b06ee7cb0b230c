package weft.agent;

import io.grpc.ChannelCredentials;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.FailoverSigner;
import weft.agent.cert.IssuedCertificate;
import weft.agent.cert.TokenSource;
import weft.agent.cert.TrustRoots;
import weft.agent.xds.FileTlsXdsCredentialsProvider;
import weft.security.SpiffeId;

/**
 * A mesh identity's certificate for a data-plane process of Weft's own that is not a workload (the
 * east-west gateway): obtained from the CA (any of several control planes), kept renewed at
 * half-life, and presented on an xDS channel as mutual-TLS credentials that re-read the files, so a
 * renewal reaches the next handshake. The same pieces {@link WeftAgent} runs for a workload.
 */
public final class WorkloadCertificates implements AutoCloseable {
  private final List<CaClient> cas;
  private final CertificateManager manager;
  private final ScheduledExecutorService scheduler;
  private final Duration refresh;

  private WorkloadCertificates(List<CaClient> cas, CertificateManager manager, ScheduledExecutorService scheduler,
      Duration refresh) {
    this.cas = cas;
    this.manager = manager;
    this.scheduler = scheduler;
    this.refresh = refresh;
  }

  /**
   * Asks for the first certificate and waits for it.
   *
   * @param caAddresses {@code host:port} of each CA (control plane's secure port), asked in turn
   * @param caServerName the name the CA's certificate must carry (Istio's {@code istiod.istio-system.svc})
   * @param clusterId sent as the {@code ClusterID} header; "" for none
   * @param ttl the lifetime to ask for; null for the CA's default
   * @throws WeftAgent.AgentException when no certificate arrives within {@code startTimeout}, naming why
   */
  public static WorkloadCertificates start(SpiffeId id, List<String> caAddresses, String caServerName,
      TrustRoots roots, TokenSource token, String clusterId, Path outputDir, Duration ttl, Duration startTimeout) {
    Objects.requireNonNull(id, "id");
    if (caAddresses.isEmpty()) throw new IllegalArgumentException("at least one CA address is needed");
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-certificates");
      t.setDaemon(true);
      return t;
    });
    List<CaClient> cas = new ArrayList<>();
    CertificateManager manager = null;
    try {
      for (String address : caAddresses) cas.add(new CaClient(address, caServerName, roots, token, clusterId));
      manager = CertificateManager.builder(id, new FailoverSigner(cas, caAddresses), roots,
          new CertificateFiles(outputDir)).ttl(ttl).scheduler(scheduler).build();
      manager.start();
      IssuedCertificate first = manager.awaitFirstCertificate(startTimeout);
      return new WorkloadCertificates(cas, manager, scheduler,
          WeftAgent.refreshFor(first, CertificateManager.DEFAULT_ROTATION_FRACTION));
    } catch (TimeoutException e) {
      close(cas, manager, scheduler);
      throw new WeftAgent.AgentException(e.getMessage() + " (CA " + String.join(", ", caAddresses) + " as "
          + cas.get(0).serverName() + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close(cas, manager, scheduler);
      throw new WeftAgent.AgentException("interrupted while waiting for the first certificate of " + id, e);
    } catch (RuntimeException e) {
      close(cas, manager, scheduler);
      throw e;
    }
  }

  /**
   * TLS credentials for a channel to the control plane: its certificate checked against the mesh
   * root (and, with an authority override, as that name), this identity's certificate presented.
   */
  public ChannelCredentials mutualTls() {
    CertificateFiles f = manager.files();
    return FileTlsXdsCredentialsProvider.fromFiles(f.rootCertificateFile(), f.certificateChainFile(),
        f.privateKeyFile(), refresh);
  }

  public CertificateManager manager() {
    return manager;
  }

  @Override
  public void close() {
    close(cas, manager, scheduler);
  }

  private static void close(List<CaClient> cas, CertificateManager manager, ScheduledExecutorService scheduler) {
    if (manager != null) manager.close();
    scheduler.shutdownNow();
    cas.forEach(CaClient::close);
  }
}
