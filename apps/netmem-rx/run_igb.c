/* SPDX-License-Identifier: MIT */
/* netmem-rx on a real NIC: the Intel 82576 (igb) over VFIO. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netmem/igb.h>
#include <netmem/netmem.h>

#include "netmem_rx.h"

static void send_progress(struct nm_igb *igb, const uint8_t *to, uint64_t bytes,
			  uint64_t frames)
{
	uint8_t f[60] = { 0 };
	const void *fp = f;
	uint16_t len = sizeof(f);

	memcpy(f, to, 6);
	nm_igb_mac_addr(igb, f + 6);
	f[12] = 0x88;
	f[13] = 0xb5;   /* IEEE 802 local experimental ethertype */
	memcpy(f + 14, "NMRX", 4);
	for (int i = 0; i < 8; i++) {
		f[18 + i] = (uint8_t)(bytes >> (56 - 8 * i));
		f[26 + i] = (uint8_t)(frames >> (56 - 8 * i));
	}
	nm_igb_tx_burst(igb, &fp, &len, 1);
}

int run_igb(const struct options *o, const struct nm_flow *flow,
		   struct nm_dmabuf *buf)
{
	struct nm_igb_params ip = { .bdf = o->dev + 4, .num_rx_queues = o->queues,
				    .mtu = o->mtu };
	struct nm_err err = { 0 };
	struct nm_igb *igb = NULL;
	struct nm_netdev *dev;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_ctl_server *ctl = NULL;
	struct nm_binding_params bp = { .buf_size = o->buf_size };
	struct counters c = { 0 };
	struct nm_igb_rxq_stats st;
	uint64_t recv_off = 0, acked = 0, lost = 0, iter = 0;
	uint32_t seed = o->port, next_report = 1;
	uint8_t mac[6], peer[6] = { 0 }, *cpu;
	double t0 = 0, last = 0, elapsed;
	int ret = 2;

