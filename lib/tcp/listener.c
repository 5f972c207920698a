/* SPDX-License-Identifier: MIT */
/*
 * Listeners: bind the payload memory to the queues (through the one restart
 * path), steer the port to them, hold the accept queue; and the checksum
 * policy that depends on where a listener's payload lands.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

struct nm_listener *listener_find(struct nm_stack *s, uint8_t l4proto,
				  uint16_t port)
{
	for (unsigned int i = 0; i < NM_MAX_LISTENERS; i++) {
		struct nm_listener *l = s->listeners[i];

		if (l && l->l4proto == l4proto && l->port == port && !l->closed)
			return l;
	}
	return NULL;
}

void listener_put(struct nm_listener *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->binding)
		nm_dmabuf_binding_put(l->binding);
	pthread_mutex_destroy(&l->lock);
	free(l->acceptq);
	free(l);
}

/* Queue @c for accept(); false when the backlog is full. */
bool listener_enqueue(struct nm_listener *l, struct nm_conn *c)
{
	bool ok = false;

	pthread_mutex_lock(&l->lock);
	if (!l->closed && l->aq_count < l->backlog) {
		l->acceptq[(l->aq_head + l->aq_count++) % l->backlog] = c;
		conn_get(c);
		ok = true;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

int nm_listener_accept(struct nm_listener *l, struct nm_conn **out)
{
	struct nm_conn *c = NULL;

	pthread_mutex_lock(&l->lock);
	if (l->udp && !l->udp_taken) {
		l->udp_taken = true;
		c = l->udp;
	} else if (l->aq_count) {
		c = l->acceptq[l->aq_head];
		l->aq_head = (l->aq_head + 1) % l->backlog;
		l->aq_count--;
		l->accepted++;
	}
	pthread_mutex_unlock(&l->lock);
	if (!c)
		return -EAGAIN;
	pthread_mutex_lock(&c->lock);
	c->app_owned = true;  /* the accept queue's reference becomes the app's */
	pthread_mutex_unlock(&c->lock);
	*out = c;
	return 0;
}

/*
 * Where the data of a new connection goes: the next listener queue round
 * robin, steered there when the port can steer one flow. Returns the
 * queue whose pool the connection's buffers count against.
 */
static uint32_t q_index_of(const struct nm_listener *l, uint32_t q)
{
	for (uint32_t i = 0; i < l->num_queues; i++)
		if (l->queues[i] == q)
			return i;
	return 0;
}

int listener_queue_for(struct nm_listener *l, struct nm_conn *c,
		       const struct rx_frame *f)
{
	struct nm_stack *s = l->s;
	struct nm_port *port = s->port;
	uint32_t q;
	struct nm_flow fl = { 0 };
	int ret;

	if (!l->num_queues)
		return (int)f->queue;
	q = l->queues[atomic_fetch_add(&l->next_queue, 1) % l->num_queues];
	if (!port->ops->steer_flow)
		return l->num_queues == 1 ? (int)q : (int)f->queue;
	fl.ipver = c->ipver;
	fl.l4proto = 6;
	memcpy(fl.src_mac, c->peer_mac, 6);
	memcpy(fl.dst_mac, port->mac, 6);
	memcpy(fl.src_ip, c->rip, 16);
	memcpy(fl.dst_ip, c->lip, 16);
	fl.src_port = c->rport;
	fl.dst_port = c->lport;
	ret = port->ops->steer_flow(port, &fl, q, NULL);
	/* Another flow owns the hardware entry for another queue: any other
	 * queue of this listener serves as well (an RSS table steers by hash,
	 * so flows of one listener meet in its entries). */
	for (uint32_t i = 1; ret == -EEXIST && i < l->num_queues; i++) {
		uint32_t alt = l->queues[(q_index_of(l, q) + i) % l->num_queues];

		ret = port->ops->steer_flow(port, &fl, alt, NULL);
		if (!ret)
			q = alt;
	}
	if (ret == -EEXIST) {
		/* No queue of ours can have it: stay where the SYN landed. */
		sc_inc(s, SC_STEER_COLL);
		return (int)f->queue;
	}
	if (ret)
		return (int)f->queue;
	c->steered = true;
	sc_inc(s, SC_STEERED);
	return (int)q;
}

/* Give back the port rules nm_stack_listen() took. */
static void listener_unsteer(struct nm_listener *l)
{
	struct nm_port *port = l->s->port;

	for (uint8_t v = 4; v <= 6; v += 2)
		if ((l->port_steered & (1u << v)) && port->ops->unsteer_port)
			port->ops->unsteer_port(port, v, l->l4proto, l->port);
	l->port_steered = 0;
}

static void unbind_queues(struct nm_netdev *dev, const uint32_t *q, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		nm_rxq_unbind_mp(dev, q[i], NULL);
}

/* Check every queue before touching any, so a multi-queue listen that
 * would fail on its last queue restarts none (the restart path checks each
 * queue again, first thing). */
static int check_queues(struct nm_stack *s, const struct nm_listen_params *p,
			uint32_t need, struct nm_err *err)
{
	struct nm_netdev *dev = s->port->dev;
	char have[96], want[96];

	for (uint32_t i = 0; i < p->num_queues; i++) {
		uint32_t q = p->queues[i];
		struct nm_rxq *rxq;

		if (q >= dev->num_rx_queues)
			return nm_err_set(err, -EINVAL, "%s has no queue %u", dev->name, q);
		for (uint32_t j = 0; j < i; j++)
			if (p->queues[j] == q)
				return nm_err_set(err, -EINVAL, "queue %u named twice", q);
		if (!p->binding)
			continue;
		if (q == s->port->default_queue)
			return nm_err_set(err, -EINVAL,
					  "queue %u is %s's default queue; it stays on host memory",
					  q, dev->name);
		rxq = &dev->rxqs[q];
		pthread_mutex_lock(&dev->lock);
		if (rxq->mp.ops && rxq->mp.priv != p->binding) {
			pthread_mutex_unlock(&dev->lock);
			return nm_err_set(err, -EBUSY, "%s queue %u is bound to other memory",
					  dev->name, q);
		}
		if ((rxq->caps & need) != need) {
			nm_rxq_caps_str(rxq->caps, have, sizeof(have));
			nm_rxq_caps_str(need & ~rxq->caps, want, sizeof(want));
			pthread_mutex_unlock(&dev->lock);
			return nm_err_set(err, -EOPNOTSUPP,
					  "%s queue %u lacks %s (has %s): refused before any change",
					  dev->name, q, want, have);
		}
		pthread_mutex_unlock(&dev->lock);
	}
	return 0;
}

static int bind_queues(struct nm_stack *s, struct nm_listener *l, uint32_t extra,
		       struct nm_err *err)
{
	struct nm_netdev *dev = s->port->dev;
	uint32_t done[64];
	unsigned int nd = 0;
	int ret;

	for (uint32_t i = 0; i < l->num_queues; i++) {
		uint32_t q = l->queues[i];
		bool bound;

		pthread_mutex_lock(&dev->lock);
		bound = dev->rxqs[q].mp.ops && dev->rxqs[q].mp.priv == l->binding;
		pthread_mutex_unlock(&dev->lock);
		if (bound)
			continue;
		ret = nm_dmabuf_binding_bind_rxq_caps(l->binding, dev, q, extra, err);
		if (ret) {
			unbind_queues(dev, done, nd);
			return ret;
		}
		done[nd++] = q;
	}
	return 0;
}

int nm_stack_listen(struct nm_stack *s, const struct nm_listen_params *p,
		    struct nm_listener **out, struct nm_err *err)
{
	struct nm_port *port = s->port;
	uint8_t proto = p->l4proto ? p->l4proto : 6;
	/* What the dmabuf provider needs, plus the checksum engine when the
	 * CPU may not read the payload. */
	uint32_t extra = p->flags & NM_LISTEN_CPU_READABLE ? 0 : NM_RXQ_CAP_RX_CSUM;
	uint32_t need = NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT | extra;
	struct nm_listener *l;
	int slot = -1, ret;

	if (proto != 6 && proto != 17)
		return nm_err_set(err, -EINVAL, "listen: protocol %u is neither TCP nor UDP",
				  proto);
	if (!p->port)
		return nm_err_set(err, -EINVAL, "listen: port 0");
	if (p->num_queues > 64 || (p->num_queues && !p->queues))
		return nm_err_set(err, -EINVAL, "listen: bad queue list");
	if (p->binding && !p->num_queues)
		return nm_err_set(err, -EINVAL, "listen: a binding needs queues to bind");
	if (p->binding && p->binding->domain != port->dev->dma)
		return nm_err_set(err, -EXDEV, "listen: binding %u is not mapped in %s's DMA domain",
				  p->binding->id, port->dev->name);
	ret = check_queues(s, p, need, err);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&s->lock);
	if (listener_find(s, proto, p->port)) {
		pthread_rwlock_unlock(&s->lock);
		return nm_err_set(err, -EADDRINUSE, "listen: %s port %u is taken",
				  proto == 6 ? "TCP" : "UDP", p->port);
	}
	for (int i = 0; i < NM_MAX_LISTENERS && slot < 0; i++)
		if (!s->listeners[i])
			slot = i;
	pthread_rwlock_unlock(&s->lock);
	if (slot < 0)
		return nm_err_set(err, -ENOSPC, "listen: at most %d listeners",
				  NM_MAX_LISTENERS);

	l = calloc(1, sizeof(*l));
	if (!l)
		return nm_err_set(err, -ENOMEM, "out of memory");
	l->s = s;
	atomic_init(&l->refs, 1);
	l->l4proto = proto;
	l->port = p->port;
	l->flags = p->flags;
	l->backlog = p->backlog ? p->backlog : 16;
	l->max_accept = p->max_accept;
	l->num_queues = p->num_queues;
	memcpy(l->queues, p->queues, p->num_queues * sizeof(uint32_t));
	pthread_mutex_init(&l->lock, NULL);
	l->acceptq = calloc(l->backlog, sizeof(*l->acceptq));
	if (!l->acceptq) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto err_free;
	}
	if (p->binding) {
		nm_dmabuf_binding_get(p->binding);
		l->binding = p->binding;
		if (p->flags & NM_LISTEN_CPU_READABLE) {
			ret = nm_dmabuf_cpu_map(p->binding->dmabuf, &l->cpu_base, err);
			if (ret)
				goto err_free;
		}
		ret = bind_queues(s, l, extra, err);
		if (ret)
			goto err_free;
	}
	/* Steer the port to the first queue (per-flow rules come after
	 * SYNs). A device that cannot match on the port says -EOPNOTSUPP and
	 * keeps the frames where it puts them; any other refusal (UDP on igb:
	 * one listener queue per device) fails the listen, since the payload
	 * would land in host memory. */
	if (l->num_queues && port->ops->steer_port) {
		for (uint8_t v = 4; v <= 6; v += 2) {
			ret = port->ops->steer_port(port, v, proto, p->port, l->queues[0], err);
			if (!ret) {
				l->port_steered |= 1u << v;
			} else if (ret != -EOPNOTSUPP) {
				listener_unsteer(l);
				goto err_free;
			}
		}
		ret = 0;
	}
	if (proto == 17) {
		ret = conn_create_udp(s, l, &l->udp, err);
		if (ret) {
			listener_unsteer(l);
			goto err_free;
		}
		conn_get(l->udp);  /* the listener's own, dropped at close */
	}
	pthread_rwlock_wrlock(&s->lock);
	s->listeners[slot] = l;
	pthread_rwlock_unlock(&s->lock);
	*out = l;
	return 0;

err_free:
	listener_put(l);
	return ret;
}

