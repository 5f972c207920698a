/* SPDX-License-Identifier: MIT */
/*
 * UDP receive: every datagram to a listening port, from any source, is
 * kept where it landed and handed out as one fragment. A datagram that
 * finds no room is dropped and counted; later ones are unaffected.
 */
#include <string.h>

#include "tcp_internal.h"

void udp_input(struct nm_stack *s, struct rx_frame *f)
{
	struct nm_listener *l;
	struct nm_conn *c;
	int bad;

	pthread_rwlock_rdlock(&s->lock);
	l = listener_find(s, 17, get16(f->l4 + 2));
	if (l) {
		/* A listener in the table still holds its connection. */
		atomic_fetch_add(&l->refs, 1);
		c = l->udp;
		conn_get(c);
	}
	pthread_rwlock_unlock(&s->lock);
	if (!l) {
		sc_inc(s, SC_NO_LISTENER);
		return;
	}
	pthread_mutex_lock(&c->lock);
	conn_drain_refill(c);
	bad = l4_csum_check(s, f, l);
	if (bad) {
		c->ctr.dgram_drops++;
		if (bad == SC_BAD_CSUM)
			c->ctr.bad_csum++;
		else
			c->ctr.no_verdict++;
	} else if (c->state != CS_UDP) {
		c->ctr.dgram_drops++;
	} else if (!f->plen) {
		c->ctr.dgrams++;
	} else if (c->rd_count >= NM_READY_CAP || !tcp_window_segs(c)) {
		c->ctr.dgram_drops++;
		c->ctr.out_of_buffers++;
	} else {
		struct seg *sg = &c->ready[(c->rd_head + c->rd_count++) % NM_READY_CAP];

		learn_cap(c, f->pbuf);
		memset(sg, 0, sizeof(*sg));
		sg->buf = f->pbuf;
		sg->off = f->poff;
		sg->len = f->plen;
		sg->ipver = f->ipver;
		memcpy(sg->src_ip, f->src_ip, f->ipver == 4 ? 4 : 16);
		sg->src_port = get16(f->l4);
		c->held++;
		atomic_fetch_add_explicit(&s->q[buf_queue(c, f->pbuf)].held, 1, memory_order_relaxed);
		c->ctr.dgrams++;
		c->ctr.segs++;
		c->ctr.bytes += f->plen;
		if (l->binding && !nm_netmem_is_net_iov(f->pbuf))
			c->ctr.copy_fallback++;
		f->pkt.payload = 0;
	}
	pthread_mutex_unlock(&c->lock);
	conn_put(c);
	listener_put(l);
}
