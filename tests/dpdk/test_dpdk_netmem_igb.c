/* SPDX-License-Identifier: MIT */
/*
 * In the guest, on port B over VFIO: net_netmem_igb, the DPDK PMD over
 * netmem's igb driver. RSS over two queues; a queue set up without split
 * on a dmabuf pool refused by netmem's check before any driver callback
 * (and still receiving on its old memory); the ethdev adapter's bind of a
 * dmabuf pool to queue 1 with protocol split (headers in a host mempool,
 * payload in the udmabuf), every payload byte checked, queue 0 untouched;
 * TX back to port A; every mbuf back in its pool at close. Frames come from
 * port A (kernel igb) through an AF_PACKET socket this program opens.
 *
 *   test_dpdk_netmem_igb   (needs NETMEM_GUEST_PORT_B_BDF on vfio-pci and
 *                           NETMEM_GUEST_PORT_A_IF; skips without them)
 */
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include <netmem/dpdk_ethdev.h>
#include <netmem/dpdk_igb.h>
#include <netmem/dpdk_mempool.h>
#include <netmem/netdev.h>
#include <netmem/rxq_caps.h>

#include "nm_test.h"
#include "test_frame.h"

#define BURST 40
#define UDP6_HDRS (14u + 40u + 8u)

static uint16_t port;
static struct nm_igb *igb;
static int tx_fd = -1;
static struct sockaddr_ll tx_addr;
static uint8_t a_mac[6];
static struct nm_flow flow[2];         /* flow[q] lands on queue q (RSS) */
static struct rte_mempool *host_pool, *hdr_pool, *dmabuf_pool;
static uint32_t next_seq;

