/* SPDX-License-Identifier: MIT */
/*
 * The software NIC. Per queue: a ring of posted descriptors (a header buffer
 * and a payload buffer each) and a completion ring of the same size, so a
 * completion always has room. The queue's "memory" (rings and pools) is one
 * struct sim_qmem per generation; the framework's restart path swaps them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/sim.h>

#define SIM_MAX_RULES 16
#define HDR_BUF_SIZE  2048u

/* The sizes a software queue takes: a frame (or, split, its payload) must
 * fit one buffer; any multiple of 256 B up to 64 KiB (what bindings cut),
 * the host default of HDR_BUF_SIZE. A test may narrow them per queue. */
static const struct nm_rxq_buf_sizes sim_buf_sizes = {
	.min = 256, .max = 65536, .step = 256, .dflt = HDR_BUF_SIZE,
};

struct sim_desc {
	nm_netmem_ref hdr, payload;
};

/* One generation of a queue's memory. */
struct sim_qmem {
	struct nm_page_pool *hdr_pool;  /* host: headers (split only) */
	struct nm_page_pool *pool;      /* the queue's provider: payload */
	bool split;
	bool rx_csum;                   /* report checksum verdicts */
	uint32_t size;                  /* ring entries, power of two */
	struct sim_desc *ring;          /* posted: device takes at head */
	uint32_t post_head, post_tail;
	struct nm_rx_pkt *cq;           /* completions */
	uint32_t cq_head, cq_tail;
};

struct sim_rxq {
	pthread_mutex_t lock;
	struct sim_qmem *cur;           /* running memory, NULL when stopped */
	struct nm_sim_rxq_stats stats;
};

struct sim_rule {
	uint8_t ipver, l4proto;
	uint16_t dst_port;
	uint32_t queue;
};

struct sim_flow_rule {
	bool used;
	uint32_t hash;
	uint32_t queue;
};

struct nm_sim {
	struct nm_netdev dev;           /* first: container_of is a cast */
	struct nm_host_mem *host;
	struct sim_rxq *rxq;
	uint32_t ring_size, pool_size;
	pthread_mutex_t rules_lock;
	struct sim_rule rules[SIM_MAX_RULES];
	unsigned int num_rules;
	struct sim_flow_rule flows[NM_SIM_FLOW_SLOTS];
	atomic_uint_least64_t op_count[NM_SIM_OP_COUNT];
	atomic_int fail_next[NM_SIM_OP_COUNT];
};

static struct nm_sim *to_sim(struct nm_netdev *dev)
{
	return (struct nm_sim *)dev;
}

/* Count a callback; returns the injected failure, if one is armed. */
static int sim_op(struct nm_sim *sim, enum nm_sim_op op)
{
	atomic_fetch_add(&sim->op_count[op], 1);
	return atomic_exchange(&sim->fail_next[op], 0);
}

static void qmem_post(struct sim_qmem *q)
{
	/* Posted descriptors plus unpolled completions never exceed the
	 * completion ring, so a completion always has room even when the
	 * poller takes fewer than are waiting. */
	while (q->post_tail - q->post_head + (q->cq_tail - q->cq_head) < q->size) {
		struct sim_desc *d = &q->ring[q->post_tail & (q->size - 1)];

		d->payload = nm_page_pool_alloc_netmem(q->pool);
		if (!d->payload)
			break;
		d->hdr = 0;
		if (q->split) {
			d->hdr = nm_page_pool_alloc_netmem(q->hdr_pool);
			if (!d->hdr) {
				nm_page_pool_put_netmem(q->pool, d->payload, true);
				break;
			}
		}
		q->post_tail++;
	}
}

static void put_pair(struct sim_qmem *q, nm_netmem_ref hdr, nm_netmem_ref payload)
{
	if (hdr)
		nm_page_pool_put_netmem(q->hdr_pool, hdr, true);
	if (payload)
		nm_page_pool_put_netmem(q->pool, payload, true);
}

