/* SPDX-License-Identifier: MIT */
/*
 * Header split into a udmabuf on real (emulated) hardware: port A (the
 * kernel's igb) sends a UDP and a TCP stream with known payload patterns to
 * port B, our driver, whose queue 1 is bound to a udmabuf. Every frame must
 * arrive split: headers in host memory (exactly the header bytes: the rest
 * of the header buffer keeps its canary), payload in the udmabuf, where
 * every byte is checked. At the end every DMA mapping must be gone.
 *
 *   igb-split [--bytes SIZE] [--dmabuf SPEC]    (in the guest, with --vfio)
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/igb.h>

#include "igb_test.h"

const char *igbt_name = "igb-split";

#define QUEUE 1

/* Steer @fl to @q; on a redirection-table collision try the next ports. */
static void steer(struct nm_igb *igb, struct igbt_flow *fl, uint32_t q)
{
	struct nm_err err = { 0 };
	int ret;

	while ((ret = nm_igb_steer(igb, &fl->f, q, &err)) == -EEXIST)
		fl->f.dst_port++;
	IGBT_CHECK(!ret, "steer %s port %u to queue %u (RSS hash 0x%08x, "
		   "redirection entry %u)", fl->f.l4proto == IPPROTO_UDP ? "udp6" : "tcp6",
		   fl->f.dst_port, q, nm_igb_rss_hash(&fl->f), nm_igb_rss_hash(&fl->f) & 127);
}

