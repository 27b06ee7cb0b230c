/**
 * Kubernetes API servers as cluster sources, and Istio remote secrets that add clusters at run time.
 *
 * <p>{@link weft.registry.kube.KubeClusterSource} turns one cluster's API state into registry
 * updates through fabric8 informers. {@link weft.registry.kube.RemoteSecretController} reads Istio's
 * remote secrets (from the config cluster and from a folder) and owns one source per remote cluster.
 * {@link weft.registry.kube.KubeConfigs} is the only way a kubeconfig becomes a client: a strict
 * reader takes whitelisted fields (refusing any that would read local files or run commands) and
 * the client is built from them alone, never by fabric8 parsing the text.
 * {@link weft.registry.kube.StateStore} keeps each cluster's last known state on disk.
 *
 * <p>Rules that hold throughout:
 * <ul>
 *   <li>Losing contact never deletes anything: the cluster's last known state keeps serving, marked
 *       stale, until a fresh listing replaces it whole (which is when deletes made meanwhile apply).
 *   <li>Every cluster has its own client and its own thread; nothing here blocks the registry's thread.
 *   <li>A new connection (a rotated credential, a reconnect) takes over only once it has listed
 *       everything: make-before-break.
 *   <li>Objects are validated by {@link weft.model.parse.ResourceParser}, as files are: a rejected
 *       object is reported and its last accepted version keeps serving.
 * </ul>
 */
package weft.registry.kube;