void nm_listener_close(struct nm_listener *l)
{
	struct nm_stack *s = l->s;
	struct nm_conn *c;

	listener_unsteer(l);
	pthread_rwlock_wrlock(&s->lock);
	for (unsigned int i = 0; i < NM_MAX_LISTENERS; i++)
		if (s->listeners[i] == l)
			s->listeners[i] = NULL;
	pthread_rwlock_unlock(&s->lock);
	pthread_mutex_lock(&l->lock);
	l->closed = true;
	pthread_mutex_unlock(&l->lock);
	/* Connections nobody accepted are reset. */
	for (;;) {
		pthread_mutex_lock(&l->lock);
		c = NULL;
		if (l->aq_count) {
			c = l->acceptq[l->aq_head];
			l->aq_head = (l->aq_head + 1) % l->backlog;
			l->aq_count--;
		}
		pthread_mutex_unlock(&l->lock);
		if (!c)
			break;
		nm_conn_abort_ref(c);
	}
	if (l->udp && !l->udp_taken)
		nm_conn_abort_ref(l->udp);
	if (l->udp)
		conn_put(l->udp);
	listener_put(l);
}

/*
 * The checksum rule: a NIC verdict decides; without one, software checks
 * what the CPU may read (host buffers, or a binding the listener declared
 * CPU-readable, through its mapping); anything else is dropped. Returns 0
 * to accept, SC_BAD_CSUM or SC_NO_VERDICT.
 */
