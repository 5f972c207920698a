/* SPDX-License-Identifier: MIT */
/*
 * The ethdev adapter (see netmem/dpdk_ethdev.h): each DPDK port becomes a
 * netmem device whose queue ops are ethdev calls, so binding a dmabuf to one
 * of its RX queues goes through netmem's common restart path and its
 * capability check, like every other provider and driver.
 *
 * Queue ops, for queue q of port P:
 *   mem_alloc  describe the new setup (the one the queue had, or buffer
 *              split onto the dmabuf pool) and DMA-map the dmabuf for P;
 *              the queue still runs;
 *   stop       rte_eth_dev_rx_queue_stop(P, q) (when P is started);
 *   start      rte_eth_rx_queue_setup(P, q, ...) with that setup, then
 *              rte_eth_dev_rx_queue_start(P, q) (when P is started);
 *   mem_free   nothing: the mempools belong to the application.
 *
 * When the adapter first sees a port it mirrors it as it is ("adopting"):
 * the device is opened with every callback reduced to recording, so nothing
 * on the port changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <netmem/binding.h>
#include <netmem/rxq_caps.h>

#include "internal.h"

/* One way a queue can be set up. */
struct qsetup {
	bool known;                    /* read back from the PMD */
	uint16_t nb_desc;
	struct rte_eth_rxconf conf;    /* rx_seg/rx_nseg filled at setup */
	struct rte_mempool *mp;        /* NULL with segments */
	union rte_eth_rxseg segs[2];
	uint16_t nseg;
};

struct nm_dpdk_port {
	struct nm_netdev nd;           /* the mirror; first member */
	uint16_t port_id;
	uint16_t nb_rxq;
	unsigned int socket;
	bool mirror_only;              /* callbacks record, never touch the port */
	bool started;                  /* some queue runs (or cannot tell) */
	struct rte_eth_dev_info info;  /* last read */
	struct qsetup *orig;           /* per queue: the setup before binding */
	TAILQ_ENTRY(nm_dpdk_port) next;
};

/* The netmem core's memory for one generation of a queue: buffer split
 * onto a dmabuf pool, or the app's own setup (read again at each sync, so a
 * queue the app set up anew is restored as it is now). */
struct qmem {
	bool split;
	struct qsetup s;      /* with split */
};

/* The provider's private state for one bound queue. */
struct rxq_bind {
	struct nm_dpdk_rxq_split split;
	uint16_t port, queue;
};

static TAILQ_HEAD(, nm_dpdk_port) ports = TAILQ_HEAD_INITIALIZER(ports);

static int eth_conf_get(uint16_t port, struct rte_eth_conf *conf)
{
	return rte_eth_dev_conf_get(port, conf);
}

static int eth_rxq_setup(uint16_t port, uint16_t q, uint16_t nb_desc,
			 unsigned int socket, const struct rte_eth_rxconf *conf,
			 struct rte_mempool *mp)
{
	return rte_eth_rx_queue_setup(port, q, nb_desc, socket, conf, mp);
}

const struct nm_dpdk_ethdev_ops nm_dpdk_ethdev_default_ops = {
	.info_get = rte_eth_dev_info_get,
	.conf_get = eth_conf_get,
	.rxq_info_get = rte_eth_rx_queue_info_get,
	.rxq_setup = eth_rxq_setup,
	.rxq_start = rte_eth_dev_rx_queue_start,
	.rxq_stop = rte_eth_dev_rx_queue_stop,
	.does_dma = nm_dpdk_device_does_dma,
};

static const struct nm_dpdk_ethdev_ops *eth = &nm_dpdk_ethdev_default_ops;

void nm_dpdk_set_ethdev_ops(const struct nm_dpdk_ethdev_ops *ops)
{
	eth = ops ? ops : &nm_dpdk_ethdev_default_ops;
}

