/* SPDX-License-Identifier: MIT */
/*
 * Queue ops on the device, while port A sends three flows, one per queue:
 *   tcp6 -> queue 1 (the queue that gets restarted / bound)
 *   udp6 -> queue 2 (header split, host memory)
 *   udp6 -> queue 3 (header split OFF: flags "restart" only)
 * A poller thread receives on every queue and checks every payload byte.
 *
 *   igb-queues restart  queue 1 restarts again and again (udmabuf A, host,
 *                       udmabuf B, host, ...) while queues 2 and 3 keep
 *                       receiving: no frame lost or damaged there, and some
 *                       arrive while a restart is under way.
 *   igb-queues refuse   binding a udmabuf to queue 3 is refused before any
 *                       driver callback: the ring registers are unchanged,
 *                       and its flow goes on without a gap.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netmem/igb.h>

#include "igb_test.h"

const char *igbt_name = "igb-queues";

enum { F_Q1, F_Q2, F_Q3, NFLOWS };

struct poller {
	struct nm_igb *igb;
	struct igbt_sender *s;
	struct igbt_flow *flows;
	atomic_bool stop, restarting;
	atomic_bool hold_23;                    /* leave queues 2 and 3 for now */
	atomic_uint_least64_t frames[4];        /* per queue */
	atomic_uint_least64_t during_restart[4];
	atomic_int q1_kind;                     /* 0 host, else the binding id */
	char error[240];
	pthread_t thread;
};

static void *poll_main(void *arg)
{
	struct poller *po = arg;
	struct nm_netdev *dev = nm_igb_netdev(po->igb);

	while (!atomic_load(&po->stop)) {
		for (uint32_t q = 0; q < dev->num_rx_queues; q++) {
			struct nm_rx_pkt pkts[32];
			bool restarting = atomic_load(&po->restarting);
			unsigned int n;
			char why[200];

			/* Leave the restarting queue alone, as a datapath thread
			 * would: polling it would wait on its lock and stall the
			 * other queues' polling (and the paced sender) with it. */
			if ((q == 1 && restarting) ||
			    ((q == 2 || q == 3) && atomic_load(&po->hold_23)))
				continue;
			n = nm_igb_rx_burst(po->igb, q, pkts, 32);

			for (unsigned int i = 0; i < n; i++) {
				struct nm_rx_pkt *p = &pkts[i];
				int f = igbt_check_frame(po->flows, NFLOWS, p, why, sizeof(why));

				if (f < 0 || (uint32_t)f != q - 1) {
					snprintf(po->error, sizeof(po->error), "queue %u: %s", q,
						 f < 0 ? why : "a frame of another queue's flow");
					atomic_store(&po->stop, true);
				}
				if (q == 1)
					atomic_store(&po->q1_kind, nm_netmem_is_net_iov(p->payload) ?
						     (int)((struct nm_dmabuf_binding *)nm_net_iov_owner(
							     nm_netmem_to_net_iov(p->payload))->owner_priv)->id : 0);
				if (p->hdr)
					nm_netmem_put(p->hdr);
				if (p->payload)
					nm_netmem_put(p->payload);
			}
			atomic_fetch_add(&po->frames[q], n);
			if (restarting)
				atomic_fetch_add(&po->during_restart[q], n);
			atomic_fetch_add(&po->s->taken, n);
		}
	}
	return NULL;
}

/* Wait until queue @q has taken @count frames in all; false on timeout. */
static bool wait_frames(struct poller *po, uint32_t q, uint64_t count, double timeout)
{
	double t0 = igbt_now();

	while (atomic_load(&po->frames[q]) < count) {
		if (atomic_load(&po->stop) || igbt_now() - t0 > timeout)
			return false;
		usleep(1000);
	}
	return true;
}

static void check_poller(struct poller *po)
{
	if (po->error[0])
		IGBT_DIE("%s", po->error);
}

static struct nm_dmabuf_binding *make_binding(struct nm_netdev *dev, struct nm_dmabuf **buf)
{
	struct nm_dmabuf_binding *b;
	struct nm_err err = { 0 };
	void *cpu;

