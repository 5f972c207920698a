/* SPDX-License-Identifier: MIT */
/*
 * The igb driver's RSS hash against the Toeplitz verification vectors of
 * Microsoft's RSS specification (same key the driver programs), so flow
 * steering computes what the device computes. Runs on the host.
 */
#include <arpa/inet.h>

#include <netmem/igb.h>

#include "nm_test.h"

static struct nm_flow flow(int ipver, const char *src, uint16_t sport,
			   const char *dst, uint16_t dport)
{
	struct nm_flow f = { .ipver = (uint8_t)ipver, .l4proto = 6,
			     .src_port = sport, .dst_port = dport };

	inet_pton(ipver == 4 ? AF_INET : AF_INET6, src, f.src_ip);
	inet_pton(ipver == 4 ? AF_INET : AF_INET6, dst, f.dst_ip);
	return f;
}

static void rss_ipv4_tcp_vectors(void)
{
	struct nm_flow a = flow(4, "66.9.149.187", 2794, "161.142.100.80", 1766);
	struct nm_flow b = flow(4, "199.92.111.2", 14230, "65.69.140.83", 4739);
	struct nm_flow c = flow(4, "24.19.198.95", 12898, "12.22.207.184", 38024);

	CHECK_EQ(nm_igb_rss_hash(&a), 0x51ccc178);
	CHECK_EQ(nm_igb_rss_hash(&b), 0xc626b0ea);
	CHECK_EQ(nm_igb_rss_hash(&c), 0x5c2b394a);
}

static void rss_ipv6_tcp_vectors(void)
{
	struct nm_flow a = flow(6, "3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766);
	struct nm_flow b = flow(6, "3ffe:501:8::260:97ff:fe40:efab", 14230,
				"ff02::1", 4739);

	CHECK_EQ(nm_igb_rss_hash(&a), 0x40207d3d);
	CHECK_EQ(nm_igb_rss_hash(&b), 0xdde51bbf);
}

/*
 * tests/igb/tcp.sh's IPv4 senders (port A 169.254.10.1, source ports fixed,
 * to port B 169.254.10.2:5201) must be steerable to a bound queue: no flow
 * in redirection entry 0 (kept for unhashed traffic), and the four parallel
 * ones (40002-40005) in four different entries; the same for bridge.sh's
 * (40000-40003) and jumbo.sh's (40000, as tcp.sh's nc), scarce.sh's
 * (40010-40013). With ephemeral ports one flow in 128 was not, and its
 * payload landed in host memory.
 */
static void guest_tcp_test_flows_are_steerable(void)
{
	uint32_t slot[14];

	for (uint16_t i = 0; i < 14; i++) {
		struct nm_flow f = flow(4, "169.254.10.1", (uint16_t)(40000 + i),
					"169.254.10.2", 5201);

		slot[i] = nm_igb_rss_hash(&f) & 127;
		CHECK_MSG(slot[i] != 0, "source port %u hashes to entry 0", 40000 + i);
	}
	for (int i = 2; i < 6; i++)
		for (int j = 2; j < i; j++)
			CHECK(slot[i] != slot[j]);
	/* bridge.sh's senders: 40000 + i to its listen port 5401 + i. */
	for (uint16_t i = 0; i < 4; i++) {
		struct nm_flow f = flow(4, "169.254.10.1", (uint16_t)(40000 + i), "169.254.10.2",
					(uint16_t)(5401 + i));

		CHECK_MSG(nm_igb_rss_hash(&f) & 127, "%u -> %u hashes to entry 0", 40000 + i,
			  5401 + i);
	}
}

/*
 * UDP datagrams to a port rule's queue (app.sh: 169.254.10.1:41000 to
 * 169.254.10.2:5301) must not hash to entry 0, which stays on queue 0.
 * The device hashes UDP over the same 4-tuple as TCP (MRQC UDP fields).
 */
static void guest_udp_test_flow_avoids_entry_0(void)
{
	struct nm_flow f = flow(4, "169.254.10.1", 41000, "169.254.10.2", 5301);

	f.l4proto = 17;
	CHECK_MSG(nm_igb_rss_hash(&f) & 127, "41000 -> 5301 hashes to entry 0");
}

NM_TEST_MAIN(NM_TEST(rss_ipv4_tcp_vectors), NM_TEST(rss_ipv6_tcp_vectors),
	     NM_TEST(guest_tcp_test_flows_are_steerable),
	     NM_TEST(guest_udp_test_flow_avoids_entry_0))
