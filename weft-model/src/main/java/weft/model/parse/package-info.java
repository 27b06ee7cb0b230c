/**
 * Reading Istio and Kubernetes YAML into the model, with Istio's validation.
 *
 * <p>Entry points: {@link weft.model.parse.ResourceParser} (files of Kubernetes-style documents),
 * {@link weft.model.parse.MeshConfigParser} (MeshConfig and MeshNetworks) and
 * {@link weft.model.parse.Durations}. None of them throws on bad input; every problem becomes a
 * {@link weft.model.ConfigProblem} naming the file, the resource and the field path.
 *
 * <p>Rules, following DESIGN.md "Unknown input":
 * <ul>
 *   <li>Each document stands alone: a resource with an error is left out, its siblings are kept.
 *   <li>Istio kinds are checked field by field against the networking.istio.io schema. A field Istio
 *       knows but Weft does not implement is kept out of the model with one warning; a field Istio does
 *       not know is an error. camelCase and snake_case names are both accepted, and numbers may be
 *       strings, as in protobuf JSON.
 *   <li>Values that Istio's own validation refuses are errors; anything Istio accepts is accepted
 *       (weights need not add up to 100, a destination host need not exist).
 *   <li>Kubernetes kinds are read for what Weft needs only; their other fields are not checked.
 *   <li>Kinds Weft does not use are skipped with one warning per kind and file; a kind close to one Weft
 *       reads, under a group Weft reads, is an error that says "did you mean".
 *   <li>A rejected document still reports the identity it claims ({@link weft.model.parse.RejectedDocument}),
 *       so that a watched file's reader keeps that resource's last good version.
 *   <li>Input over {@link weft.model.parse.InputLimits#MAX_FILE_BYTES} is refused before parsing; below it,
 *       parsing time grows linearly with the size ({@link weft.model.parse.LinearYamlFactory}).
 * </ul>
 *
 * <p>Choices worth knowing when reading the model:
 * <ul>
 *   <li>An empty StringMatch ({@code {}}) for a header, withoutHeader or query parameter means "present
 *       with any value" in Istio; it is stored as {@code REGEX ".*"}, which Envoy and gRPC match only
 *       when the header is present.
 *   <li>exportTo {@code "~"} is accepted on ServiceEntry (and in MeshConfig defaults) but refused on
 *       VirtualService and DestinationRule, as Istio refuses it there.
 *   <li>ServiceEntry port protocols are stored in Istio's canonical spelling ({@code http} becomes
 *       {@code HTTP}, {@code mongo} becomes {@code Mongo}).
 *   <li>An unset WorkloadEntry address is null (allowed when a network is named); a Destination's unset
 *       subset is null.
 * </ul>
 */
package weft.model.parse;