int main(int argc, char **argv)
{
	const char *spec = "udmabuf:16M", *ifname = getenv("NETMEM_GUEST_PORT_A_IF");
	struct nm_igb_params p = { .bdf = getenv("NETMEM_GUEST_PORT_B_BDF") };
	uint64_t bytes = 4 << 20;
	struct nm_err err = { 0 };
	struct nm_igb *igb;
	struct nm_netdev *dev;
	struct nm_host_mem *host;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_dma_domain *dom;
	struct igbt_flow flows[2];
	struct igbt_sender s = { 0 };
	struct nm_igb_rxq_stats st, other;
	uint64_t frames = 0, hdr_bytes = 0, canary_ok = 0, net_iovs = 0, stray = 0, csum_good = 0;
	double t0, last_progress;
	void *cpu;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", (struct option[]){
			{ "bytes", required_argument, NULL, 'b' },
			{ "dmabuf", required_argument, NULL, 'd' }, { 0 } }, NULL)) != -1) {
		if (c == 'b' && !nm_parse_size(optarg, &bytes))
			continue;
		if (c == 'd') {
			spec = optarg;
			continue;
		}
		IGBT_DIE("usage: igb-split [--bytes SIZE] [--dmabuf SPEC]");
	}
	if (!p.bdf || !ifname)
		IGBT_DIE("run in the test guest with --vfio (NETMEM_GUEST_PORT_[AB]_* unset)");

	ret = nm_igb_open(&p, &igb, &err);
	IGBT_CHECK(!ret, "open %s (4 RX queues, header split on each)%s%s", p.bdf,
		   ret ? ": " : "", err.msg);
	dev = nm_igb_netdev(igb);
	dom = dev->dma;
	nm_dma_domain_get(dom);
	ret = nm_dmabuf_open_spec(spec, &buf, &err);
	IGBT_CHECK(!ret && !buf->emulated, "a real %s dmabuf (%s, exporter %s)", spec,
		   ret ? err.msg : "ok", ret ? "-" : buf->exporter);
	ret = nm_dmabuf_binding_create(dev->dma, buf, &(struct nm_binding_params){ .buf_size = 4096 },
				       &b, &err);
	IGBT_CHECK(!ret, "map the udmabuf into the VFIO container (through its memfd)%s%s",
		   ret ? ": " : "", err.msg);
	ret = nm_dmabuf_binding_bind_rxq(b, dev, QUEUE, &err);
	IGBT_CHECK(!ret, "bind it to queue %d through the common restart path%s%s", QUEUE,
		   ret ? ": " : "", err.msg);
	ret = nm_dmabuf_cpu_map(buf, &cpu, &err);
	IGBT_CHECK(!ret, "map the udmabuf for the CPU, used only to check payload");

	igbt_flow_init(&flows[0], "udp6", 5201, 11, bytes);
	igbt_flow_init(&flows[1], "tcp6", 5301, 22, bytes);
	steer(igb, &flows[0], QUEUE);
	steer(igb, &flows[1], QUEUE);

	/* Every host buffer gets the canary now, while nothing arrives: a
	 * header buffer must come back with exactly the header bytes changed. */
	host = nm_igb_host_mem(igb);
	memset(host->base, IGBT_CANARY, host->size);

	s.ifname = ifname;
	s.flows = flows;
	s.nflows = 2;
	s.window = 64;
	IGBT_CHECK(!igbt_sender_start(&s), "port A (%s, kernel igb) sends %llu bytes of UDP and "
		   "%llu bytes of TCP payload over AF_PACKET", ifname,
		   (unsigned long long)bytes, (unsigned long long)bytes);

	t0 = last_progress = igbt_now();
	while (flows[0].recv_off < bytes || flows[1].recv_off < bytes) {
		struct nm_rx_pkt pkts[32];
		char why[200];
		unsigned int n;

		nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
		n = nm_igb_rx_burst(igb, QUEUE, pkts, 32);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *pk = &pkts[i];
			uint8_t *h = pk->hdr ? nm_netmem_address(pk->hdr) : NULL;

			if (!(pk->flags & NM_RX_PKT_SPLIT) || !h || nm_netmem_is_net_iov(pk->hdr))
				IGBT_DIE("frame %llu was not split into a host header buffer",
					 (unsigned long long)frames);
			if (pk->payload_len && !nm_netmem_is_net_iov(pk->payload))
				IGBT_DIE("frame %llu: payload in host memory, not in the udmabuf",
					 (unsigned long long)frames);
			/* The payload is unreadable: only the device can vouch for it. */
			if ((pk->flags & (NM_RX_PKT_L4_CSUM_GOOD | NM_RX_PKT_L4_CSUM_BAD |
					  NM_RX_PKT_IP_CSUM_BAD)) != NM_RX_PKT_L4_CSUM_GOOD)
				IGBT_DIE("frame %llu: RX checksum verdict flags 0x%x, not L4 good",
					 (unsigned long long)frames, pk->flags);
			csum_good++;
			if (igbt_check_frame(flows, 2, pk, why, sizeof(why)) < 0)
				IGBT_DIE("frame %llu: %s", (unsigned long long)frames, why);
			if (!igbt_canary_intact(h, pk->hdr_len, nm_netmem_buf_size(pk->hdr)))
				IGBT_DIE("frame %llu: the device wrote past the %u header bytes into "
					 "its host buffer", (unsigned long long)frames, pk->hdr_len);
			canary_ok++;
			memset(h, IGBT_CANARY, pk->hdr_len);   /* ready for its next use */
			hdr_bytes += pk->hdr_len;
			net_iovs += pk->payload != 0;
			frames++;
			nm_netmem_put(pk->hdr);
			if (pk->payload)
				nm_netmem_put(pk->payload);
		}
		nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
		atomic_fetch_add(&s.taken, n);
		/* The flows must not show up anywhere else. */
		for (uint32_t q = 0; q < dev->num_rx_queues; q++) {
			unsigned int m = q == QUEUE ? 0 : nm_igb_rx_burst(igb, q, pkts, 32);

			for (unsigned int i = 0; i < m; i++) {
				stray++;
				if (pkts[i].hdr)
					nm_netmem_put(pkts[i].hdr);
				if (pkts[i].payload)
					nm_netmem_put(pkts[i].payload);
			}
		}
		if (n)
			last_progress = igbt_now();
		else if (igbt_now() - last_progress > 10)
			IGBT_DIE("no frame for 10 s: UDP at %llu of %llu, TCP at %llu (sender: %s)",
				 (unsigned long long)flows[0].recv_off, (unsigned long long)bytes,
				 (unsigned long long)flows[1].recv_off,
				 atomic_load(&s.done) ? "done" : "running");
	}
	IGBT_CHECK(igbt_sender_join(&s) == 0, "sender finished: %llu frames in %.1f s",
		   (unsigned long long)atomic_load(&s.sent), igbt_now() - t0);
	IGBT_CHECK(flows[0].bytes_recv == bytes && flows[1].bytes_recv == bytes,
		   "every payload byte verified in the udmabuf: UDP %llu bytes in %llu frames, "
		   "TCP %llu bytes in %llu frames",
		   (unsigned long long)flows[0].bytes_recv, (unsigned long long)flows[0].frames_recv,
		   (unsigned long long)flows[1].bytes_recv, (unsigned long long)flows[1].frames_recv);
	nm_igb_rxq_stats(igb, QUEUE, &st);
	IGBT_CHECK(st.split == frames && st.packets == frames && net_iovs == frames,
		   "all %llu frames split: %llu header bytes in host memory, %llu payload bytes "
		   "in %llu udmabuf buffers", (unsigned long long)frames,
		   (unsigned long long)st.hdr_bytes, (unsigned long long)st.payload_bytes,
		   (unsigned long long)net_iovs);
	IGBT_CHECK(csum_good == frames && (dev->rxqs[QUEUE].caps & NM_RXQ_CAP_RX_CSUM),
		   "rx-csum: the device checked and passed the TCP/UDP checksum of all %llu "
		   "frames", (unsigned long long)csum_good);
	IGBT_CHECK(canary_ok == frames, "no payload byte in host buffers: the canary after the "
		   "headers was intact in all %llu header buffers", (unsigned long long)canary_ok);
	memset(&other, 0, sizeof(other));
	for (uint32_t q = 0; q < dev->num_rx_queues; q++) {
		nm_igb_rxq_stats(igb, q, &st);
		if (q != QUEUE)
			other.packets += st.packets;
	}
	IGBT_CHECK(stray == 0 && other.packets == 0,
		   "steering: no frame on queues 0, 2, 3 (%llu)", (unsigned long long)other.packets);
	nm_netdev_print_queues(dev, stdout);

	nm_dmabuf_binding_unbind(b);
	nm_igb_close(igb);
	nm_dmabuf_put(buf);
	IGBT_CHECK(dom->stats.maps == dom->stats.unmaps && dom->stats.mapped_bytes == 0,
		   "closed: %llu DMA maps, %llu unmaps, 0 bytes left mapped",
		   (unsigned long long)dom->stats.maps, (unsigned long long)dom->stats.unmaps);
	nm_dma_domain_put(dom);
	return 0;
}
