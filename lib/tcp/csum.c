/* SPDX-License-Identifier: MIT */
/* The Internet checksum (RFC 1071) over host bytes: lib/pkt.c's one
 * implementation (inet_csum.h), under the stack's names. */
#include "../inet_csum.h"
#include "tcp_internal.h"

uint32_t nm_csum_add(uint32_t sum, const void *buf, size_t len)
{
	return nm_inet_csum_add(sum, buf, len);
}

uint16_t nm_csum_fold(uint32_t sum)
{
	return nm_inet_csum_fold(sum);
}

uint32_t nm_csum_pseudo(uint8_t ipver, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, uint32_t l4len)
{
	size_t alen = ipver == 4 ? 4 : 16;
	uint32_t sum = nm_csum_add(0, src, alen);

	/* Each add returns at most 16 bits: no overflow below. */
	sum = nm_csum_add(sum, dst, alen);
	return sum + proto + (l4len & 0xffff) + (l4len >> 16);
}
