/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071), library-internal: the one implementation
 * that frame building and the NIC models' verdicts (lib/pkt.c) and the TCP
 * stack (lib/tcp/csum.c) share.
 */
#ifndef NETMEM_INET_CSUM_H
#define NETMEM_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * @sum plus the ones'-complement sum of @len bytes at @buf taken as
 * big-endian 16-bit words (an odd last byte is the high half of one), any
 * alignment. The result is folded to 16 bits (0 only when @sum and every
 * byte are 0), so a caller may add small terms to it before the final fold.
 */
uint32_t nm_inet_csum_add(uint32_t sum, const void *buf, size_t len);

/* The checksum field's value: @sum folded to 16 bits and complemented. */
static inline uint16_t nm_inet_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
