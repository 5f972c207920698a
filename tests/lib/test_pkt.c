/* SPDX-License-Identifier: MIT */
/* Frames: what we build parses back, with valid checksums. */
#include <netinet/in.h>

#include <netmem/netmem.h>

#include "nm_test.h"
#include "../../lib/inet_csum.h"

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The ones'-complement sum over pseudo header + L4 must be 0xffff. */
static int l4_csum_ok(const uint8_t *f, const struct nm_pkt_info *pi)
{
	size_t l3 = NM_ETH_HLEN, l4 = l3 + (pi->ipver == 4 ? 20 : 40);
	size_t l4len = pi->hdr_len - l4 + pi->payload_len;
	uint32_t s = pi->ipver == 4 ? sum16(f + l3 + 12, 8, 0) : sum16(f + l3 + 8, 32, 0);

	s += pi->l4proto + (uint32_t)l4len;
	s = sum16(f + l4, l4len, s);
	return fold(s) == 0xffff;
}

static void check_roundtrip(const char *name)
{
	struct nm_flow f;
	struct nm_pkt_info pi;
	uint8_t payload[1000], frame[1200];
	int len;

	CHECK_EQ(nm_flow_from_name(name, 4242, &f), 0);
	nm_pattern_fill(payload, sizeof(payload), 12345, 7);
	len = nm_pkt_build(frame, sizeof(frame), &f, 777, payload, sizeof(payload));
	CHECK_EQ(len, (int)(nm_pkt_hdr_len(&f) + sizeof(payload)));
	CHECK_EQ(nm_pkt_parse(frame, (size_t)len, &pi), 0);
	CHECK_EQ(pi.ipver, f.ipver);
	CHECK_EQ(pi.l4proto, f.l4proto);
	CHECK_EQ(pi.dst_port, 4242);
	CHECK_EQ(pi.src_port, f.src_port);
	CHECK_EQ(pi.hdr_len, nm_pkt_hdr_len(&f));
	CHECK_EQ(pi.payload_len, sizeof(payload));
	if (f.l4proto == IPPROTO_TCP)
		CHECK_EQ(pi.tcp_seq, 777);
	if (f.ipver == 4)
		CHECK_EQ(fold(sum16(frame + NM_ETH_HLEN, 20, 0)), 0xffff);
	CHECK(l4_csum_ok(frame, &pi));
	CHECK_EQ(nm_pattern_check(frame + pi.hdr_len, pi.payload_len, 12345, 7), -1);
	frame[pi.hdr_len + 17] ^= 1;
	CHECK_EQ(nm_pattern_check(frame + pi.hdr_len, pi.payload_len, 12345, 7), 17);
	CHECK(!l4_csum_ok(frame, &pi));
}

static void test_udp4(void) { check_roundtrip("udp4"); }
static void test_tcp4(void) { check_roundtrip("tcp4"); }
static void test_udp6(void) { check_roundtrip("udp6"); }
static void test_tcp6(void) { check_roundtrip("tcp6"); }

static void test_bad_frames(void)
{
	struct nm_pkt_info pi;
	struct nm_flow f;
	uint8_t frame[200] = { 0 }, pl[100] = { 0 };
	int len;

	CHECK_EQ(nm_flow_from_name("sctp4", 1, &f), -EINVAL);
	CHECK_EQ(nm_pkt_parse(frame, 10, &pi), -EINVAL);
	frame[12] = 0x08; frame[13] = 0x06;    /* ARP */
	CHECK_EQ(nm_pkt_parse(frame, 60, &pi), -EPROTONOSUPPORT);
	CHECK_EQ(nm_flow_from_name("tcp6", 1, &f), 0);
	len = nm_pkt_build(frame, sizeof(frame), &f, 0, pl, sizeof(pl));
	CHECK(len > 0);
	CHECK_EQ(nm_pkt_parse(frame, 60, &pi), -EINVAL);  /* truncated */
	CHECK_EQ(nm_pkt_build(frame, 100, &f, 0, pl, sizeof(pl)), -EMSGSIZE);
}

static void test_pattern_catches_shifts(void)
{
	uint8_t a[4096];

	nm_pattern_fill(a, sizeof(a), 0, 1);
	/* The same bytes read at the wrong offset must not match. */
	for (uint64_t shift = 1; shift < 300; shift++)
		CHECK(nm_pattern_check(a + shift, 256, 0, 1) != -1);
	CHECK(nm_pattern_check(a, 256, 0, 2) != -1);   /* other flow */
}