	if (nm_dmabuf_open_spec("udmabuf:8M", buf, &err) ||
	    nm_dmabuf_binding_create(dev->dma, *buf, NULL, &b, &err) ||
	    nm_dmabuf_cpu_map(*buf, &cpu, &err))
		IGBT_DIE("a udmabuf binding: %s", err.msg);
	return b;
}

static void steer(struct nm_igb *igb, struct igbt_flow *fl, uint32_t q)
{
	struct nm_err err = { 0 };
	int ret;

	while ((ret = nm_igb_steer(igb, &fl->f, q, &err)) == -EEXIST)
		fl->f.dst_port++;
	if (ret)
		IGBT_DIE("steer port %u to queue %u: %s", fl->f.dst_port, q, err.msg);
}

static void phase_restart(struct nm_igb *igb, struct poller *po)
{
	struct nm_netdev *dev = nm_igb_netdev(igb);
	struct nm_dmabuf *buf[2];
	struct nm_dmabuf_binding *b[2];
	struct nm_err err = { 0 };
	struct nm_igb_ring_regs r;
	const int rounds = 8;
	double busy = 0;

	b[0] = make_binding(dev, &buf[0]);
	b[1] = make_binding(dev, &buf[1]);
	for (int k = 0; k < rounds; k++) {
		struct nm_dmabuf_binding *to = k % 2 == 0 ? b[(k / 2) % 2] : NULL;
		uint64_t before;
		double t0;
		int ret;

		/* Let frames for queues 2 and 3 queue up in their rings (the
		 * sender stops at its window), so that the restart below runs
		 * with work waiting on the other queues, whatever the guest's
		 * scheduler does with the sender. */
		atomic_store(&po->hold_23, true);
		for (double tw = igbt_now(); igbt_now() - tw < 5;) {
			if (atomic_load(&po->s->sent) - atomic_load(&po->s->taken) >=
			    po->s->window - 8)
				break;
			usleep(1000);
		}
		atomic_store(&po->restarting, true);
		atomic_store(&po->hold_23, false);
		t0 = igbt_now();
		ret = to ? nm_dmabuf_binding_bind_rxq(to, dev, 1, &err) :
			   nm_rxq_unbind_mp(dev, 1, &err);
		busy += igbt_now() - t0;
		atomic_store(&po->restarting, false);
		IGBT_CHECK(!ret, "restart %d: queue 1 onto %s%s%s", k + 1,
			   to ? (to == b[0] ? "udmabuf A" : "udmabuf B") : "host memory",
			   ret ? ": " : "", ret ? err.msg : "");
		for (uint32_t q = 2; q <= 3; q++) {
			nm_igb_ring_regs(igb, q, &r);
			if (!(r.rxdctl & (1u << 25)))
				IGBT_DIE("queue %u was disabled by a restart of queue 1", q);
		}
		/* Counted from here: queue 1 kept receiving while the others
		 * were held, and the poller may still be handing out one burst
		 * (32) it took from the old memory. */
		before = atomic_load(&po->frames[1]);
		if (!wait_frames(po, 1, before + 32 + 50, 20))
			IGBT_DIE("queue 1 received no traffic after restart %d (%s)", k + 1,
				 po->error[0] ? po->error : "timeout");
		IGBT_CHECK(atomic_load(&po->q1_kind) == (to ? (int)to->id : 0),
			   "queue 1 receives on the new memory (%llu frames since)",
			   (unsigned long long)(atomic_load(&po->frames[1]) - before));
		check_poller(po);
	}
	IGBT_CHECK(dev->rxqs[1].counters.restarts == (uint64_t)rounds &&
		   !dev->rxqs[2].counters.restarts && !dev->rxqs[3].counters.restarts,
		   "queue 1 restarted %d times (%.0f ms in the restart path), queues 2 and 3 "
		   "never", rounds, busy * 1e3);
	IGBT_CHECK(atomic_load(&po->during_restart[2]) + atomic_load(&po->during_restart[3]) > 0,
		   "queues 2 and 3 kept receiving while queue 1 restarted: %llu and %llu frames "
		   "taken during the restarts",
		   (unsigned long long)atomic_load(&po->during_restart[2]),
		   (unsigned long long)atomic_load(&po->during_restart[3]));
	nm_dmabuf_binding_unbind(b[0]);
	nm_dmabuf_binding_unbind(b[1]);
	nm_dmabuf_put(buf[0]);
	nm_dmabuf_put(buf[1]);
}

