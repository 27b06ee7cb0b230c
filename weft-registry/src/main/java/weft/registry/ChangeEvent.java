package weft.registry;

import java.util.HashSet;
import java.util.Set;
import weft.model.ResourceId;

/**
 * What changed between two snapshots, so that the push side can skip proxies and resource types
 * that a change cannot affect.
 *
 * @param endpointHosts hosts whose endpoints changed but whose service definition did not
 * @param serviceHosts hosts whose service definition changed, appeared or disappeared
 * @param configs routing and visibility config (VirtualService, DestinationRule, Sidecar) that changed
 * @param full everything may have changed (mesh config, first snapshot)
 * @param secrets Kubernetes Secrets of the config clusters that changed, appeared or went: they
 *     alter only the SDS resources generated from them (credentialName), nothing else a proxy is
 *     sent, so they count neither as config nor as endpoints
 */
public record ChangeEvent(Set<String> endpointHosts, Set<String> serviceHosts, Set<ResourceId> configs, boolean full,
    Set<ResourceId> secrets) {
  public static final ChangeEvent FULL = new ChangeEvent(Set.of(), Set.of(), Set.of(), true);
  /**
   * Nothing a proxy can see changed: the snapshot differs only in status (sync, staleness,
   * problems, per-cluster counts) that /debug/status and /ready read. Pushes skip it.
   */
  public static final ChangeEvent NONE = new ChangeEvent(Set.of(), Set.of(), Set.of(), false);

  public ChangeEvent {
    endpointHosts = Set.copyOf(endpointHosts);
    serviceHosts = Set.copyOf(serviceHosts);
    configs = Set.copyOf(configs);
    secrets = Set.copyOf(secrets);
  }

  /** A change of no Secret. */
  public ChangeEvent(Set<String> endpointHosts, Set<String> serviceHosts, Set<ResourceId> configs, boolean full) {
    this(endpointHosts, serviceHosts, configs, full, Set.of());
  }

  public boolean isEmpty() {
    return !full && endpointHosts.isEmpty() && serviceHosts.isEmpty() && configs.isEmpty() && secrets.isEmpty();
  }

  /** Only Secrets changed: only SDS resources can differ. */
  public boolean secretsOnly() {
    return !full && endpointHosts.isEmpty() && serviceHosts.isEmpty() && configs.isEmpty() && !secrets.isEmpty();
  }

  /** Nothing but endpoints (and maybe Secrets, which only SDS reads) changed. */
  public boolean endpointsOnly() {
    return !full && serviceHosts.isEmpty() && configs.isEmpty();
  }

  /** This change with these Secrets changed as well. */
  public ChangeEvent withSecrets(Set<ResourceId> changed) {
    if (changed.isEmpty()) return this;
    return new ChangeEvent(endpointHosts, serviceHosts, configs, full, union(secrets, changed));
  }

  /** Both changes together: what a proxy that missed the first must still be told. */
  public ChangeEvent merge(ChangeEvent other) {
    if (full || other.full) return FULL;
    Set<String> services = union(serviceHosts, other.serviceHosts);
    Set<String> endpoints = union(endpointHosts, other.endpointHosts);
    endpoints.removeAll(services);
    return new ChangeEvent(endpoints, services, union(configs, other.configs), false, union(secrets, other.secrets));
  }

  private static <T> Set<T> union(Set<T> a, Set<T> b) {
    Set<T> s = new HashSet<>(a);
    s.addAll(b);
    return s;
  }
}
