package weft.registry.kube;

/** A remote secret's kubeconfig that Weft will not use; the message names the secret, the cluster and the field. */
public final class InvalidKubeconfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String secretRef;
  private final String clusterId;
  private final String field;
  private final String problem;

  InvalidKubeconfigException(String secretRef, String clusterId, String field, String problem) {
    super(secretRef + ": kubeconfig for cluster " + clusterId + (field.isEmpty() ? "" : ": field " + field) + ": "
        + problem);
    this.secretRef = secretRef;
    this.clusterId = clusterId;
    this.field = field;
    this.problem = problem;
  }

  public String secretRef() {
    return secretRef;
  }

  public String clusterId() {
    return clusterId;
  }

  /** Path inside the kubeconfig, e.g. {@code users[0].user.exec}; empty when the whole document is wrong. */
  public String field() {
    return field;
  }

  /** What is wrong, without naming the secret, cluster or field (for problems that name those apart). */
  public String problem() {
    return problem;
  }
}