static bool same_ring(const struct nm_igb_ring_regs *a, const struct nm_igb_ring_regs *b)
{
	return a->rdbal == b->rdbal && a->rdbah == b->rdbah && a->rdlen == b->rdlen &&
	       a->srrctl == b->srrctl && a->rxdctl == b->rxdctl;
}

static void phase_refuse(struct nm_igb *igb, struct poller *po)
{
	struct nm_netdev *dev = nm_igb_netdev(igb);
	struct nm_igb_ring_regs r0, r1, r2;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b = make_binding(dev, &buf);
	struct nm_err err = { 0 };
	uint64_t ops0[NM_IGB_OP_COUNT], frames0;
	char caps[64];
	int ret;

	IGBT_CHECK((dev->rxqs[3].caps & ~NM_RXQ_CAP_RX_CSUM) == NM_RXQ_CAP_RESTART,
		   "queue 3 runs without header split; its flags say so: %s",
		   nm_rxq_caps_str(dev->rxqs[3].caps, caps, sizeof(caps)));
	nm_igb_ring_regs(igb, 3, &r0);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		ops0[i] = nm_igb_op_count(igb, (enum nm_igb_op)i);
	frames0 = atomic_load(&po->frames[3]);
	ret = nm_dmabuf_binding_bind_rxq(b, dev, 3, &err);
	nm_igb_ring_regs(igb, 3, &r1);
	IGBT_CHECK(ret == -EOPNOTSUPP, "bind to queue 3 refused: %s", err.msg);
	for (int i = 0; i < NM_IGB_OP_COUNT; i++)
		if (nm_igb_op_count(igb, (enum nm_igb_op)i) != ops0[i])
			IGBT_DIE("a driver callback ran (op %d)", i);
	IGBT_OK("no driver callback ran (mem_alloc %llu, stop %llu, start %llu, mem_free %llu: "
		"as before)", (unsigned long long)ops0[NM_IGB_OP_MEM_ALLOC],
		(unsigned long long)ops0[NM_IGB_OP_STOP], (unsigned long long)ops0[NM_IGB_OP_START],
		(unsigned long long)ops0[NM_IGB_OP_MEM_FREE]);
	IGBT_CHECK(same_ring(&r0, &r1), "queue 3's ring registers unchanged: RDBA 0x%08x%08x "
		   "RDLEN %u SRRCTL 0x%08x RXDCTL 0x%08x", r1.rdbah, r1.rdbal, r1.rdlen, r1.srrctl,
		   r1.rxdctl);
	IGBT_CHECK(dev->rxqs[3].counters.refused == 1 && !dev->rxqs[3].counters.restarts,
		   "queue 3 counters: 1 refused, 0 restarts");
	if (!wait_frames(po, 3, atomic_load(&po->frames[3]) + 300, 20))
		IGBT_DIE("queue 3 stopped receiving after the refused bind (%s)", po->error);
	nm_igb_ring_regs(igb, 3, &r2);
	IGBT_CHECK(same_ring(&r0, &r2) && r2.rdh != r0.rdh,
		   "traffic on queue 3 goes on: %llu frames since the refusal, RDH %u -> %u, "
		   "every byte in order", (unsigned long long)(atomic_load(&po->frames[3]) - frames0),
		   r0.rdh, r2.rdh);
	check_poller(po);
	/* The same binding is fine for a queue whose flags allow it. */
	ret = nm_dmabuf_binding_bind_rxq(b, dev, 1, &err);
	IGBT_CHECK(!ret, "the same binding binds to queue 1 (flags %s)%s%s",
		   nm_rxq_caps_str(dev->rxqs[1].caps, caps, sizeof(caps)), ret ? ": " : "",
		   ret ? err.msg : "");
	ret = nm_igb_set_header_split(igb, 1, false, &err);
	IGBT_CHECK(ret == -EOPNOTSUPP && dev->rxqs[1].caps == NM_RXQ_CAP_ALL,
		   "turning header split off on the bound queue 1 is refused, flags kept: %s",
		   err.msg);
	nm_dmabuf_binding_unbind(b);
	nm_dmabuf_put(buf);
}

