/**
 * SDS from Kubernetes Secrets (Istio's SecretGen): the certificates, keys and CAs that
 * DestinationRule and Gateway {@code credentialName} name, served over ADS as
 * {@code kubernetes://NAME} and {@code kubernetes://NAME-cacert}, only to a proxy that proved its
 * identity on the secure port and only from its own namespace.
 */
package weft.xds.sds;
