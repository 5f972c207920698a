/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "sim_flow.h"

void test_flow_init(struct test_flow *tf, const char *name, uint16_t port,
		    uint32_t payload)
{
	memset(tf, 0, sizeof(*tf));
	nm_flow_from_name(name, port, &tf->flow);
	tf->seed = port;
	tf->payload = payload;
}

unsigned int test_flow_send(struct nm_sim *sim, struct test_flow *tf,
			    unsigned int n)
{
	uint8_t payload[9000], frame[9100];
	unsigned int ok = 0;

	for (unsigned int i = 0; i < n; i++) {
		int len;

		nm_pattern_fill(payload, tf->payload, tf->sent, tf->seed);
		len = nm_pkt_build(frame, sizeof(frame), &tf->flow,
				   (uint32_t)tf->sent, payload, tf->payload);
		if (len < 0 || nm_sim_inject(sim, frame, (size_t)len) < 0)
			continue;
		tf->sent += tf->payload;
		ok++;
	}
	return ok;
}

unsigned int test_flow_recv(struct nm_sim *sim, uint32_t queue,
			    struct test_flow *tf, struct nm_dmabuf *dmabuf,
			    nm_netmem_ref *keep, unsigned int keep_max)
{
	struct nm_rx_pkt pkts[64];
	uint8_t expect[9100], payload[9000];
	unsigned int total = 0, kept = 0, n;
	uint8_t *dmabuf_cpu = NULL;

	if (dmabuf) {
		void *p;

		if (nm_dmabuf_cpu_map(dmabuf, &p, NULL))
			return 0;
		dmabuf_cpu = p;
		nm_dmabuf_begin_cpu_access(dmabuf, NM_DMABUF_READ);
	}
	while ((n = nm_sim_rx_burst(sim, queue, pkts, 64))) {
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];
			const uint8_t *data;
			size_t hlen = nm_pkt_hdr_len(&tf->flow);
			uint64_t off = tf->received;

			/* Rebuild the frame that was sent at this offset. */
			nm_pattern_fill(payload, tf->payload, off, tf->seed);
			nm_pkt_build(expect, sizeof(expect), &tf->flow, (uint32_t)off,
				     payload, tf->payload);
			if (p->flags & NM_RX_PKT_SPLIT) {
				tf->split_pkts++;
				if (p->hdr_len != hlen ||
				    memcmp(nm_netmem_address(p->hdr), expect, hlen))
					tf->hdr_mismatches++;
			} else {
				tf->unsplit_pkts++;
				hlen = 0;
			}
			if (nm_netmem_is_net_iov(p->payload)) {
				struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);

				tf->net_iov_pkts++;
				data = dmabuf_cpu ? dmabuf_cpu + nm_net_iov_offset(niov) : NULL;
			} else {
				data = nm_netmem_address(p->payload);
			}
			if (!data || p->payload_len != tf->payload + (p->flags & NM_RX_PKT_SPLIT ? 0 : nm_pkt_hdr_len(&tf->flow)) ||
			    memcmp(data, expect + hlen, p->payload_len))
				tf->mismatches++;
			tf->received += tf->payload;
			if (keep && kept + 2 <= keep_max * 2) {
				keep[kept++] = p->payload;
				keep[kept++] = p->hdr;
			} else {
				nm_netmem_put(p->payload);
				if (p->hdr)
					nm_netmem_put(p->hdr);
			}
		}
		total += n;
	}
	if (dmabuf)
		nm_dmabuf_end_cpu_access(dmabuf, NM_DMABUF_READ);
	return total;
}

int test_flow_round_trip(struct nm_sim *sim, struct test_flow *tf, uint32_t queue,
			 unsigned int n, struct nm_dmabuf *dmabuf)
{
	uint64_t bad = tf->mismatches + tf->hdr_mismatches;

	if (test_flow_send(sim, tf, n) != n)
		return -1;
	if (test_flow_recv(sim, queue, tf, dmabuf, NULL, 0) != n)
		return -2;
	return tf->mismatches + tf->hdr_mismatches == bad ? 0 : -3;
}

void test_ops_snap(struct nm_sim *sim, struct test_ops *s)
{
	for (int i = 0; i < NM_SIM_OP_COUNT; i++)
		s->n[i] = nm_sim_op_count(sim, (enum nm_sim_op)i);
}

uint64_t test_ops_since(struct nm_sim *sim, const struct test_ops *s, enum nm_sim_op op)
{
	return nm_sim_op_count(sim, op) - s->n[op];
}

uint64_t test_ops_total_since(struct nm_sim *sim, const struct test_ops *s)
{
	uint64_t n = 0;

	for (int i = 0; i < NM_SIM_OP_COUNT; i++)
		n += test_ops_since(sim, s, (enum nm_sim_op)i);
	return n;
}