static int sim_mem_alloc(struct nm_netdev *dev, void *mem, uint32_t idx,
			 const struct nm_mp_params *mp, struct nm_err *err)
{
	struct nm_sim *sim = to_sim(dev);
	struct sim_qmem *q = mem;
	uint32_t caps = dev->rxqs[idx].caps;
	struct nm_page_pool_params pp = {
		.pool_size = sim->pool_size,
		.flags = NM_PP_FLAG_DMA_MAP,
		.nid = -1,
		.queue_idx = idx,
	};
	int ret = sim_op(sim, NM_SIM_OP_MEM_ALLOC);

	if (ret)
		return nm_err_set(err, ret, "%s queue %u: mem_alloc failed (injected)",
				  dev->name, idx);
	q->size = sim->ring_size;
	q->split = caps & NM_RXQ_CAP_HEADER_SPLIT;
	q->rx_csum = caps & NM_RXQ_CAP_RX_CSUM;
	q->ring = calloc(q->size, sizeof(*q->ring));
	q->cq = calloc(q->size, sizeof(*q->cq));
	if (!q->ring || !q->cq) {
		ret = nm_err_set(err, -ENOMEM, "out of memory for rings");
		goto err_rings;
	}
	if (q->split) {
		pp.mp = nm_host_mem_mp(sim->host);
		ret = nm_page_pool_create(&pp, &q->hdr_pool, err);
		if (ret)
			goto err_rings;
	}
	/* Say truthfully what this queue's pool may hold. */
	if (caps & NM_RXQ_CAP_UNREADABLE)
		pp.flags |= NM_PP_FLAG_ALLOW_UNREADABLE_NETMEM;
	pp.mp = mp->ops ? *mp : nm_host_mem_mp(sim->host);
	ret = nm_page_pool_create(&pp, &q->pool, err);
	if (ret)
		goto err_hdr_pool;
	return 0;

err_hdr_pool:
	nm_page_pool_destroy(q->hdr_pool);
err_rings:
	free(q->ring);
	free(q->cq);
	return ret;
}

static void sim_mem_free(struct nm_netdev *dev, void *mem)
{
	struct sim_qmem *q = mem;

	sim_op(to_sim(dev), NM_SIM_OP_MEM_FREE);
	/* Buffers still held by the application keep the pools alive. */
	nm_page_pool_destroy(q->pool);
	nm_page_pool_destroy(q->hdr_pool);
	free(q->ring);
	free(q->cq);
}

static int sim_start(struct nm_netdev *dev, void *mem, uint32_t idx,
		     struct nm_err *err)
{
	struct nm_sim *sim = to_sim(dev);
	struct sim_rxq *rxq = &sim->rxq[idx];
	struct sim_qmem *q = mem;
	int ret = sim_op(sim, NM_SIM_OP_START);

	if (ret)
		return nm_err_set(err, ret, "%s queue %u: start failed (injected)",
				  dev->name, idx);
	pthread_mutex_lock(&rxq->lock);
	qmem_post(q);
	rxq->cur = q;
	pthread_mutex_unlock(&rxq->lock);
	return 0;
}

static int sim_stop(struct nm_netdev *dev, void *mem, uint32_t idx,
		    struct nm_err *err)
{
	struct nm_sim *sim = to_sim(dev);
	struct sim_rxq *rxq = &sim->rxq[idx];
	struct sim_qmem *q = mem;
	int ret = sim_op(sim, NM_SIM_OP_STOP);

	if (ret)
		return nm_err_set(err, ret, "%s queue %u: stop failed (injected)",
				  dev->name, idx);
	pthread_mutex_lock(&rxq->lock);
	rxq->cur = NULL;
	/* Unpolled completions and posted buffers go back to their pools,
	 * so a restart back onto this memory starts clean. */
	for (; q->cq_head != q->cq_tail; q->cq_head++) {
		struct nm_rx_pkt *c = &q->cq[q->cq_head & (q->size - 1)];

		put_pair(q, c->hdr, c->payload);
	}
	for (; q->post_head != q->post_tail; q->post_head++) {
		struct sim_desc *d = &q->ring[q->post_head & (q->size - 1)];

		put_pair(q, d->hdr, d->payload);
	}
	pthread_mutex_unlock(&rxq->lock);
	return 0;
}