static int open_sender(const char *ifname)
{
	struct ifreq ifr = { 0 };

	tx_fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (tx_fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(tx_fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(a_mac, ifr.ifr_hwaddr.sa_data, 6);
	tx_addr = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_halen = 6,
					.sll_ifindex = (int)if_nametoindex(ifname),
					.sll_protocol = htons(0x86dd) };
	memcpy(tx_addr.sll_addr, nm_tf_dst_mac, 6);
	return 0;
}

/* UDP ports whose flows the redirection table (entry i -> queue i % 2)
 * sends to queue 0 and to queue 1. */
static void pick_flows(void)
{
	bool have[2] = { false, false };

	for (uint16_t p = 47100; p < 47400 && !(have[0] && have[1]); p++) {
		struct nm_flow f;
		uint32_t q;

		nm_tf_flow(&f, a_mac, p);
		q = (nm_igb_rss_hash(&f) & 127) % 2;
		if (!have[q]) {
			flow[q] = f;
			have[q] = true;
		}
	}
}

struct rx_result {
	unsigned int ours, intact, split, on_queue[2], wrong_pool, outside_dmabuf, rss_ok;
	unsigned int ptype_ok;        /* packet_type Ether/IPv6/UDP, as sent */
};

/* Is @m's data in the dmabuf pool's buffers (by IOVA)? */
static bool in_dmabuf(const struct rte_mbuf *m)
{
	struct nm_dpdk_pool_info pi;
	uint64_t iova = rte_mbuf_data_iova(m);

	if (nm_dpdk_pool_info(dmabuf_pool, &pi))
		return false;
	return iova >= pi.iova && iova < pi.iova + (uint64_t)pi.num_bufs * pi.buf_size;
}

/*
 * Send @n frames of flow @f from port A, poll both queues, check each of
 * ours: whole in one @pool0 mbuf (split false), or headers in a hdr_pool
 * mbuf and the payload in a dmabuf_pool mbuf (split true).
 */
static void send_and_receive(const struct nm_flow *f, unsigned int n, bool split,
			     struct rte_mempool *pool0, struct rx_result *r)
{
	uint8_t frame[1200], payload[1000], flat[2048];
	struct rte_mbuf *pkts[32];
	uint32_t first = next_seq;

	memset(r, 0, sizeof(*r));
	for (unsigned int i = 0; i < n; i++) {
		nm_tf_payload(payload, sizeof(payload), next_seq++);
		int len = nm_pkt_build(frame, sizeof(frame), f, 0, payload, sizeof(payload));

		if (len < 0 || sendto(tx_fd, frame, (size_t)len, 0,
				      (struct sockaddr *)&tx_addr, sizeof(tx_addr)) < 0)
			return;
		usleep(2000);
	}
	for (int spin = 0; spin < 3000 && r->ours < n; spin++) {
		uint16_t k = 0;

		for (uint16_t q = 0; q < 2; q++) {
			uint16_t got = rte_eth_rx_burst(port, q, pkts, 32);

			for (uint16_t i = 0; i < got; i++) {
				struct rte_mbuf *m = pkts[i];
				uint32_t seq, bad, checked;
				const uint8_t *data = rte_pktmbuf_read(m, 0, m->pkt_len, flat);

				if (!data || !nm_tf_check(data, m->pkt_len, f->dst_port, &seq, &bad,
							  &checked) || seq < first || seq >= next_seq)
					continue;
				r->ours++;
				r->on_queue[q]++;
				r->rss_ok += (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) &&
					     m->hash.rss == nm_igb_rss_hash(f);
				r->ptype_ok += m->packet_type == (RTE_PTYPE_L2_ETHER |
								  RTE_PTYPE_L3_IPV6 |
								  RTE_PTYPE_L4_UDP);
				r->intact += !bad && checked == sizeof(payload);
				if (split) {
					bool ok = m->nb_segs == 2 && m->pool == hdr_pool &&
						  m->data_len == UDP6_HDRS &&
						  m->next->pool == dmabuf_pool;

					r->split += ok;
					r->outside_dmabuf += ok && !in_dmabuf(m->next);
				} else if (m->nb_segs != 1 || m->pool != pool0) {
					r->wrong_pool++;
				}
			}
			rte_pktmbuf_free_bulk(pkts, got);
			k += got;
		}
		if (!k)
			usleep(1000);
	}
}

static void test_probe(void)
{
	struct rte_eth_dev_info info;
	struct rte_eth_link link = { 0 };
	uint32_t ptypes[16];
	int n;
	bool ipv6_udp = false;

	CHECK_EQ(rte_eth_dev_info_get(port, &info), 0);
	CHECK(!strcmp(info.driver_name, "net_netmem_igb"));
	CHECK(info.rx_queue_offload_capa & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT);
	CHECK(info.rx_seg_capa.max_nseg == 2 && info.rx_seg_capa.multi_pools);
	CHECK(info.dev_capa & RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP);
	n = rte_eth_buffer_split_get_supported_hdr_ptypes(port, ptypes, 16);
	for (int i = 0; i < n; i++)
		ipv6_udp |= ptypes[i] == (RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6_EXT_UNKNOWN |
					  RTE_PTYPE_L4_UDP);
	CHECK_MSG(n == 4 && ipv6_udp, "%d split ptypes", n);
	/* The packet types it sets in mbufs: TCP and UDP over IPv4 and IPv6. */
	n = rte_eth_dev_get_supported_ptypes(port, RTE_PTYPE_ALL_MASK, ptypes, 16);
	{
		uint32_t all = 0;

		for (int i = 0; i < n && i < 16; i++)
			all |= ptypes[i];
		CHECK_MSG((all & RTE_PTYPE_L3_IPV4) && (all & RTE_PTYPE_L3_IPV6) &&
			  (all & RTE_PTYPE_L4_UDP) && (all & RTE_PTYPE_L4_TCP), "%d ptypes", n);
	}
	CHECK_EQ(rte_eth_link_get_nowait(port, &link), 0);
	CHECK(link.link_status == RTE_ETH_LINK_UP && link.link_speed == 1000);
	CHECK(igb != NULL);
	printf("# %s: link %u Mb/s, %u RX queues, split after %d header types\n",
	       info.driver_name, link.link_speed, info.max_rx_queues, n);
}

static void test_rss_spreads(void)
{
	for (uint16_t q = 0; q < 2; q++) {
		struct rx_result r;

		send_and_receive(&flow[q], BURST, false, host_pool, &r);
		CHECK_MSG(r.ours == BURST && r.intact == BURST && r.on_queue[q] == BURST &&
			  !r.wrong_pool, "port %u: %u of %u in, %u intact, %u on queue %u, "
			  "%u in other pools", flow[q].dst_port, r.ours, BURST, r.intact,
			  r.on_queue[q], q, r.wrong_pool);
		/* The device's hash, as netmem computes it for the flow. */
		CHECK_MSG(r.rss_ok == BURST, "queue %u: %u of %u with the flow's RSS hash %#x",
			  q, r.rss_ok, BURST, nm_igb_rss_hash(&flow[q]));
		/* The device's parse, from the descriptor. */
		CHECK_MSG(r.ptype_ok == BURST, "queue %u: %u of %u typed Ether/IPv6/UDP", q,
			  r.ptype_ok, BURST);
	}
}

/* The redirection table through ethdev: the default spread is reported,
 * an update moves a flow to the queue its entry now names, a bad one is
 * refused and changes nothing; the hash key reads back as the driver's and
 * another key is refused. */
static void test_reta_update(void)
{
	struct rte_eth_rss_reta_entry64 t[2];
	struct rte_eth_rss_conf rc = { 0 };
	uint8_t key[40], other[40], want[40];
	uint32_t e0 = nm_igb_rss_hash(&flow[0]) & 127;
	struct rx_result r;

	memset(t, 0, sizeof(t));
	t[0].mask = t[1].mask = ~0ull;
	CHECK_EQ(rte_eth_dev_rss_reta_query(port, t, 128), 0);
	CHECK_EQ(t[e0 / 64].reta[e0 % 64], 0);
	CHECK_EQ(t[1].reta[1], 1);                /* entry 65 -> 65 % 2 */
	/* flow[0]'s entry to queue 1. */
	memset(t, 0, sizeof(t));
	t[e0 / 64].mask = 1ull << (e0 % 64);
	t[e0 / 64].reta[e0 % 64] = 1;
	CHECK_EQ(rte_eth_dev_rss_reta_update(port, t, 128), 0);
	send_and_receive(&flow[0], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.on_queue[1] == BURST, "%u of %u in, %u on queue 1",
		  r.ours, BURST, r.on_queue[1]);
	/* A queue that is not configured: refused, the table as it was. */
	t[e0 / 64].reta[e0 % 64] = 7;
	CHECK_EQ(rte_eth_dev_rss_reta_update(port, t, 128), -EINVAL);
	memset(t, 0, sizeof(t));
	t[0].mask = t[1].mask = ~0ull;
	CHECK_EQ(rte_eth_dev_rss_reta_query(port, t, 128), 0);
	CHECK_EQ(t[e0 / 64].reta[e0 % 64], 1);
	/* Back to the spread the other tests expect. */
	t[e0 / 64].reta[e0 % 64] = 0;
	CHECK_EQ(rte_eth_dev_rss_reta_update(port, t, 128), 0);
	send_and_receive(&flow[0], BURST, false, host_pool, &r);
	CHECK_EQ(r.on_queue[0], BURST);
	/* The key is the driver's, and fixed. */
	rc.rss_key = key;
	rc.rss_key_len = sizeof(key);
	CHECK_EQ(rte_eth_dev_rss_hash_conf_get(port, &rc), 0);
	nm_igb_rss_key(want);
	CHECK(!memcmp(key, want, sizeof(key)));
	CHECK(rc.rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_UDP);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	rc.rss_key = other;
	CHECK_EQ(rte_eth_dev_rss_hash_update(port, &rc), -ENOTSUP);
	rc.rss_key = key;
	CHECK_EQ(rte_eth_dev_rss_hash_update(port, &rc), 0);
}

static void op_counts(uint64_t c[NM_IGB_OP_COUNT])
{
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		c[i] = nm_igb_op_count(igb, (enum nm_igb_op)i);
}

static void test_no_split_on_dmabuf_refused(void)
{
	struct nm_netdev *nd = nm_igb_netdev(igb);
	struct nm_igb_ring_regs before, after;
	uint64_t ops0[NM_IGB_OP_COUNT], ops1[NM_IGB_OP_COUNT];
	struct nm_rxq_counters c0;
	struct rte_eth_rxq_info qi;
	struct rx_result r;
	int ret;

	/* Runtime setup of a stopped queue, as ethdev requires. */
	CHECK_EQ(rte_eth_dev_rx_queue_stop(port, 0), 0);
	op_counts(ops0);
	c0 = nd->rxqs[0].counters;
	nm_igb_ring_regs(igb, 0, &before);
	ret = rte_eth_rx_queue_setup(port, 0, 0, 0, NULL, dmabuf_pool);
	op_counts(ops1);
	nm_igb_ring_regs(igb, 0, &after);
	CHECK_MSG(ret == -EOPNOTSUPP, "setup returned %d", ret);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		CHECK_MSG(ops1[i] == ops0[i], "driver op %d ran %llu times", i,
			  (unsigned long long)(ops1[i] - ops0[i]));
	CHECK_EQ(nd->rxqs[0].counters.restarts, c0.restarts);
	CHECK_EQ(nd->rxqs[0].counters.refused, c0.refused + 1);
	CHECK(before.rdbal == after.rdbal && before.rdlen == after.rdlen &&
	      before.srrctl == after.srrctl);
	/* Bad input the PMD itself refuses (a 32-byte header buffer; the
	 * device's is 64 to 960): the same, nothing changed. */
	{
		union rte_eth_rxseg segs[2] = {
			{ .split = { .mp = hdr_pool, .length = 32 } },
			{ .split = { .mp = dmabuf_pool } },
		};
		struct rte_eth_rxconf rc = { .offloads = RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT,
					     .rx_seg = segs, .rx_nseg = 2 };

		CHECK_EQ(rte_eth_rx_queue_setup(port, 0, 0, 0, &rc, NULL), -EINVAL);
		op_counts(ops1);
		for (int i = 0; i < NM_IGB_OP_COUNT; i++)
			CHECK(ops1[i] == ops0[i]);
	}
	CHECK_EQ(rte_eth_rx_queue_info_get(port, 0, &qi), 0);
	CHECK(qi.mp == host_pool);
	printf("# refused: 0 driver callbacks, restarts %llu, refused %llu, SRRCTL %#x kept\n",
	       (unsigned long long)nd->rxqs[0].counters.restarts,
	       (unsigned long long)nd->rxqs[0].counters.refused, after.srrctl);
	CHECK_EQ(rte_eth_dev_rx_queue_start(port, 0), 0);
	send_and_receive(&flow[0], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.intact == BURST && r.on_queue[0] == BURST &&
		  !r.wrong_pool, "after the refusal: %u of %u in, %u intact on queue 0",
		  r.ours, BURST, r.intact);
}

static void test_adapter_split_bind(void)
{
	struct nm_dpdk_rxq_split s = {
		.hdr_pool = hdr_pool, .payload_pool = dmabuf_pool,
		.proto_hdr = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6_EXT_UNKNOWN | RTE_PTYPE_L4_UDP,
	};
	struct nm_netdev *nd = nm_igb_netdev(igb), *mirror;
	uint64_t r0 = nd->rxqs[0].counters.restarts, r1 = nd->rxqs[1].counters.restarts;
	struct nm_err err = { 0 };
	struct rx_result r;
	char caps[64];
	int ret;

	mirror = nm_dpdk_port_netdev(port, &err);
	CHECK_MSG(mirror, "%s", err.msg);
	nm_rxq_caps_str(mirror->rxqs[1].caps, caps, sizeof(caps));
	printf("# adapter sees queue 1: %s\n", caps);
	CHECK(strstr(caps, "unreadable") && strstr(caps, "header-split") &&
	      strstr(caps, "restart"));
	ret = nm_dpdk_rxq_bind(port, 1, &s, &err);
	CHECK_MSG(ret == 0, "bind: %s", err.msg);
	/* Only queue 1 restarted, once, through netmem's path. */
	CHECK_EQ(nd->rxqs[1].counters.restarts, r1 + 1);
	CHECK_EQ(nd->rxqs[0].counters.restarts, r0);
	send_and_receive(&flow[1], BURST, true, NULL, &r);
	CHECK_MSG(r.ours == BURST && r.intact == BURST && r.split == BURST &&
		  !r.outside_dmabuf, "queue 1: %u of %u in, %u intact, %u split (%u B headers "
		  "from '%s', payload from '%s'), %u outside the dmabuf", r.ours, BURST, r.intact,
		  r.split, UDP6_HDRS, hdr_pool->name, dmabuf_pool->name, r.outside_dmabuf);
	printf("# queue 1: %u frames split, %u B headers in host mbufs, payload in the udmabuf, "
	       "every byte checked\n", r.split, UDP6_HDRS);
	send_and_receive(&flow[0], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.intact == BURST && r.on_queue[0] == BURST,
		  "queue 0 after the bind: %u of %u", r.ours, BURST);
	ret = nm_dpdk_rxq_unbind(port, 1, &err);
	CHECK_MSG(ret == 0, "unbind: %s", err.msg);
	send_and_receive(&flow[1], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.intact == BURST && !r.wrong_pool,
		  "queue 1 after the unbind: %u of %u whole in host mbufs", r.ours, BURST);
}

/* Deferred start: the port starts, the queue waits for its own start and
 * takes no frame until then; the other queue runs throughout. */
static void test_deferred_start(void)
{
	struct rte_eth_rxconf rc = { .rx_deferred_start = 1 };
	struct rte_eth_rxq_info qi;
	struct rx_result r;

	CHECK_EQ(rte_eth_dev_stop(port), 0);
	CHECK_EQ(rte_eth_rx_queue_setup(port, 1, 0, 0, &rc, host_pool), 0);
	CHECK_EQ(rte_eth_dev_start(port), 0);
	CHECK_EQ(rte_eth_rx_queue_info_get(port, 1, &qi), 0);
	CHECK_EQ(qi.queue_state, RTE_ETH_QUEUE_STATE_STOPPED);
	send_and_receive(&flow[1], BURST / 4, false, host_pool, &r);
	CHECK_MSG(r.ours == 0, "queue 1 not started yet took %u frames", r.ours);
	send_and_receive(&flow[0], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.on_queue[0] == BURST, "queue 0: %u of %u", r.ours, BURST);
	CHECK_EQ(rte_eth_dev_rx_queue_start(port, 1), 0);
	send_and_receive(&flow[1], BURST, false, host_pool, &r);
	CHECK_MSG(r.ours == BURST && r.intact == BURST && r.on_queue[1] == BURST,
		  "queue 1 after its start: %u of %u", r.ours, BURST);
}

static void test_tx_to_port_a(void)
{
	int rx = socket(AF_PACKET, SOCK_RAW, htons(0x86dd));
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(0x86dd),
				 .sll_ifindex = tx_addr.sll_ifindex };
	struct nm_flow f = flow[0];
	uint8_t payload[600], buf[2048];
	unsigned int seen = 0, sent = 0;
	uint32_t first = next_seq;

	CHECK(rx >= 0 && !bind(rx, (struct sockaddr *)&a, sizeof(a)));
	f.dst_port = 47999;
	for (int i = 0; i < 10; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(host_pool);
		int len;

		nm_tf_payload(payload, sizeof(payload), next_seq++);
		len = nm_pkt_build(rte_pktmbuf_mtod(m, uint8_t *), 2048, &f, 0, payload,
				   sizeof(payload));
		m->data_len = m->pkt_len = (uint32_t)len;
		sent += rte_eth_tx_burst(port, 0, &m, 1);
	}
	for (int spin = 0; spin < 200 && seen < sent; spin++) {
		struct pollfd p = { .fd = rx, .events = POLLIN };
		uint32_t seq, bad, checked;
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recv(rx, buf, sizeof(buf), 0);
		if (n > 0 && nm_tf_check(buf, (uint32_t)n, 47999, &seq, &bad, &checked) && !bad &&
		    seq >= first && seq < next_seq)
			seen++;
	}
	close(rx);
	CHECK_MSG(sent == 10 && seen == 10, "%u sent, %u seen intact on port A", sent, seen);
}

