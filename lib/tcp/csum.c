/* SPDX-License-Identifier: MIT */
/* The Internet checksum (RFC 1071) over host bytes. */
#include "tcp_internal.h"

uint32_t nm_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* 64-bit accumulator: no carry handling inside the loop. */
	uint64_t acc = sum;

	for (; len >= 8; p += 8, len -= 8)
		acc += (uint64_t)get32(p) + get32(p + 4);
	for (; len > 1; p += 2, len -= 2)
		acc += get16(p);
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t nm_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t nm_csum_pseudo(uint8_t ipver, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, uint32_t l4len)
{
	size_t alen = ipver == 4 ? 4 : 16;
	uint32_t sum = nm_csum_add(0, src, alen);

	sum = nm_csum_add(sum, dst, alen);
	/* Fold before adding so the 32-bit sum cannot overflow. */
	sum = (sum & 0xffff) + (sum >> 16);
	return sum + proto + (l4len & 0xffff) + (l4len >> 16);
}
