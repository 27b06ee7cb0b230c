package weft.model.parse;

/**
 * A document that was rejected, with the identity it still claims as far as it can be read, so
 * that the reader of a watched file can keep that resource's last good version serving. Each part
 * is null when it cannot be told: {@code kind} when missing or not text (a misspelt kind close to a
 * known one counts as that kind), {@code name} when missing or not a scalar, {@code namespace} when
 * not text (absent means {@code default}, as in Kubernetes).
 *
 * @param position where the document is in its file, e.g. {@code document 3} or {@code document 1 items[2]}
 */
public record RejectedDocument(String position, String kind, String namespace, String name) {}
