/**
 * Istio's name table (NDS, {@code istio.networking.nds.v1.NameTable}): every host a proxy that
 * proxies DNS may resolve, with the addresses its DNS answers give.
 */
package weft.xds.nds;