static struct nm_page_pool *sim_mem_pool(void *mem)
{
	return ((struct sim_qmem *)mem)->pool;
}

static const struct nm_queue_mgmt_ops sim_qops = {
	.mem_size = sizeof(struct sim_qmem),
	.mem_alloc = sim_mem_alloc,
	.mem_free = sim_mem_free,
	.start = sim_start,
	.stop = sim_stop,
	.mem_pool = sim_mem_pool,
};

int nm_sim_create(const struct nm_sim_params *params, struct nm_sim **out,
		  struct nm_err *err)
{
	struct nm_sim_params p = params ? *params : (struct nm_sim_params){ 0 };
	struct nm_host_mem_params hp = { .numa_node = -1 };
	struct nm_dma_domain *dom;
	struct nm_sim *sim;
	int ret;

	if (!p.name)
		p.name = "sim0";
	if (!p.num_rx_queues)
		p.num_rx_queues = 4;
	if (!p.ring_size)
		p.ring_size = 256;
	if (!p.pool_size)
		p.pool_size = 2 * p.ring_size;
	if (p.num_rx_queues > 64)
		return nm_err_set(err, -EINVAL, "the software NIC has at most 64 queues");
	if (p.ring_size < 2 || p.ring_size > 4096 || (p.ring_size & (p.ring_size - 1)))
		return nm_err_set(err, -EINVAL, "ring size %u: power of two from 2 to 4096",
				  p.ring_size);
	if (p.dma && !p.dma->ops->translate && !p.dma->ops->write)
		return nm_err_set(err, -EINVAL, "the software NIC cannot DMA through a %s domain",
				  p.dma->ops->kind);
	if (p.pool_size < p.ring_size)
		return nm_err_set(err, -EINVAL, "pool size %u is smaller than the ring (%u)",
				  p.pool_size, p.ring_size);
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return nm_err_set(err, -ENOMEM, "out of memory");
	sim->ring_size = p.ring_size;
	sim->pool_size = p.pool_size;
	pthread_mutex_init(&sim->rules_lock, NULL);
	sim->rxq = calloc(p.num_rx_queues, sizeof(*sim->rxq));
	if (!sim->rxq) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto err_free;
	}
	for (uint32_t i = 0; i < p.num_rx_queues; i++)
		pthread_mutex_init(&sim->rxq[i].lock, NULL);

	if (p.dma) {
		dom = p.dma;
		nm_dma_domain_get(dom);
	} else {
		ret = nm_dma_domain_identity_create(&dom, err);
		if (ret)
			goto err_free;
	}
	/* Headers and default payload pools of every queue, twice over (old
	 * and new memory during a restart), plus what zombie pools keep. */
	hp.size = (uint64_t)p.num_rx_queues * p.pool_size * 2 * 3 * HDR_BUF_SIZE;
	hp.buf_size = HDR_BUF_SIZE;
	hp.no_hugepages = p.no_hugepages;
	ret = nm_host_mem_create(dom, &hp, &sim->host, err);
	if (ret)
		goto err_dom;
	ret = nm_netdev_init(&sim->dev, p.name, p.num_rx_queues, &sim_qops, dom, err);
	if (ret)
		goto err_host;
	nm_dma_domain_put(dom); /* the device holds it now */
	for (uint32_t i = 0; i < p.num_rx_queues; i++) {
		nm_netdev_set_rxq_caps(&sim->dev, i, NM_RXQ_CAP_ALL);
		nm_netdev_set_rxq_buf_sizes(&sim->dev, i, &sim_buf_sizes);
	}
	ret = nm_netdev_open(&sim->dev, err);
	if (ret) {
		nm_netdev_fini(&sim->dev);
		nm_host_mem_put(sim->host);
		goto err_free;
	}
	*out = sim;
	return 0;