int main(int argc, char **argv)
{
	struct nm_igb_params p = { .bdf = getenv("NETMEM_GUEST_PORT_B_BDF"),
				   .no_split_mask = 1u << 3 };
	const char *ifname = getenv("NETMEM_GUEST_PORT_A_IF");
	struct igbt_flow flows[NFLOWS];
	struct igbt_sender s = { 0 };
	struct poller po = { 0 };
	struct nm_err err = { 0 };
	struct nm_dma_domain *dom;
	struct nm_igb *igb;
	bool restart;
	int ret;

	if (argc != 2 || (strcmp(argv[1], "restart") && strcmp(argv[1], "refuse")))
		IGBT_DIE("usage: igb-queues restart|refuse");
	if (!p.bdf || !ifname)
		IGBT_DIE("run in the test guest with --vfio (NETMEM_GUEST_PORT_[AB]_* unset)");
	restart = !strcmp(argv[1], "restart");
	ret = nm_igb_open(&p, &igb, &err);
	IGBT_CHECK(!ret, "open %s: 4 RX queues, queue 3 without header split%s%s", p.bdf,
		   ret ? ": " : "", err.msg);
	dom = nm_igb_netdev(igb)->dma;
	nm_dma_domain_get(dom);

	igbt_flow_init(&flows[F_Q1], "tcp6", 5201, 1, UINT64_MAX);
	igbt_flow_init(&flows[F_Q2], "udp6", 5202, 2, UINT64_MAX);
	igbt_flow_init(&flows[F_Q3], "udp6", 5203, 3, UINT64_MAX);
	flows[F_Q1].gaps_ok = true;   /* dropped while its queue restarts */
	for (int f = 0; f < NFLOWS; f++)
		steer(igb, &flows[f], (uint32_t)f + 1);
	s.ifname = ifname;
	s.flows = flows;
	s.nflows = NFLOWS;
	s.window = 96;
	po.igb = igb;
	po.s = &s;
	po.flows = flows;
	pthread_create(&po.thread, NULL, poll_main, &po);
	IGBT_CHECK(!igbt_sender_start(&s), "port A sends tcp6:%u -> queue 1, udp6:%u -> queue 2, "
		   "udp6:%u -> queue 3", flows[0].f.dst_port, flows[1].f.dst_port,
		   flows[2].f.dst_port);
	for (uint32_t q = 1; q <= 3; q++)
		if (!wait_frames(&po, q, 200, 30))
			IGBT_DIE("queue %u: no traffic (%s)", q, po.error[0] ? po.error : "timeout");

	if (restart)
		phase_restart(igb, &po);
	else
		phase_refuse(igb, &po);

	atomic_store(&s.stop, true);
	igbt_sender_join(&s);
	atomic_store(&po.stop, true);
	pthread_join(po.thread, NULL);
	check_poller(&po);
	IGBT_CHECK(!flows[F_Q2].gaps && !flows[F_Q3].gaps,
		   "verified in order, no frame lost: queue 2 %llu frames / %llu bytes, queue 3 "
		   "%llu frames / %llu bytes; queue 1 %llu frames (%llu gaps at restarts)",
		   (unsigned long long)flows[F_Q2].frames_recv, (unsigned long long)flows[F_Q2].bytes_recv,
		   (unsigned long long)flows[F_Q3].frames_recv, (unsigned long long)flows[F_Q3].bytes_recv,
		   (unsigned long long)flows[F_Q1].frames_recv, (unsigned long long)flows[F_Q1].gaps);
	nm_netdev_print_queues(nm_igb_netdev(igb), stdout);
	nm_igb_close(igb);
	IGBT_CHECK(dom->stats.mapped_bytes == 0 && dom->stats.maps == dom->stats.unmaps,
		   "closed: %llu DMA maps, all unmapped", (unsigned long long)dom->stats.maps);
	nm_dma_domain_put(dom);
	return 0;
}