uint32_t nm_dpdk_rxq_caps(const struct rte_eth_dev_info *info,
			  uint64_t port_rx_offloads, bool dma_device,
			  bool can_restore, bool port_stopped)
{
	const uint64_t split = RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	const uint64_t csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
			      RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	uint32_t caps = 0;

	if (((info->rx_queue_offload_capa & split) ||
	     ((info->rx_offload_capa & split) && (port_rx_offloads & split))) &&
	    info->rx_seg_capa.max_nseg >= 2) {
		caps |= NM_RXQ_CAP_HEADER_SPLIT;
		if (info->rx_seg_capa.multi_pools && dma_device)
			caps |= NM_RXQ_CAP_UNREADABLE;
	}
	if (can_restore &&
	    (port_stopped || (info->dev_capa & RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP)))
		caps |= NM_RXQ_CAP_RESTART;
	/* Verdicts in every mbuf's ol_flags only once the port runs with them. */
	if ((port_rx_offloads & csum) == csum)
		caps |= NM_RXQ_CAP_RX_CSUM;
	return caps;
}

/* ---- the provider ------------------------------------------------------- */

static int bind_describe(void *priv, char *buf, size_t len)
{
	struct rxq_bind *rb = priv;
	struct nm_dpdk_pool_info pi = { 0 };
	const struct rte_mempool *pay = rb->split.payload_pool;
	char split[40];

	if (nm_dpdk_pool_is_dmabuf(pay) && pay->pool_data)
		nm_dpdk_pool_fill_info(pay->pool_data, &pi);
	if (rb->split.proto_hdr)
		snprintf(split, sizeof(split), "after ptype %#x", rb->split.proto_hdr);
	else
		snprintf(split, sizeof(split), "at %u B", rb->split.hdr_len);
	return snprintf(buf, len, "pool %s (binding %u: %s %llu MiB, %u x %u B), headers in %s, split %s",
			pay->name, pi.binding_id, pi.exporter,
			(unsigned long long)(pi.dmabuf_size >> 20), pi.num_bufs, pi.buf_size,
			rb->split.hdr_pool->name, split);
}

/* The queue left this provider: nothing refers to @priv any more. */
static void bind_uninstall(void *priv, struct nm_rxq *rxq)
{
	(void)rxq;
	free(priv);
}

/* Not const: its needs are copied from the dmabuf provider at load time, so
 * both ways of using a dmabuf require the same queue flags. */
static struct nm_memory_provider_ops dpdk_dmabuf_mp = {
	.name = "dmabuf",
	.describe = bind_describe,
	.uninstall = bind_uninstall,
};

RTE_INIT(nm_dpdk_mp_init)
{
	dpdk_dmabuf_mp.required_caps = nm_mp_dmabuf_ops.required_caps;
}

/* ---- queue ops ---------------------------------------------------------- */

static struct nm_dpdk_port *to_port(struct nm_netdev *dev)
{
	return (struct nm_dpdk_port *)dev;
}

static int q_mem_alloc(struct nm_netdev *dev, void *mem, uint32_t idx,
		       const struct nm_mp_params *mp, struct nm_err *err)
{
	struct nm_dpdk_port *p = to_port(dev);
	struct qmem *q = mem;
	struct rxq_bind *rb;
	int ret;

	q->split = mp->ops != NULL;
	if (!q->split)
		return 0;
	q->s = p->orig[idx];
	if (mp->ops != &dpdk_dmabuf_mp)
		return nm_err_set(err, -EINVAL, "provider '%s' cannot run a DPDK queue",
				  mp->ops->name);
	if (!q->s.known)
		return nm_err_set(err, -EOPNOTSUPP, "port %u queue %u: its setup is unknown",
				  p->port_id, idx);
	rb = mp->priv;
	ret = nm_dpdk_pool_dma_map_port(rb->split.payload_pool, p->port_id, err);
	if (ret)
		return ret;
	q->s.mp = NULL;
	q->s.nseg = 2;
	memset(q->s.segs, 0, sizeof(q->s.segs));
	q->s.segs[0].split.mp = rb->split.hdr_pool;
	q->s.segs[0].split.length = rb->split.proto_hdr ? 0 : rb->split.hdr_len;
	q->s.segs[0].split.proto_hdr = rb->split.proto_hdr;
	q->s.segs[1].split.mp = rb->split.payload_pool;
	q->s.conf.offloads |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	return 0;
}

static void q_mem_free(struct nm_netdev *dev, void *mem)
{
	(void)dev;
	(void)mem;
}

static int q_start(struct nm_netdev *dev, void *mem, uint32_t idx,
		   struct nm_err *err)
{
	struct nm_dpdk_port *p = to_port(dev);
	struct qmem *q = mem;
	const struct qsetup *s = q->split ? &q->s : &p->orig[idx];
	struct rte_eth_rxconf conf;
	int ret;