err_host:
	nm_host_mem_put(sim->host);
err_dom:
	nm_dma_domain_put(dom);
err_free:
	free(sim->rxq);
	free(sim);
	return ret;
}

void nm_sim_destroy(struct nm_sim *sim)
{
	if (!sim)
		return;
	nm_netdev_fini(&sim->dev);
	nm_host_mem_put(sim->host);
	for (uint32_t i = 0; i < sim->dev.num_rx_queues; i++)
		pthread_mutex_destroy(&sim->rxq[i].lock);
	free(sim->rxq);
	pthread_mutex_destroy(&sim->rules_lock);
	free(sim);
}

struct nm_netdev *nm_sim_netdev(struct nm_sim *sim)
{
	return &sim->dev;
}

struct nm_host_mem *nm_sim_host_mem(struct nm_sim *sim)
{
	return sim->host;
}

int nm_sim_set_queue_caps(struct nm_sim *sim, uint32_t queue, uint32_t caps)
{
	return nm_netdev_set_rxq_caps(&sim->dev, queue, caps);
}

int nm_sim_set_queue_buf_sizes(struct nm_sim *sim, uint32_t queue,
			       const struct nm_rxq_buf_sizes *sizes)
{
	struct nm_rxq_buf_sizes s;

	if (!sizes)
		return -EINVAL;
	s = *sizes;
	/* The default memory's buffers are what they are. */
	s.dflt = HDR_BUF_SIZE;
	if (!nm_rxq_buf_size_ok(&s, s.dflt))
		s.dflt = 0;
	return nm_netdev_set_rxq_buf_sizes(&sim->dev, queue, &s);
}

int nm_sim_steer(struct nm_sim *sim, const struct nm_flow *f, uint32_t queue)
{
	int ret = 0;

	if (queue >= sim->dev.num_rx_queues)
		return -EINVAL;
	pthread_mutex_lock(&sim->rules_lock);
	if (sim->num_rules == SIM_MAX_RULES)
		ret = -ENOSPC;
	else
		sim->rules[sim->num_rules++] = (struct sim_rule){
			f->ipver, f->l4proto, f->dst_port, queue };
	pthread_mutex_unlock(&sim->rules_lock);
	return ret;
}

void nm_sim_unsteer(struct nm_sim *sim, const struct nm_flow *f)
{
	pthread_mutex_lock(&sim->rules_lock);
	for (unsigned int i = 0; i < sim->num_rules; i++) {
		struct sim_rule *r = &sim->rules[i];

		if (r->ipver == f->ipver && r->l4proto == f->l4proto &&
		    r->dst_port == f->dst_port) {
			/* In order: an older rule for the same port wins. */
			memmove(r, r + 1, (sim->num_rules - i - 1) * sizeof(*r));
			sim->num_rules--;
			break;
		}
	}
	pthread_mutex_unlock(&sim->rules_lock);
}

/* The hash the device computes for frames of @f (the same parse). */
static int flow_hash_of(const struct nm_flow *f, uint32_t *hash)
{
	uint8_t frame[128];
	struct nm_pkt_info pi;
	int len = nm_pkt_build(frame, sizeof(frame), f, 0, NULL, 0);

	if (len < 0 || nm_pkt_parse(frame, (size_t)len, &pi))
		return -EINVAL;
	*hash = pi.flow_hash;
	return 0;
}

int nm_sim_steer_flow(struct nm_sim *sim, const struct nm_flow *f, uint32_t queue)
{
	struct sim_flow_rule *r;
	uint32_t hash;
	int ret = 0;

	if (queue >= sim->dev.num_rx_queues || flow_hash_of(f, &hash))
		return -EINVAL;
	pthread_mutex_lock(&sim->rules_lock);
	r = &sim->flows[hash % NM_SIM_FLOW_SLOTS];
	if (r->used && r->hash != hash)
		ret = -EEXIST;
	else
		*r = (struct sim_flow_rule){ true, hash, queue };
	pthread_mutex_unlock(&sim->rules_lock);
	return ret;
}

