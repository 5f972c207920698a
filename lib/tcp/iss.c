/* SPDX-License-Identifier: MIT */
/*
 * Initial sequence numbers (RFC 6528) and timestamp offsets: a keyed hash
 * of the 4-tuple (SipHash-2-4, a secret drawn from the kernel at stack
 * creation) plus, for the ISS, a clock ticking every 4 us (RFC 9293's M).
 * An off-path peer that sees one SYN-ACK learns nothing about the ISS of
 * another 4-tuple, and the timestamp offset has its own key, so TSval
 * does not give the ISS away either (Linux does the same with its
 * secure_tcp_seq() and secure_tcp_ts_off()).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "tcp_internal.h"

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                              \
	do {                                                                   \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);      \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);      \
	} while (0)

/* SipHash-2-4 of @words 64-bit words under @key. */
static uint64_t siphash(const uint64_t key[2], const uint64_t *m, size_t words)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	uint64_t b = (uint64_t)(words * 8) << 56;

	for (size_t i = 0; i < words; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

int stack_secrets_init(struct nm_stack *s)
{
	uint8_t *p = (uint8_t *)s->secret;
	size_t left = sizeof(s->secret);

	while (left) {
		ssize_t n = getrandom(p, left, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static uint64_t tuple_hash(const uint64_t key[2], const struct nm_conn *c)
{
	uint64_t m[5] = { 0 };

	memcpy(&m[0], c->rip, 16);
	memcpy(&m[2], c->lip, 16);
	m[4] = (uint64_t)c->rport << 32 | (uint64_t)c->lport << 16 | c->ipver;
	return siphash(key, m, 5);
}

uint32_t tcp_secure_iss(struct nm_stack *s, const struct nm_conn *c)
{
	return (uint32_t)tuple_hash(&s->secret[0], c) +
	       (uint32_t)(stack_now(s) / 4000u);
}

uint32_t tcp_secure_ts_offset(struct nm_stack *s, const struct nm_conn *c)
{
	return (uint32_t)tuple_hash(&s->secret[2], c);
}
