package weft.dns.server;

import java.net.InetAddress;

/**
 * The names a client may resolve, chosen by the query's source address: an agent answers every client
 * from its own workload's table; the control plane answers from the view of the proxy the source stands
 * for ({@code --dns-client CIDR=cluster/namespace}).
 */
@FunctionalInterface
public interface ClientNames {
  /**
   * The compiled table for a query from {@code client}; {@link MeshNames#EMPTY} when it may resolve no
   * mesh name. Called once per query on the server's threads: return something already compiled.
   */
  MeshNames forClient(InetAddress client);
}
