/* SPDX-License-Identifier: MIT */
/*
 * The network identity of a port: its IPv4 and IPv6 addresses, written and
 * parsed the way a user types them ("192.0.2.1/24", "fe80::1/64"), and the
 * IPv6 link-local address a port takes from its MAC by default (modified
 * EUI-64, RFC 4291 appendix A). The stack (netmem/tcp.h) answers ARP,
 * neighbour solicitations and echo requests for these addresses.
 */
#ifndef NETMEM_NETIF_H
#define NETMEM_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem/err.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most addresses of each family one stack holds. */
#define NM_NETIF_MAX_ADDRS 4

/* One address with its prefix length; IPv4 uses the first 4 bytes. */
struct nm_ip_addr {
	uint8_t ipver;        /* 4 or 6 */
	uint8_t prefix;       /* 0..32 or 0..128 */
	uint8_t addr[16];
};

/*
 * Parse "A.B.C.D[/P]" or an IPv6 "X:..[/P]" (inet_pton spellings); a
 * missing prefix means a host route (/32, /128). @ipver 0 takes either
 * family, 4 or 6 only that one. Returns 0, or -EINVAL with the reason.
 */
int nm_ip_addr_parse(const char *s, uint8_t ipver, struct nm_ip_addr *out,
		     struct nm_err *err);

/* Write @a as "addr/prefix" into @buf; returns @buf. */
char *nm_ip_addr_str(const struct nm_ip_addr *a, char *buf, size_t len);

/* fe80::/64 with the modified EUI-64 interface id of @mac. */
void nm_ip6_link_local(const uint8_t mac[6], struct nm_ip_addr *out);

/* ff02::1:ffXX:XXXX, the solicited-node multicast group of @addr. */
void nm_ip6_solicited_node(const uint8_t addr[16], uint8_t out[16]);

#ifdef __cplusplus
}
#endif
#endif