static void test_stats(void)
{
	struct rte_eth_stats st;
	struct rte_eth_xstat_name names[64];
	struct rte_eth_xstat xs[64];
	int n = rte_eth_xstats_get_names(port, names, 64), split = -1;
	long long q0 = -1, q1 = -1;

	CHECK_EQ(rte_eth_stats_get(port, &st), 0);
	CHECK(st.ipackets >= 6 * BURST && st.opackets >= 10);
	CHECK(n > 0 && rte_eth_xstats_get(port, xs, 64) == n);
	/* The per-queue counters, as ethdev's queue xstats (the PMD asks for
	 * them: RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS); 25.11 has no q_ipackets[]
	 * in struct rte_eth_stats any more. */
	for (int i = 0; i < n; i++) {
		if (!strcmp(names[i].name, "rx_q1_split_packets"))
			split = (int)xs[i].value;
		else if (!strcmp(names[i].name, "rx_q0_packets"))
			q0 = (long long)xs[i].value;
		else if (!strcmp(names[i].name, "rx_q1_packets"))
			q1 = (long long)xs[i].value;
	}
	CHECK_MSG(q0 >= 3 * BURST && q1 >= 3 * BURST, "rx_q0_packets %lld, rx_q1_packets %lld",
		  q0, q1);
#if RTE_VERSION < RTE_VERSION_NUM(25, 11, 0, 0)
	CHECK(st.q_ipackets[0] == (uint64_t)q0 && st.q_ipackets[1] == (uint64_t)q1);
#endif
	CHECK_MSG(split >= BURST, "rx_q1_split_packets %d", split);
	printf("# ipackets %llu (q0 %lld, q1 %lld), opackets %llu, imissed %llu, "
	       "rx_q1_split_packets %d\n", (unsigned long long)st.ipackets, q0, q1,
	       (unsigned long long)st.opackets, (unsigned long long)st.imissed, split);
}