void nm_sim_unsteer_flow(struct nm_sim *sim, const struct nm_flow *f)
{
	struct sim_flow_rule *r;
	uint32_t hash;

	if (flow_hash_of(f, &hash))
		return;
	pthread_mutex_lock(&sim->rules_lock);
	r = &sim->flows[hash % NM_SIM_FLOW_SLOTS];
	if (r->used && r->hash == hash)
		r->used = false;
	pthread_mutex_unlock(&sim->rules_lock);
}

static uint32_t steer(struct nm_sim *sim, const struct nm_pkt_info *pi, int parsed)
{
	uint32_t queue = parsed ? pi->flow_hash % sim->dev.num_rx_queues : 0;

	if (parsed) {
		const struct sim_flow_rule *fr = &sim->flows[pi->flow_hash % NM_SIM_FLOW_SLOTS];

		pthread_mutex_lock(&sim->rules_lock);
		if (fr->used && fr->hash == pi->flow_hash) {
			queue = fr->queue;
			pthread_mutex_unlock(&sim->rules_lock);
			return queue;
		}
		for (unsigned int i = 0; i < sim->num_rules; i++) {
			const struct sim_rule *r = &sim->rules[i];

			if (r->ipver == pi->ipver && r->l4proto == pi->l4proto &&
			    r->dst_port == pi->dst_port) {
				queue = r->queue;
				break;
			}
		}
		pthread_mutex_unlock(&sim->rules_lock);
	}
	return queue;
}

uint32_t nm_sim_queue_of(struct nm_sim *sim, const void *frame, size_t len)
{
	struct nm_pkt_info pi;

	return steer(sim, &pi, nm_pkt_parse(frame, len, &pi) == 0);
}

/* A frame as the wire hands it: its first @head_len bytes at @head, the
 * rest at @rest. */
struct sim_frame {
	const void *head;
	size_t head_len;
	const void *rest;
};

/* The device writes @len bytes at @iova, through the IOMMU (into device
 * memory too: the domain hands that to the memory's own copy). */
static int sim_dma_write(struct nm_sim *sim, uint64_t iova, const void *src,
			 size_t len)
{
	if (!len)
		return 0;
	return nm_dma_write(sim->dev.dma, iova, src, len);
}

/* Bytes [@off, @off + @len) of the frame in two pieces (@f) to @iova. */
static int sim_dma_write2(struct nm_sim *sim, uint64_t iova, const struct sim_frame *f,
			  size_t off, size_t len)
{
	size_t a = off < f->head_len ? f->head_len - off : 0;

	if (a > len)
		a = len;
	if (a && sim_dma_write(sim, iova, (const uint8_t *)f->head + off, a))
		return -EFAULT;
	if (a == len)
		return 0;
	off = off + a - f->head_len;
	return sim_dma_write(sim, iova + a, (const uint8_t *)f->rest + off, len - a);
}

int nm_sim_inject(struct nm_sim *sim, const void *frame, size_t len)
{
	return nm_sim_inject2(sim, frame, len, NULL, 0, -1);
}