	if (o->queue >= o->queues || (o->lesser_queue >= 0 && (uint32_t)o->lesser_queue >= o->queues)) {
		fprintf(stderr, "netmem-rx: queue out of range: the device has %u queues (0-%u)\n",
			o->queues, o->queues - 1);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines as they happen */
	if (o->lesser_queue >= 0)
		ip.no_split_mask = 1u << o->lesser_queue;
	if (nm_igb_open(&ip, &igb, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	dev = nm_igb_netdev(igb);
	nm_igb_mac_addr(igb, mac);
	printf("device: igb %s over VFIO (%s), MAC %02x:%02x:%02x:%02x:%02x:%02x, link up, "
	       "%u RX queues\n", ip.bdf, dev->dma->ops->kind, mac[0], mac[1], mac[2], mac[3],
	       mac[4], mac[5], o->queues);
	if (start_ctl(o, dev, &ctl))
		goto out;
	if (nm_dmabuf_binding_create(dev, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (o->lesser_queue >= 0) {
		uint64_t before = nm_igb_op_count(igb, NM_IGB_OP_MEM_ALLOC) +
				  nm_igb_op_count(igb, NM_IGB_OP_STOP);
		int r = nm_dmabuf_binding_bind_rxq(b, dev, (uint32_t)o->lesser_queue, &err);

		printf("bind to queue %d (header split off): %s\n  -> %s (driver callbacks run: %llu)\n",
		       o->lesser_queue, r ? "refused, as it should be" : "ACCEPTED (unexpected)",
		       r ? err.msg : "", (unsigned long long)(nm_igb_op_count(igb, NM_IGB_OP_MEM_ALLOC) +
				nm_igb_op_count(igb, NM_IGB_OP_STOP) - before));
	}
	if (nm_dmabuf_binding_bind_rxq(b, dev, o->queue, &err) ||
	    nm_igb_steer(igb, flow, o->queue, &err) ||
	    nm_dmabuf_cpu_map(buf, (void **)&cpu, &err)) {
		fprintf(stderr, "netmem-rx: queue %u: %s\n", o->queue, err.msg);
		goto out;
	}
	printf("bound %s to queue %u; %s to port %u steered there (RSS entry %u); "
	       "receiving %llu MiB\n", o->dmabuf, o->queue, o->flow, o->port,
	       nm_igb_rss_hash(flow) & 127, (unsigned long long)(o->bytes >> 20));
	printf("ready: start the sender\n");
	fflush(stdout);

	last = now_s();
	while (recv_off < o->bytes && !stop_signal) {
		struct nm_rx_pkt pkts[64];
		unsigned int n;

		if (ctl && (++iter & 255) == 0)
			nm_ctl_server_poll(ctl, 0);
		nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
		n = nm_igb_rx_burst(igb, o->queue, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];
			const uint8_t *h = p->hdr ? nm_netmem_address(p->hdr) : NULL;
			struct nm_pkt_info pi;

			if (!h || nm_pkt_parse(h, p->hdr_len, &pi) || pi.dst_port != o->port ||
			    pi.l4proto != flow->l4proto) {
				c.other_frames++;   /* another flow that hashed here */
				continue;
			}
			if (!c.frames++) {
				memcpy(peer, h + 6, 6);
				t0 = now_s();
			}
			c.split += (p->flags & NM_RX_PKT_SPLIT) != 0;
			c.hdr_bytes += p->hdr_len;
			c.payload_bytes += p->payload_len;
			if (flow->l4proto == 6 && pi.tcp_seq != (uint32_t)recv_off) {
				lost++;     /* a gap: count it and go on from there */
				recv_off += (uint32_t)(pi.tcp_seq - (uint32_t)recv_off);
			}
			if (p->payload_len && nm_netmem_is_net_iov(p->payload)) {
				struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);

				c.net_iov++;
				/* The CPU reads the dmabuf only here, to check. */
				if (nm_pattern_check(cpu + nm_net_iov_offset(niov), p->payload_len,
						     recv_off, seed) != -1)
					c.mismatches++;
			} else if (p->payload_len) {
				c.mismatches++;   /* payload must not be in host memory */
			}
			recv_off += p->payload_len;
		}
		nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
		nm_igb_rx_recycle(igb, o->queue, pkts, n);
		for (uint32_t q = 0; q < o->queues; q++) {
			unsigned int m = q == o->queue ? 0 : nm_igb_rx_burst(igb, q, pkts, 64);

			c.other_frames += m;
			nm_igb_rx_recycle(igb, q, pkts, m);
		}
		if (n)
			last = now_s();
		if (o->ack_every && c.frames &&
		    (c.frames - acked >= o->ack_every || (!n && now_s() - last > 0.05))) {
			send_progress(igb, peer, recv_off, c.frames);
			acked = c.frames;
		}
		if (!n && now_s() - last > o->timeout) {
			fprintf(stderr, "netmem-rx: no frame for %u s: stopped at %llu of %llu bytes\n",
				o->timeout, (unsigned long long)recv_off, (unsigned long long)o->bytes);
			break;
		}
		if (!o->quiet && recv_off * 4 >= (uint64_t)next_report * o->bytes && next_report < 4) {
			printf("  %3u%%  %llu MiB\n", next_report * 25,
			       (unsigned long long)(recv_off >> 20));
			next_report++;
		}
	}
	elapsed = c.frames ? now_s() - t0 : 0;
	if (o->ack_every && c.frames)
		send_progress(igb, peer, recv_off, c.frames);
	nm_igb_rxq_stats(igb, o->queue, &st);
	printf("\nreceived %llu frames, %llu payload bytes in %.3f s: %.3f Gbit/s, %.4f Mframes/s "
	       "(igb over VFIO: paced by the sender; byte-by-byte check)\n",
	       (unsigned long long)c.frames, (unsigned long long)c.payload_bytes, elapsed,
	       elapsed ? (double)c.payload_bytes * 8 / elapsed / 1e9 : 0,
	       elapsed ? (double)c.frames / elapsed / 1e6 : 0);
	printf("header split: %llu of %llu frames; %llu header bytes in host memory, "
	       "%llu payload bytes in the dmabuf (%llu net_iov buffers); %llu unsplit dropped\n",
	       (unsigned long long)c.split, (unsigned long long)c.frames,
	       (unsigned long long)c.hdr_bytes, (unsigned long long)c.payload_bytes,
	       (unsigned long long)c.net_iov, (unsigned long long)st.drop_unsplit);
	printf("payload check: %s (%llu mismatched frames, %llu gaps)\n",
	       c.mismatches || lost || recv_off != o->bytes ? "FAILED" : "every byte verified",
	       (unsigned long long)c.mismatches, (unsigned long long)lost);
	printf("other queues meanwhile: %llu frames\n\n", (unsigned long long)c.other_frames);
	nm_netdev_print_queues(dev, stdout);
	ret = c.mismatches || lost || recv_off != o->bytes ? 1 : 0;
	hold_ctl(o, ctl);
out:
	nm_ctl_server_destroy(ctl);
	if (b)
		nm_dmabuf_binding_unbind(b);
	nm_igb_close(igb);
	return ret;
}