static void test_dmabuf_mapped_for_port(void)
{
	struct nm_dpdk_pool_info pi;

	CHECK_EQ(nm_dpdk_pool_info(dmabuf_pool, &pi), 0);
	printf("# pool %s: %s %llu MiB, mapped for %u device(s)\n", dmabuf_pool->name,
	       pi.exporter, (unsigned long long)(pi.dmabuf_size >> 20), pi.mapped_devices);
	CHECK(!strcmp(pi.exporter, "udmabuf"));
	CHECK_EQ(pi.mapped_devices, 1);
}

/* EAL's log as TAP comments: the guest puts stderr on the same stream. */
/* Port A's MTU (SIOCSIFMTU), for frames the raw socket may send. */
static int set_port_a_mtu(int mtu)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", getenv("NETMEM_GUEST_PORT_A_IF"));
	ifr.ifr_mtu = mtu;
	return ioctl(tx_fd, SIOCSIFMTU, &ifr) ? -errno : 0;
}

/*
 * Jumbo frames through the PMD: the port closed (every dmabuf mbuf back),
 * the device probed again with mtu=9000 and one queue. dev_info says
 * 9000; a queue on 2 KiB mbufs is refused (a frame would not fit); on
 * 10 KiB mbufs 8000-byte UDP payloads arrive whole in one mbuf each, every
 * byte checked. The new port is left as `port` for main's close (and the
 * dmabuf pool, mapped for the old one, frees after without a crash).
 */
