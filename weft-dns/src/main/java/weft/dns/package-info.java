/**
 * DNS for mesh names: the name table ({@code weft.dns.nds.NameTable}, Istio's NDS type), the DNS
 * server that answers from it, and stable automatic addresses for ServiceEntries.
 */
package weft.dns;