	if (p->mirror_only)
		return 0;
	if (!s->known)
		return nm_err_set(err, -EOPNOTSUPP, "port %u queue %u: its setup is unknown",
				  p->port_id, idx);
	conf = s->conf;
	conf.rx_seg = s->nseg ? (union rte_eth_rxseg *)s->segs : NULL;
	conf.rx_nseg = s->nseg;
	if (!s->nseg)
		conf.offloads &= ~RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT;
	ret = eth->rxq_setup(p->port_id, (uint16_t)idx, s->nb_desc, p->socket, &conf, s->mp);
	if (ret)
		return nm_err_set(err, ret, "port %u queue %u: rte_eth_rx_queue_setup%s: %s",
				  p->port_id, idx, s->nseg ? " with buffer split" : "",
				  rte_strerror(-ret));
	if (!p->started)
		return 0;
	ret = eth->rxq_start(p->port_id, (uint16_t)idx);
	if (ret)
		return nm_err_set(err, ret, "port %u queue %u: rte_eth_dev_rx_queue_start: %s",
				  p->port_id, idx, rte_strerror(-ret));
	return 0;
}

static int q_stop(struct nm_netdev *dev, void *mem, uint32_t idx,
		  struct nm_err *err)
{
	struct nm_dpdk_port *p = to_port(dev);
	int ret;

	(void)mem;
	if (p->mirror_only || !p->started)
		return 0;
	ret = eth->rxq_stop(p->port_id, (uint16_t)idx);
	if (ret)
		return nm_err_set(err, ret, "port %u queue %u: rte_eth_dev_rx_queue_stop: %s",
				  p->port_id, idx, rte_strerror(-ret));
	return 0;
}

static const struct nm_queue_mgmt_ops port_qops = {
	.mem_size = sizeof(struct qmem),
	.mem_alloc = q_mem_alloc,
	.mem_free = q_mem_free,
	.start = q_start,
	.stop = q_stop,
};

/* ---- mirrors ------------------------------------------------------------ */

static bool queue_bound(struct nm_dpdk_port *p, uint32_t q)
{
	return p->nd.rxqs[q].mp.ops != NULL;
}

static bool port_has_bound(struct nm_dpdk_port *p)
{
	for (uint32_t q = 0; q < p->nb_rxq; q++)
		if (queue_bound(p, q))
			return true;
	return false;
}

/* Read the port again: info, the setup of every unbound queue, flags. */
static int port_sync(struct nm_dpdk_port *p, struct nm_err *err)
{
	struct rte_eth_conf conf;
	uint64_t port_offloads = 0;
	bool any_info = false, started = false, dma;
	int ret;

	ret = eth->info_get(p->port_id, &p->info);
	if (ret)
		return nm_err_set(err, ret, "port %u: rte_eth_dev_info_get: %s", p->port_id,
				  rte_strerror(-ret));
	if (p->info.nb_rx_queues != p->nb_rxq)
		return nm_err_set(err, -ESTALE, "port %u now has %u RX queues, not %u",
				  p->port_id, p->info.nb_rx_queues, p->nb_rxq);
	if (!eth->conf_get(p->port_id, &conf))
		port_offloads = conf.rxmode.offloads;
	for (uint16_t q = 0; q < p->nb_rxq; q++) {
		struct rte_eth_rxq_info qi;

		if (eth->rxq_info_get(p->port_id, q, &qi))
			continue;
		any_info = true;
		if (qi.queue_state == RTE_ETH_QUEUE_STATE_STARTED)
			started = true;
		if (queue_bound(p, q))
			continue;
		/* A setup the app made with segments cannot be read back. */
		p->orig[q] = (struct qsetup){
			.known = qi.mp && !qi.conf.rx_nseg &&
				 !(qi.conf.offloads & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT),
			.nb_desc = qi.nb_desc,
			.conf = qi.conf,
			.mp = qi.mp,
		};
		p->orig[q].conf.rx_seg = NULL;
		p->orig[q].conf.rx_nseg = 0;
	}
	/* No queue state to read: assume it runs (asks more of the queue). */
	p->started = any_info ? started : true;
	dma = eth->does_dma(p->info.device);
	for (uint32_t q = 0; q < p->nb_rxq; q++)
		nm_netdev_set_rxq_caps(&p->nd, q,
				       nm_dpdk_rxq_caps(&p->info, port_offloads, dma,
							p->orig[q].known, !p->started));
	return 0;
}