static void test_jumbo_after_reprobe(void)
{
	char args[96];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { .rxmode.mtu = 9000 };
	struct rte_mempool *big;
	static uint8_t frame[9100], payload[8000], flat[9100];
	struct rte_mbuf *pkts[32];
	unsigned int ours = 0, whole = 0, intact = 0;
	uint32_t first;

	rte_eth_dev_stop(port);
	nm_dpdk_port_forget(port, NULL);
	CHECK_EQ(rte_eth_dev_close(port), 0);
	/* The vdev goes too, so its device (VFIO fd, group) is free again.
	 * The payload pool forgot it at the close: freeing the pool later
	 * does not reach the removed device. */
	CHECK_EQ(rte_eal_hotplug_remove("vdev", "net_netmem_igb0"), 0);
	{
		struct nm_dpdk_pool_info pi;

		CHECK_EQ(nm_dpdk_pool_info(dmabuf_pool, &pi), 0);
		CHECK_EQ(pi.mapped_devices, 0);
	}
	snprintf(args, sizeof(args), "bdf=%s,queues=1,mtu=9000", getenv("NETMEM_GUEST_PORT_B_BDF"));
	CHECK_EQ(rte_eal_hotplug_add("vdev", "net_netmem_igb1", args), 0);
	CHECK_EQ(rte_eth_dev_get_port_by_name("net_netmem_igb1", &port), 0);
	CHECK_EQ(rte_eth_dev_info_get(port, &info), 0);
	CHECK_EQ(info.max_mtu, 9000);
	CHECK(info.max_rx_pktlen >= 9018 && info.min_rx_bufsize >= 9018);
	big = rte_pktmbuf_pool_create_by_ops("big", 1024, 32, 0, RTE_PKTMBUF_HEADROOM + 10240,
					     0, "ring_mp_mc");
	CHECK(big != NULL);
	CHECK_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CHECK(rte_eth_rx_queue_setup(port, 0, 0, 0, NULL, host_pool) < 0);
	CHECK_EQ(rte_eth_rx_queue_setup(port, 0, 0, 0, NULL, big), 0);
	CHECK_EQ(rte_eth_tx_queue_setup(port, 0, 256, 0, NULL), 0);
	CHECK_EQ(rte_eth_allmulticast_enable(port), 0);
	CHECK_EQ(rte_eth_dev_start(port), 0);
	CHECK_EQ(set_port_a_mtu(9000), 0);
	usleep(500000);
	first = next_seq;
	for (unsigned int i = 0; i < 10; i++) {
		int len;

		nm_tf_payload(payload, sizeof(payload), next_seq++);
		len = nm_pkt_build(frame, sizeof(frame), &flow[0], 0, payload, sizeof(payload));
		CHECK(len > 8000 && sendto(tx_fd, frame, (size_t)len, 0,
					   (struct sockaddr *)&tx_addr, sizeof(tx_addr)) == len);
		usleep(2000);
	}
	for (int spin = 0; spin < 3000 && ours < 10; spin++) {
		uint16_t got = rte_eth_rx_burst(port, 0, pkts, 32);

		for (uint16_t i = 0; i < got; i++) {
			const uint8_t *data = rte_pktmbuf_read(pkts[i], 0, pkts[i]->pkt_len, flat);
			uint32_t seq, bad, checked;

			if (!data || !nm_tf_check(data, pkts[i]->pkt_len, flow[0].dst_port, &seq,
						  &bad, &checked) || seq < first || seq >= next_seq)
				continue;
			ours++;
			whole += pkts[i]->nb_segs == 1 && pkts[i]->pool == big;
			intact += !bad && checked == sizeof(payload);
		}
		rte_pktmbuf_free_bulk(pkts, got);
		if (!got)
			usleep(1000);
	}
	CHECK_MSG(ours == 10 && whole == 10 && intact == 10,
		  "%u of 10 jumbo frames in, %u whole in one mbuf, %u intact", ours, whole, intact);
	printf("# mtu=9000: %u of 10 frames of 8000-byte payload whole and intact\n", intact);
	CHECK_EQ(set_port_a_mtu(1500), 0);
}