int nm_sim_inject2(struct nm_sim *sim, const void *head, size_t head_len,
		   const void *rest, size_t rest_len, int verdict)
{
	const struct sim_frame f = { head, head_len, rest };
	size_t len = head_len + rest_len;
	struct nm_pkt_info pi;
	int parsed = nm_pkt_parse(head, len, &pi) == 0 && pi.hdr_len <= head_len;
	uint32_t queue = steer(sim, &pi, parsed);
	struct sim_rxq *rxq = &sim->rxq[queue];
	struct sim_qmem *q;
	struct sim_desc *d;
	struct nm_rx_pkt *c;
	uint32_t hlen = 0;
	int ret = (int)queue;

	/* The queue's own check reads the frame whole. */
	if (verdict < 0 && rest_len)
		return -EINVAL;
	pthread_mutex_lock(&rxq->lock);
	q = rxq->cur;
	if (!q) {
		rxq->stats.drop_stopped++;
		ret = -ENETDOWN;
		goto out;
	}
	if (q->post_head == q->post_tail) {
		rxq->stats.drop_no_buf++;
		ret = -ENOBUFS;
		goto out;
	}
	d = &q->ring[q->post_head & (q->size - 1)];
	if (q->split && parsed)
		hlen = pi.hdr_len;
	if ((hlen && hlen > HDR_BUF_SIZE) ||
	    len - hlen > nm_netmem_buf_size(d->payload)) {
		rxq->stats.drop_too_big++;
		ret = -EMSGSIZE;
		goto out;
	}
	if ((hlen && sim_dma_write2(sim, nm_netmem_dma_addr(d->hdr), &f, 0, hlen)) ||
	    sim_dma_write2(sim, nm_netmem_dma_addr(d->payload), &f, hlen, len - hlen)) {
		rxq->stats.dma_faults++;
		ret = -EFAULT;
		goto out;
	}
	if (!q->rx_csum)
		verdict = 0;
	else if (verdict < 0)
		verdict = (int)nm_pkt_csum_verdict(head, len);
	q->post_head++;
	c = &q->cq[q->cq_tail++ & (q->size - 1)];
	*c = (struct nm_rx_pkt){
		.hdr = hlen ? d->hdr : 0,
		.payload = d->payload,
		.hdr_len = hlen,
		.payload_len = (uint32_t)(len - hlen),
		.flags = (hlen ? NM_RX_PKT_SPLIT : 0) | (uint32_t)verdict,
		.queue = queue,
	};
	if (!hlen && d->hdr)  /* unparsed frame on a split queue */
		nm_page_pool_put_netmem(q->hdr_pool, d->hdr, true);
	rxq->stats.packets++;
	rxq->stats.bytes += len;
	rxq->stats.hdr_bytes += hlen;
	rxq->stats.payload_bytes += len - hlen;
	rxq->stats.split += hlen != 0;
out:
	pthread_mutex_unlock(&rxq->lock);
	return ret;
}

unsigned int nm_sim_rx_burst(struct nm_sim *sim, uint32_t queue,
			     struct nm_rx_pkt *pkts, unsigned int n)
{
	struct sim_rxq *rxq;
	struct sim_qmem *q;
	unsigned int got = 0;

	if (queue >= sim->dev.num_rx_queues)
		return 0;
	rxq = &sim->rxq[queue];
	pthread_mutex_lock(&rxq->lock);
	q = rxq->cur;
	if (q) {
		while (got < n && q->cq_head != q->cq_tail)
			pkts[got++] = q->cq[q->cq_head++ & (q->size - 1)];
		qmem_post(q);
	}
	pthread_mutex_unlock(&rxq->lock);
	return got;
}

uint32_t nm_sim_rx_waiting(struct nm_sim *sim, uint32_t queue)
{
	struct sim_rxq *rxq;
	uint32_t n = 0;

	if (queue >= sim->dev.num_rx_queues)
		return 0;
	rxq = &sim->rxq[queue];
	pthread_mutex_lock(&rxq->lock);
	if (rxq->cur)
		n = rxq->cur->cq_tail - rxq->cur->cq_head;
	pthread_mutex_unlock(&rxq->lock);
	return n;
}

void nm_sim_rxq_stats(struct nm_sim *sim, uint32_t queue,
		      struct nm_sim_rxq_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (queue >= sim->dev.num_rx_queues)
		return;
	pthread_mutex_lock(&sim->rxq[queue].lock);
	*st = sim->rxq[queue].stats;
	pthread_mutex_unlock(&sim->rxq[queue].lock);
}

uint64_t nm_sim_op_count(struct nm_sim *sim, enum nm_sim_op op)
{
	return op < NM_SIM_OP_COUNT ? atomic_load(&sim->op_count[op]) : 0;
}

void nm_sim_fail_next(struct nm_sim *sim, enum nm_sim_op op, int error)
{
	if (op < NM_SIM_OP_COUNT)
		atomic_store(&sim->fail_next[op], error);
}