static void port_free(struct nm_dpdk_port *p)
{
	nm_dpdk_ctl_forget_locked(&p->nd);
	p->mirror_only = true;
	nm_netdev_fini(&p->nd);
	free(p->orig);
	free(p);
}

static struct nm_dpdk_port *port_find(uint16_t port)
{
	struct nm_dpdk_port *p;

	TAILQ_FOREACH(p, &ports, next)
		if (p->port_id == port)
			return p;
	return NULL;
}

/* The mirror of @port, made (adopting the port as it runs) if needed, and
 * synced. A mirror whose port changed its queue count is made again when
 * nothing is bound to it. nm_dpdk_lock held. */
static int port_get(uint16_t port, struct nm_dpdk_port **out, struct nm_err *err)
{
	struct nm_dpdk_port *p = port_find(port);
	struct nm_dma_domain *dom;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	int ret;

	if (p) {
		ret = port_sync(p, err);
		if (ret != -ESTALE || port_has_bound(p)) {
			*out = ret ? NULL : p;
			return ret;
		}
		TAILQ_REMOVE(&ports, p, next);
		port_free(p);
		nm_err_clear(err);
	}
	if (!rte_eth_dev_is_valid_port(port))
		return nm_err_set(err, -ENODEV, "no ethdev port %u", port);
	ret = eth->info_get(port, &info);
	if (ret)
		return nm_err_set(err, ret, "port %u: rte_eth_dev_info_get: %s", port,
				  rte_strerror(-ret));
	if (!info.nb_rx_queues)
		return nm_err_set(err, -ENODEV, "port %u has no RX queues configured yet", port);
	ret = nm_dpdk_eal_domain(&dom, err);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (p)
		p->orig = calloc(info.nb_rx_queues, sizeof(*p->orig));
	if (!p || !p->orig) {
		free(p);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (rte_eth_dev_get_name_by_port(port, name))
		snprintf(name, sizeof(name), "port%u", port);
	p->port_id = port;
	p->nb_rxq = info.nb_rx_queues;
	p->socket = rte_eth_dev_socket_id(port) < 0 ? 0 :
		    (unsigned int)rte_eth_dev_socket_id(port);
	ret = nm_netdev_init(&p->nd, name, p->nb_rxq, &port_qops, dom, err);
	if (ret) {
		free(p->orig);
		free(p);
		return ret;
	}
	p->mirror_only = true;
	ret = port_sync(p, err);
	if (!ret)
		ret = nm_netdev_open(&p->nd, err);
	p->mirror_only = false;
	if (ret) {
		port_free(p);
		return ret;
	}
	TAILQ_INSERT_TAIL(&ports, p, next);
	*out = p;
	return 0;
}

struct nm_netdev *nm_dpdk_port_netdev_locked(uint16_t port, struct nm_err *err)
{
	struct nm_dpdk_port *p;

	return port_get(port, &p, err) ? NULL : &p->nd;
}

bool nm_dpdk_port_mirrored_locked(uint16_t port)
{
	return port_find(port) != NULL;
}

struct nm_netdev *nm_dpdk_port_netdev(uint16_t port, struct nm_err *err)
{
	struct nm_netdev *nd;

	nm_dpdk_ctl_start();
	pthread_mutex_lock(&nm_dpdk_lock);
	nd = nm_dpdk_port_netdev_locked(port, err);
	pthread_mutex_unlock(&nm_dpdk_lock);
	return nd;
}

int nm_dpdk_port_forget(uint16_t port, struct nm_err *err)
{
	struct nm_dpdk_port *p;
	int ret = 0;

	pthread_mutex_lock(&nm_dpdk_lock);
	p = port_find(port);
	if (!p)
		ret = nm_err_set(err, -ENOENT, "port %u is not mirrored", port);
	else if (port_has_bound(p))
		ret = nm_err_set(err, -EBUSY, "port %u has a queue bound to a dmabuf; "
				 "unbind it first", port);
	if (!ret) {
		TAILQ_REMOVE(&ports, p, next);
		port_free(p);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	return ret;
}

/* ---- bind / unbind ------------------------------------------------------ */

/* What the PMD says, appended to a refusal so the reader need not look. */
static void explain_refusal(struct nm_dpdk_port *p, struct nm_err *err)
{
	const struct rte_eth_dev_info *i = &p->info;
	size_t used;

	if (!err)
		return;
	used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used,
		 " [PMD %s: BUFFER_SPLIT %s, %u Rx segs%s, runtime queue setup %s, %s]",
		 i->driver_name ? i->driver_name : "?",
		 (i->rx_queue_offload_capa & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT) ? "per queue" :
		 (i->rx_offload_capa & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT) ? "per port" : "no",
		 i->rx_seg_capa.max_nseg, i->rx_seg_capa.multi_pools ? " multi-pool" : "",
		 (i->dev_capa & RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP) ? "yes" : "no",
		 eth->does_dma(i->device) ? "DMA device" : "vdev");
}

static int check_split(const struct nm_dpdk_rxq_split *s, struct nm_err *err)
{
	if (!s || !s->hdr_pool || !s->payload_pool)
		return nm_err_set(err, -EINVAL, "a header pool and a payload pool are needed");
	if (!nm_dpdk_pool_is_dmabuf(s->payload_pool))
		return nm_err_set(err, -EINVAL, "payload pool '%s' is not a dmabuf pool (ops %s)",
				  s->payload_pool->name,
				  rte_mempool_get_ops(s->payload_pool->ops_index)->name);
	if (nm_dpdk_pool_is_dmabuf(s->hdr_pool))
		return nm_err_set(err, -EINVAL, "header pool '%s' must be host memory: the CPU "
				  "parses the headers", s->hdr_pool->name);
	if (!s->hdr_len == !s->proto_hdr)
		return nm_err_set(err, -EINVAL, "give either a split length or protocol headers");
	if (s->hdr_len && s->hdr_len + RTE_PKTMBUF_HEADROOM >
			  rte_pktmbuf_data_room_size(s->hdr_pool))
		return nm_err_set(err, -EINVAL, "header pool '%s' mbufs (%u B) cannot hold %u B "
				  "of headers after the headroom", s->hdr_pool->name,
				  rte_pktmbuf_data_room_size(s->hdr_pool), s->hdr_len);
	return 0;
}

int nm_dpdk_rxq_bind(uint16_t port, uint16_t queue,
		     const struct nm_dpdk_rxq_split *split, struct nm_err *err)
{
	struct nm_dpdk_port *p = NULL;
	struct nm_mp_params mp;
	struct rxq_bind *rb;
	int ret;

	ret = check_split(split, err);
	if (ret)
		return ret;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return nm_err_set(err, -ENOMEM, "out of memory");
	rb->split = *split;
	rb->port = port;
	rb->queue = queue;
	/* The payload mbufs' data room is the buffer size the queue fills. */
	mp = (struct nm_mp_params){ .ops = &dpdk_dmabuf_mp, .priv = rb,
		.buf_size = rte_pktmbuf_data_room_size(split->payload_pool) };

	nm_dpdk_ctl_start();
	pthread_mutex_lock(&nm_dpdk_lock);
	ret = port_get(port, &p, err);
	if (!ret) {
		ret = nm_rxq_bind_mp(&p->nd, queue, &mp, err);
		if (ret == -EOPNOTSUPP)
			explain_refusal(p, err);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	if (ret)
		free(rb);   /* never installed */
	return ret;
}

int nm_dpdk_rxq_unbind(uint16_t port, uint16_t queue, struct nm_err *err)
{
	struct nm_dpdk_port *p;
	int ret;

	pthread_mutex_lock(&nm_dpdk_lock);
	p = port_find(port);
	if (!p) {
		ret = nm_err_set(err, -ENOENT, "port %u has no queue bound", port);
		goto out;
	}
	ret = port_sync(p, err);
	if (!ret) {
		ret = nm_rxq_unbind_mp(&p->nd, queue, err);
		if (ret == -EOPNOTSUPP)
			explain_refusal(p, err);
	}
out:
	pthread_mutex_unlock(&nm_dpdk_lock);
	return ret;
}