static ssize_t log_write(void *c, const char *buf, size_t len)
{
	static bool mid_line;

	(void)c;
	for (size_t i = 0; i < len; i++) {
		if (!mid_line)
			fputs("# ", stdout);
		fputc(buf[i], stdout);
		mid_line = buf[i] != '\n';
	}
	return (ssize_t)len;
}

static int setup_port(void)
{
	struct rte_eth_conf conf = {
		.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS,
		.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV6_UDP,
	};
	struct rte_eth_link link = { 0 };

	if (rte_eth_dev_configure(port, 2, 1, &conf) ||
	    rte_eth_rx_queue_setup(port, 0, 0, 0, NULL, host_pool) ||
	    rte_eth_rx_queue_setup(port, 1, 0, 0, NULL, host_pool) ||
	    rte_eth_tx_queue_setup(port, 0, 256, 0, NULL) ||
	    rte_eth_allmulticast_enable(port) || rte_eth_dev_start(port))
		return -1;
	for (int i = 0; i < 100 && !link.link_status; i++) {
		if (rte_eth_link_get_nowait(port, &link))
			return -1;
		usleep(100000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct nm_test tests[] = {
		NM_TEST(test_probe),
		NM_TEST(test_rss_spreads),
		NM_TEST(test_reta_update),
		NM_TEST(test_no_split_on_dmabuf_refused),
		NM_TEST(test_adapter_split_bind),
		NM_TEST(test_deferred_start),
		NM_TEST(test_tx_to_port_a),
		NM_TEST(test_stats),
		NM_TEST(test_dmabuf_mapped_for_port),
		NM_TEST(test_jumbo_after_reprobe),
	};
	const char *bdf = getenv("NETMEM_GUEST_PORT_B_BDF");
	const char *ifa = getenv("NETMEM_GUEST_PORT_A_IF");
	struct nm_dpdk_pool_params prm = { .source = "udmabuf:16M" };
	struct nm_err err = { 0 };
	char block[64], vdev[128];
	char *eal[] = { argv[0], "-l", "0", "-n", "1", "--iova-mode=va", "-b", block,
			"--vdev", vdev, "--log-level=pmd.mempool.dmabuf:info",
			"--log-level=pmd.net.netmem_igb:info", NULL };
	int ret;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!bdf || !ifa || !getenv("NETMEM_GUEST_VFIO_GROUP")) {
		printf("1..0 # SKIP not in the test guest with port B on vfio-pci\n");
		return 0;
	}
	snprintf(block, sizeof(block), "%s", bdf);
	snprintf(vdev, sizeof(vdev), "net_netmem_igb0,bdf=%s,queues=2", bdf);
	rte_openlog_stream(fopencookie(NULL, "w", (cookie_io_functions_t){ .write = log_write }));
	if (rte_eal_init(12, eal) < 0 || rte_eth_dev_count_avail() != 1 || open_sender(ifa)) {
		printf("Bail out! EAL with %s or the sender on %s did not start\n", vdev, ifa);
		return 1;
	}
	port = 0;
	igb = nm_dpdk_igb(port);
	pick_flows();
	host_pool = rte_pktmbuf_pool_create_by_ops("host", 4096, 32, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE, 0, "ring_mp_mc");
	hdr_pool = rte_pktmbuf_pool_create_by_ops("hdr", 2048, 32, 0,
						  RTE_PKTMBUF_HEADROOM + 256, 0, "ring_mp_mc");
	dmabuf_pool = nm_dpdk_pktmbuf_pool_create("payload", 2048, 32, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, 0, &prm);
	if (!host_pool || !hdr_pool || !dmabuf_pool || setup_port()) {
		printf("Bail out! cannot set up port %s\n", vdev);
		return 1;
	}
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_eth_dev_stop(port);
	nm_dpdk_port_forget(port, NULL);
	rte_eth_dev_close(port);
	/* Every mbuf the device held is back: the pool can go. */
	if (nm_dpdk_pool_free(dmabuf_pool, &err)) {
		printf("# dmabuf pool not freed after close: %s\n", err.msg);
		ret = 1;
	}
	rte_eal_cleanup();
	return ret;
}