int l4_csum_check(struct nm_stack *s, struct rx_frame *f, struct nm_listener *l)
{
	const uint8_t *pl = NULL;
	uint32_t sum;
	bool sync = false;

	(void)s;
	if (f->pkt.flags & (NM_RX_PKT_L4_CSUM_BAD | NM_RX_PKT_IP_CSUM_BAD))
		return SC_BAD_CSUM;
	if (f->pkt.flags & NM_RX_PKT_L4_CSUM_GOOD)
		return 0;
	if (f->plen) {
		if (!nm_netmem_is_net_iov(f->pbuf)) {
			pl = (const uint8_t *)nm_netmem_address(f->pbuf) + f->poff;
		} else if (l && l->cpu_base &&
			   nm_net_iov_owner(nm_netmem_to_net_iov(f->pbuf))->owner_priv == l->binding) {
			pl = (const uint8_t *)l->cpu_base +
			     nm_net_iov_offset(nm_netmem_to_net_iov(f->pbuf)) + f->poff;
			sync = true;
		} else {
			return SC_NO_VERDICT;
		}
	}
	/* UDP over IPv4 may carry no checksum. */
	if (f->l4proto == 17 && f->ipver == 4 && get16(f->l4 + 6) == 0)
		return 0;
	sum = nm_csum_pseudo(f->ipver, f->src_ip, f->dst_ip, f->l4proto, f->l4len);
	sum = nm_csum_add(sum, f->l4, f->l4hlen);
	if (f->plen) {
		/* An odd-length header would misalign the payload's words. */
		if (f->l4hlen & 1)
			return SC_BAD_CSUM;
		if (sync)
			nm_dmabuf_begin_cpu_access(l->binding->dmabuf, NM_DMABUF_READ);
		sum = nm_csum_add(sum, pl, f->plen);
		if (sync)
			nm_dmabuf_end_cpu_access(l->binding->dmabuf, NM_DMABUF_READ);
	}
	return nm_csum_fold(sum) == 0 ? 0 : SC_BAD_CSUM;
}