/* What a NIC's checksum engine says: good frames good, one flipped bit bad,
 * Ethernet padding ignored, a bad IPv4 header named as such. */
static void test_csum_verdict(void)
{
	static const char *const names[] = { "udp4", "tcp4", "udp6", "tcp6" };
	uint8_t frame[256], payload[64];

	nm_pattern_fill(payload, sizeof(payload), 0, 7);
	for (size_t i = 0; i < 4; i++) {
		struct nm_flow f;
		int len;

		CHECK_EQ(nm_flow_from_name(names[i], 5201, &f), 0);
		len = nm_pkt_build(frame, sizeof(frame), &f, 1000, payload, sizeof(payload));
		CHECK(len > 0);
		CHECK_EQ(nm_pkt_csum_verdict(frame, (size_t)len), NM_RX_PKT_L4_CSUM_GOOD);
		/* Padding after the IP packet is not part of the sum. */
		memset(frame + len, 0xa5, 16);
		CHECK_EQ(nm_pkt_csum_verdict(frame, (size_t)len + 16), NM_RX_PKT_L4_CSUM_GOOD);
		frame[len - 3] ^= 0x10;
		CHECK_EQ(nm_pkt_csum_verdict(frame, (size_t)len), NM_RX_PKT_L4_CSUM_BAD);
		frame[len - 3] ^= 0x10;
		if (f.ipver == 4) {
			frame[NM_ETH_HLEN + 8] ^= 1;   /* TTL: header sum breaks */
			CHECK_EQ(nm_pkt_csum_verdict(frame, (size_t)len), NM_RX_PKT_IP_CSUM_BAD);
			frame[NM_ETH_HLEN + 8] ^= 1;
		}
		/* Truncated below the IP length: nothing to judge. */
		CHECK_EQ(nm_pkt_csum_verdict(frame, (size_t)len - 1), 0);
	}
	memset(frame, 0, 60);   /* not IP */
	CHECK_EQ(nm_pkt_csum_verdict(frame, 60), 0);
}

/* xorshift64: the same "random" lengths and bytes on every run. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The word-at-a-time sum against the byte pairs above (sum16): every length
 * 0..80 and random ones to 9000, every start offset 0..15 (odd ones
 * included), random starting sums (0 and all-ones among them), all-0xff
 * bytes (the carries at their worst) and random bytes. */
static void test_csum_fast_vs_reference(void)
{
	static uint8_t buf[9016 + 16];
	static const uint32_t sums[] = { 0, 1, 0xffff, 0x1fffe, 0xfffffffe, 0xffffffff };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int checked = 0;

	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = fill ? (uint8_t)rnd(&x) : 0xff;
		for (size_t n = 0; n < 4000; n++) {
			size_t len = n <= 80 ? n : (size_t)(rnd(&x) % 9001);
			size_t off = n % 16;
			uint32_t s0 = n < 6 * 16 ? sums[n % 6] : (uint32_t)rnd(&x);
			uint32_t fast = nm_inet_csum_add(s0, buf + off, len);
			/* The reference adds s0 folded first: 32 bits of
			 * s0 plus a long sum16 could overflow. */
			uint32_t ref = sum16(buf + off, len, fold(s0));
			uint16_t want = (uint16_t)(0xffff ^ fold(ref));

			CHECK_MSG(fast <= 0xffff, "len %zu off %zu: %#x not folded", len, off, fast);
			CHECK_MSG(nm_inet_csum_fold(fast) == want,
				  "len %zu off %zu sum %#x: fast %#x, reference %#x", len, off, s0,
				  nm_inet_csum_fold(fast), want);
			checked++;
		}
	}
	/* All zero bytes and no sum: the only way to get 0 (the checksum of
	 * nothing, 0xffff on the wire). */
	memset(buf, 0, 64);
	CHECK_EQ(nm_inet_csum_add(0, buf, 64), 0);
	CHECK_EQ(nm_inet_csum_fold(nm_inet_csum_add(0, buf, 64)), 0xffff);
	CHECK_EQ(checked, 8000);
}

NM_TEST_MAIN(
	NM_TEST(test_udp4),
	NM_TEST(test_tcp4),
	NM_TEST(test_udp6),
	NM_TEST(test_tcp6),
	NM_TEST(test_bad_frames),
	NM_TEST(test_pattern_catches_shifts),
	NM_TEST(test_csum_verdict),
	NM_TEST(test_csum_fast_vs_reference),
)
