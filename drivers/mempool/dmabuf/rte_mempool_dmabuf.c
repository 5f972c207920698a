/* SPDX-License-Identifier: MIT */
/*
 * The "dmabuf" mempool ops (see netmem/dpdk_mempool.h).
 *
 * Where an object's data lives, in one place: object i of the pool is the
 * mbuf pinned to buffer (net_iov) i of the pool's dmabuf binding.
 *
 *   buf_addr = CPU mapping of the dmabuf + net_iov offset (device memory:
 *              its own address + offset, which the CPU must never touch)
 *   buf_iova = net_iov dma_addr (the IOVA EAL's DMA domain gave the dmabuf)
 *   ol_flags = RTE_MBUF_F_EXTERNAL, shinfo in the object's tail
 *
 * At alloc the pool takes every buffer of the binding's area (its allocator)
 * for its whole life, and pins one to each object it populates. The free
 * list is then the pool's own: a ring of object pointers (obj_ring.h), as
 * ring_mp_mc has, so a get or put is a ring operation and nothing else
 * (plus, on put, a check that each object is one of ours, which for the
 * usual pool is a vectorised test of its offset). The area's accounting
 * stays the binding's: all its buffers are in use by the pool.
 *
 * The mbuf fields are written once, at the first dequeue (before it, for a
 * pool built by rte_pktmbuf_pool_create_by_ops(), rte_pktmbuf_init() still
 * has to run over the objects and would overwrite them) or right after
 * creation by nm_dpdk_pktmbuf_pool_create().
 *
 * The inline layout (NETMEM_DMABUF_MBUF=inline) puts the whole object in
 * buffer i instead: object header, mbuf, private area and data room, an
 * ordinary direct mbuf that rte_pktmbuf_init() sets up as on any pool (its
 * buf_addr right behind the mbuf, which rte_mbuf_from_indirect() and
 * rte_pktmbuf_copy() rely on). The library's own memory chunk then holds
 * nothing; the free list and the check on put are the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <netmem/dmabuf.h>
#include <netmem/net_iov.h>

#include "internal.h"

RTE_LOG_REGISTER(nm_dpdk_logtype, pmd.mempool.dmabuf, INFO);

pthread_mutex_t nm_dpdk_lock = PTHREAD_MUTEX_INITIALIZER;
struct nm_dpdk_pool_list nm_dpdk_pools = TAILQ_HEAD_INITIALIZER(nm_dpdk_pools);

static void watch_pool_events(void);

static inline struct nm_dpdk_obj_tail *obj_tail(const struct nm_dpdk_pool *p,
						void *obj)
{
	return (struct nm_dpdk_obj_tail *)((uint8_t *)obj + p->tail_off);
}

/* The last reference to a pinned buffer went (a clone was freed): the mbuf
 * goes back to its pool. As DPDK's own rte_pktmbuf_free_pinned_extmem(). */
static void pinned_free_cb(void *addr, void *opaque)
{
	struct rte_mbuf *m = opaque;

	(void)addr;
	rte_mbuf_ext_refcnt_set(m->shinfo, 1);
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->next = NULL;
	m->nb_segs = 1;
	rte_mbuf_raw_free(m);
}

/* Pin mbuf @obj to buffer @idx. The mbuf is in the pool, not in use. */
static void attach_one(struct nm_dpdk_pool *p, void *obj, uint32_t idx)
{
	struct rte_mbuf *m = obj;
	struct nm_net_iov *niov = &p->area->niovs[idx];
	struct nm_dpdk_obj_tail *t = obj_tail(p, obj);

	m->buf_addr = p->data_base + nm_net_iov_offset(niov);
	rte_mbuf_iova_set(m, nm_net_iov_dma_addr(niov));
	m->buf_len = p->buf_len;
	m->data_off = RTE_MIN((uint16_t)RTE_PKTMBUF_HEADROOM, p->buf_len);
	m->ol_flags = RTE_MBUF_F_EXTERNAL;
	m->shinfo = &t->shinfo;
	t->shinfo.free_cb = pinned_free_cb;
	t->shinfo.fcb_opaque = m;
	rte_mbuf_ext_refcnt_set(&t->shinfo, 1);
}

/*
 * A dmabuf pool places its objects a power of two apart, each on a multiple
 * of that stride, whatever size its creator gave them: then object i is
 * base + i << shift, its buffer index is its offset shifted, and the check
 * that a put holds only our objects is a vector test of offsets
 * (linear_all_ours_x*) instead of a table lookup per object. A pool from
 * nm_dpdk_pktmbuf_pool_create() is sized for it (no room lost); one from
 * rte_pktmbuf_pool_create_by_ops() (what --mbuf-pool-ops-name gives every
 * application) has objects as big as an ordinary mbuf with its data room,
 * which a dmabuf pool leaves empty (the data is in the dmabuf), and pays up
 * to twice their memory in the host pool (8192 mbufs of 2048-byte rooms:
 * 32 MiB instead of 19). Objects no larger than a page never cross one
 * (the stride divides the page); larger ones cross pages as DPDK's own
 * packing lets them.
 */
static size_t obj_stride(const struct rte_mempool *mp)
{
	return rte_align64pow2((uint64_t)mp->header_size + mp->elt_size + mp->trailer_size);
}

/*
 * Object address -> buffer index without touching the object (its tail is
 * a cache line, and a page, of its own in a pool of 2 KiB data rooms): the
 * pool's address range cut into buckets no larger than an object, so each
 * holds at most one object start. Not built when the objects are spread
 * too thinly (chunks far apart); the tail is read then.
 */
static void build_lookup(struct nm_dpdk_pool *p)
{
	const struct rte_mempool *mp = p->mp;
	size_t stride = obj_stride(mp);
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	uint32_t shift = 0, i;
	uint64_t len;

	if (!p->num_objs)
		return;
	while ((2ull << shift) <= stride)
		shift++;
	/* Linear: objs[i] == objs[0] + i << shift (dmabuf_populate() places
	 * them so, in one memory chunk; a pool in several is not). */
	for (i = 0; i < p->num_objs; i++)
		if ((uintptr_t)p->objs[i] != (uintptr_t)p->objs[0] + ((uintptr_t)i << shift))
			break;
	if (i < p->num_objs) {
		NM_LOG(DEBUG, "pool '%s': object %u at +%td, not +%zu (%u chunks)",
		       p->name, i, (uint8_t *)p->objs[i] - (uint8_t *)p->objs[0],
		       (size_t)i << shift, mp->nb_mem_chunks);
	} else {
		p->lin_base = (uintptr_t)p->objs[0];
		p->lin_end = p->lin_base + ((uintptr_t)p->num_objs << shift);
		p->lin_low = ((uintptr_t)1 << shift) - 1;
		p->linear = true;
	}
	for (uint32_t i = 0; i < p->num_objs; i++) {
		uintptr_t a = (uintptr_t)p->objs[i];

		lo = RTE_MIN(lo, a);
		hi = RTE_MAX(hi, a);
	}
	NM_LOG(DEBUG, "pool '%s': objects %zu bytes apart, %s", p->name, stride,
	       p->linear ? "linear (index = offset >> shift)" : "bucket lookup");
	if (p->linear)
		return;
	len = ((hi - lo) >> shift) + 1;
	if (len > 8ull * p->num_objs + 4096)
		return;
	p->lk = malloc(len * sizeof(*p->lk));
	if (!p->lk)
		return;
	memset(p->lk, 0xff, len * sizeof(*p->lk));
	for (uint32_t i = 0; i < p->num_objs; i++)
		p->lk[((uintptr_t)p->objs[i] - lo) >> shift] = i;
	p->lk_base = lo;
	p->lk_shift = shift;
	p->lk_len = (uint32_t)len;
}

static void attach_all(struct nm_dpdk_pool *p)
{
	pthread_mutex_lock(&p->attach_lock);
	if (!atomic_load_explicit(&p->attached, memory_order_relaxed)) {
		/* Inline mbufs are ordinary ones: rte_pktmbuf_init() did it. */
		for (uint32_t i = 0; i < p->num_objs && !p->inline_objs; i++)
			attach_one(p, p->objs[i], i);
		build_lookup(p);
		atomic_store_explicit(&p->attached, true, memory_order_release);
	}
	pthread_mutex_unlock(&p->attach_lock);
}

/* The buffer index of @obj; num_objs when it is none of ours. */
static inline uint32_t obj_index(const struct nm_dpdk_pool *p, void *obj)
{
	uint32_t idx;

	if (likely(p->lk && atomic_load_explicit(&p->attached, memory_order_acquire))) {
		uintptr_t b = ((uintptr_t)obj - p->lk_base) >> p->lk_shift;

		idx = b < p->lk_len ? p->lk[b] : UINT32_MAX;
	} else if (p->inline_objs) {
		/* Object i is in buffer i (its tail is data room here). */
		uintptr_t off = (uintptr_t)obj - (uintptr_t)p->cpu_base -
				p->area->base_offset - p->mp->header_size;

		idx = (uint32_t)RTE_MIN(off / p->area->buf_size, (uintptr_t)UINT32_MAX);
	} else {
		idx = obj_tail(p, obj)->niov;
	}
	return idx < p->num_objs && p->objs[idx] == obj ? idx : p->num_objs;
}

static uint32_t next_pow2(uint32_t v)
{
	uint32_t p = 256;

	while (p < v)
		p <<= 1;
	return p;
}

/* A dmabuf may back one pool only: two pools on one free list would hand
 * out each other's buffers. Identified by its file (st_dev, st_ino). */
static int claim_dmabuf(struct nm_dpdk_pool *p, struct nm_dmabuf *buf,
			struct nm_err *err)
{
	struct nm_dpdk_pool *o;
	struct stat st;
	int fd = buf->fd >= 0 ? buf->fd : buf->backing_fd;
	int ret = 0;

	if (fd >= 0 && !fstat(fd, &st)) {
		p->dev_dev = (uint64_t)st.st_dev;
		p->dev_ino = (uint64_t)st.st_ino;
	}
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(o, &nm_dpdk_pools, next) {
		if (p->dev_ino && o->dev_ino == p->dev_ino && o->dev_dev == p->dev_dev) {
			ret = nm_err_set(err, -EBUSY,
					 "the dmabuf (%s) already backs pool '%s'; "
					 "each dmabuf pool needs its own dmabuf",
					 p->source, o->name);
			break;
		}
	}
	if (!ret)
		TAILQ_INSERT_TAIL(&nm_dpdk_pools, p, next);
	pthread_mutex_unlock(&nm_dpdk_lock);
	return ret;
}

static void pool_release(struct nm_dpdk_pool *p)
{
	if (p->b)
		nm_dmabuf_binding_unbind(p->b);
	pthread_mutex_destroy(&p->attach_lock);
	free(p->objs);
	free(p->lk);
	rte_free(p);
}

/* The layout @params ask for, else $NETMEM_DMABUF_MBUF's (default pinned). */
static int pool_layout(const struct nm_dpdk_pool_params *params, bool *inline_objs,
		       struct nm_err *err)
{
	const char *env;

	if (params && params->layout == NM_DPDK_MBUF_PINNED) {
		*inline_objs = false;
		return 0;
	}
	if (params && params->layout == NM_DPDK_MBUF_INLINE) {
		*inline_objs = true;
		return 0;
	}
	if (params && params->layout != NM_DPDK_MBUF_FROM_ENV)
		return nm_err_set(err, -EINVAL, "unknown mbuf layout %d", (int)params->layout);
	env = getenv(NM_DPDK_DMABUF_MBUF_ENV);
	*inline_objs = env && !strcmp(env, "inline");
	if (env && *env && !*inline_objs && strcmp(env, "pinned"))
		return nm_err_set(err, -EINVAL, NM_DPDK_DMABUF_MBUF_ENV "='%s': say 'pinned' "
				  "(mbuf headers in host memory, the default) or 'inline' "
				  "(whole mbufs in the dmabuf)", env);
	return 0;
}

static int pool_setup(struct rte_mempool *mp, struct nm_err *err)
{
	const struct nm_dpdk_pool_params *params = mp->pool_config;
	struct rte_pktmbuf_pool_private *priv;
	struct nm_binding_params bp = { 0 };
	struct nm_dma_domain *dom;
	struct nm_dmabuf *buf = NULL;
	struct nm_dpdk_pool *p;
	uint32_t *all;
	uint32_t taken;
	int ret;

	/* Only called for pools with a data room (nm_dpdk_host_reason()). */
	priv = rte_mempool_get_priv(mp);
	/* The free list behind it, with room for every object the pool can
	 * hold (a legitimate put always fits). */
	p = nm_dpdk_pool_zalloc(nm_obj_ring_size(mp->size), mp->socket_id);
	if (!p)
		return nm_err_set(err, -ENOMEM, "out of memory");
	nm_obj_ring_init(nm_dpdk_pool_ring(p), mp->size, mp->flags & RTE_MEMPOOL_F_SP_PUT,
			 mp->flags & RTE_MEMPOOL_F_SC_GET);
	p->mp = mp;
	snprintf(p->name, sizeof(p->name), "%s", mp->name);
	pthread_mutex_init(&p->attach_lock, NULL);
	p->buf_len = priv->mbuf_data_room_size;
	p->tail_off = (uint32_t)(sizeof(struct rte_mbuf) + priv->mbuf_priv_size);
	ret = pool_layout(params, &p->inline_objs, err);
	if (ret)
		goto fail;
	if (!p->inline_objs && mp->elt_size < p->tail_off + sizeof(struct nm_dpdk_obj_tail)) {
		ret = nm_err_set(err, -EINVAL,
				 "pool '%s': objects of %u bytes leave no room after the mbuf "
				 "for the external buffer info (%zu bytes)", mp->name,
				 mp->elt_size, sizeof(struct nm_dpdk_obj_tail));
		goto fail;
	}
	/* Inline: a whole object (header + element + trailer) per buffer. */
	bp.buf_size = next_pow2(p->inline_objs ? (uint32_t)obj_stride(mp) : p->buf_len);

	ret = nm_dpdk_open_source(params, (uint64_t)mp->size * bp.buf_size, &buf,
			  p->source, sizeof(p->source), err);
	if (ret)
		goto fail;
	ret = claim_dmabuf(p, buf, err);
	if (ret)
		goto fail_put_buf;
	ret = nm_dpdk_eal_domain(&dom, err);
	if (ret)
		goto fail_unlist;
	watch_pool_events();
	ret = nm_dmabuf_binding_create(dom, buf, &bp, &p->b, err);
	if (ret)
		goto fail_unlist;
	nm_dmabuf_put(buf);   /* the binding holds it */
	buf = NULL;
	p->area = &p->b->area;
	/* The domain pins the memory behind the dmabuf; that mapping is also
	 * the CPU's view of the buffers. */
	p->cpu_base = p->b->dmabuf->pin_addr;
	/* Device memory (a GPU's) has no CPU view: mbufs carry its own
	 * address, as DPDK's gpudev pools do; only its copy engine and
	 * kernels may touch the bytes. */
	p->data_base = p->b->dmabuf->dev_ops ? (uint8_t *)(uintptr_t)p->b->dmabuf->dev_addr :
					       p->cpu_base;
	if (p->inline_objs && (p->b->dmabuf->dev_ops || !p->cpu_base)) {
		ret = nm_err_set(err, -EOPNOTSUPP,
				 "pool '%s': inline mbufs put the mbuf headers in the dmabuf, "
				 "but %s (%s) has no CPU mapping; use the pinned layout "
				 "(" NM_DPDK_DMABUF_MBUF_ENV "=pinned)", mp->name, p->source,
				 p->b->dmabuf->exporter);
		goto fail_unlist;
	}
	if (p->area->num_niovs < mp->size) {
		ret = nm_err_set(err, -ENOSPC,
				 "pool '%s' needs %u buffers of %u bytes, but dmabuf %s "
				 "(%llu bytes) holds %u; use a bigger dmabuf or fewer mbufs",
				 mp->name, mp->size, bp.buf_size, p->source,
				 (unsigned long long)p->b->dmabuf->size, p->area->num_niovs);
		goto fail_unlist;
	}
	p->objs = calloc(p->area->num_niovs, sizeof(*p->objs));
	all = malloc(p->area->num_niovs * sizeof(*all));
	if (!p->objs || !all) {
		free(all);
		ret = nm_err_set(err, -ENOMEM, "out of memory for %u objects",
				 p->area->num_niovs);
		goto fail_unlist;
	}
	/* Take every buffer, for the pool's life: each object populated is
	 * pinned to one; the ones beyond mp->size are never used. */
	taken = nm_net_iov_area_take(p->area, all, p->area->num_niovs, true);
	free(all);
	if (taken != p->area->num_niovs) {
		ret = nm_err_set(err, -EBUSY, "binding %u has buffers in use", p->b->id);
		goto fail_unlist;
	}
	/* Like rte_pktmbuf_pool_create_extbuf(): detach never resets them. */
	if (!p->inline_objs)
		priv->flags |= RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF;
	mp->pool_data = p;
	pthread_mutex_lock(&nm_dpdk_lock);
	p->ready = true;
	pthread_mutex_unlock(&nm_dpdk_lock);
	NM_LOG(INFO, "pool '%s': %u %s mbufs on %s%s (%s, %llu MiB), binding %u: %u x %u B at iova %#llx, "
	       "DMA-mapped for %u device(s)", mp->name, mp->size,
	       p->inline_objs ? "inline" : "pinned", p->b->dmabuf->exporter,
	       p->b->dmabuf->emulated ? " (emulated)" : "", p->source,
	       (unsigned long long)(p->b->dmabuf->size >> 20), p->b->id,
	       p->area->num_niovs, bp.buf_size, (unsigned long long)p->b->iova,
	       nm_dpdk_domain_mapped_devices(dom, p->b->iova));
	return 0;

fail_unlist:
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_REMOVE(&nm_dpdk_pools, p, next);
	pthread_mutex_unlock(&nm_dpdk_lock);
fail_put_buf:
	nm_dmabuf_put(buf);
fail:
	pool_release(p);
	return ret;
}

static int dmabuf_alloc(struct rte_mempool *mp)
{
	const struct nm_dpdk_pool_params *params = mp->pool_config;
	struct nm_err local = { 0 };
	struct nm_err *err = params && params->err ? params->err : &local;
	const char *host = nm_dpdk_host_reason(mp);
	int ret;

	if (host)
		return nm_dpdk_host_alloc(mp, host);
	ret = pool_setup(mp, err);

	if (ret)
		NM_LOG(ERR, "pool '%s': %s", mp->name, err->msg);
	else
		nm_dpdk_ctl_start();
	return ret;
}

/* Objects in the lcore caches: back from the app, but not in our list. */
static uint32_t cached_objs(const struct rte_mempool *mp)
{
	uint32_t n = 0;

	if (!mp->cache_size || !mp->local_cache)
		return 0;
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		n += mp->local_cache[i].len;
	return n;
}

static uint32_t free_bufs(struct nm_dpdk_pool *p)
{
	return nm_obj_ring_count(nm_dpdk_pool_ring(p));
}

/*
 * rte_mempool_free() drains the free list (it dequeues every object) before
 * it calls our free op, so by then "free" says nothing. The mempool
 * DESTROY event comes first: count the mbufs still out there.
 */
static void pool_event(enum rte_mempool_event event, struct rte_mempool *mp,
		       void *arg)
{
	struct nm_dpdk_pool *p;
	uint32_t back;

	(void)arg;
	if (event != RTE_MEMPOOL_EVENT_DESTROY || !nm_dpdk_pool_is_dmabuf(mp) ||
	    !mp->pool_data)
		return;
	p = mp->pool_data;
	back = free_bufs(p) + cached_objs(mp);
	p->outstanding = p->num_objs > back ? p->num_objs - back : 0;
	p->destroy_seen = true;
}

static void watch_pool_events(void)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	static bool done;
	int ret;

	pthread_mutex_lock(&once);
	if (!done) {
		ret = rte_mempool_event_callback_register(pool_event, NULL);
		if (ret && ret != -EEXIST)
			NM_LOG(WARNING, "cannot watch mempool events (%s): a freed pool "
			       "keeps its dmabuf mapped", rte_strerror(-ret));
		done = true;
	}
	pthread_mutex_unlock(&once);
}

static void dmabuf_free(struct rte_mempool *mp)
{
	struct nm_dpdk_pool *p = mp->pool_data;
	uint32_t out;

	if (!p)
		return;
	if (p->host) {
		nm_dpdk_host_free(p);
		return;
	}
	/* Without the DESTROY event we cannot tell: keep the memory. */
	out = p->destroy_seen ? p->outstanding : p->num_objs;
	pthread_mutex_lock(&nm_dpdk_lock);
	p->mp = NULL;
	if (out) {
		/* The mbufs are gone with the pool's memory, but a device may
		 * still hold their buffers: keep the dmabuf mapped. */
		p->orphaned = true;
		pthread_mutex_unlock(&nm_dpdk_lock);
		NM_LOG(ERR, "pool '%s' freed with %u of %u mbufs outstanding: its dmabuf "
		       "(binding %u) stays mapped until the process exits", p->name, out,
		       p->num_objs, p->b->id);
		return;
	}
	TAILQ_REMOVE(&nm_dpdk_pools, p, next);
	pthread_mutex_unlock(&nm_dpdk_lock);
	pool_release(p);
}

#define TOP_BIT ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))

/*
 * True when every one of @objs[0..n) is base + k << shift with k < num, i.e.
 * off = obj - base has no low bit (@low) and no top bit, and obj - end has
 * its top bit (the pool spans far less than 2^63). No compare (x86-64's
 * baseline vectors have no unsigned one) and no early exit: two vector
 * accumulators a turn, vectors of @lanes pointers (2 for DPDK's SSE4.2
 * baseline, 4 for AVX2: a vector wider than the target's is spilled to the
 * stack, which costs more than the check saves).
 */
#define NM_DEFINE_LINEAR_ALL_OURS(name, lanes)					\
static __rte_always_inline bool name(void *const *objs, unsigned int n,	\
				     uintptr_t base, uintptr_t end, uintptr_t low)	\
{										\
	typedef uint64_t vec __attribute__((vector_size((lanes) * 8)));	\
	const vec vbase = base - (vec){ 0 }, vend = end - (vec){ 0 };		\
	vec any0 = { 0 }, any1 = { 0 }, all0 = ~(vec){ 0 }, all1 = all0, bad;	\
	uintptr_t any = 0, all = ~(uintptr_t)0;					\
	unsigned int j = 0;							\
										\
	for (; j + 2 * (lanes) <= n; j += 2 * (lanes)) {			\
		vec a, b;							\
										\
		memcpy(&a, &objs[j], sizeof(a));				\
		memcpy(&b, &objs[j + (lanes)], sizeof(b));			\
		any0 |= a - vbase;						\
		all0 &= a - vend;						\
		any1 |= b - vbase;						\
		all1 &= b - vend;						\
	}									\
	/* One vector of "bad" bits, then one reduction. */			\
	bad = ((any0 | any1) & (low | TOP_BIT)) | (~(all0 & all1) & TOP_BIT);	\
	for (unsigned int l = 0; l < (lanes); l++)				\
		any |= bad[l];							\
	for (; j < n; j++) {							\
		any |= (uintptr_t)objs[j] - base;				\
		all &= (uintptr_t)objs[j] - end;				\
	}									\
	return !(any & (low | TOP_BIT)) && (all & TOP_BIT);			\
}

_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "64-bit pointers");
NM_DEFINE_LINEAR_ALL_OURS(linear_all_ours_x2, 2)
NM_DEFINE_LINEAR_ALL_OURS(linear_all_ours_x4, 4)

/* The first of @obj_table[0..n) that is none of ours; n if all are. Out of
 * the fast path: the lookup for pools that are not linear, and the search
 * for the stranger once the linear test failed. */
static __rte_noinline unsigned int first_stranger(const struct nm_dpdk_pool *p,
						  void *const *obj_table, unsigned int n)
{
	bool fast = atomic_load_explicit(&p->attached, memory_order_acquire);
	unsigned int i = 0;

	if (likely(fast && p->linear)) {
		const uintptr_t base = p->lin_base, span = p->lin_end - p->lin_base;

		while (i < n && !(((uintptr_t)obj_table[i] - base) & p->lin_low) &&
		       (uintptr_t)obj_table[i] - base < span)
			i++;
		return i;
	}
	if (likely(fast && p->lk)) {
		/* The lookup in locals: nothing in the loop aliases them. */
		const uint32_t *lk = p->lk, len = p->lk_len, shift = p->lk_shift;
		void *const *objs = (void *const *)p->objs;
		const uintptr_t base = p->lk_base;
		const uint32_t num = p->num_objs;

		for (; i < n; i++) {
			uintptr_t b = ((uintptr_t)obj_table[i] - base) >> shift;
			uint32_t x = b < len ? lk[b] : UINT32_MAX;

			if (unlikely(x >= num || objs[x] != obj_table[i]))
				break;
		}
		return i;
	}
	for (; i < n; i++)
		if (unlikely(obj_index(p, obj_table[i]) == p->num_objs))
			break;
	return i;
}

/* A put with a stranger in it: the objects before it go back, the call
 * fails (the pool never hands out memory that is not its own). */
static __rte_noinline int put_with_stranger(struct nm_dpdk_pool *p, void *const *obj_table,
					    unsigned int n)
{
	unsigned int i = first_stranger(p, obj_table, n);

	if (i == n)
		return likely(nm_obj_ring_put(nm_dpdk_pool_ring(p), obj_table, n)) ? 0 : -ENOBUFS;
	NM_LOG(ERR, "pool '%s': object %p is not one of ours", p->name, obj_table[i]);
	nm_obj_ring_put(nm_dpdk_pool_ring(p), obj_table, i);
	return -EINVAL;
}

/* Back onto the free list, each checked to be one of the pool's objects (a
 * stranger would be handed out with some other memory as its buffer). */
static __rte_always_inline int enqueue_body(struct rte_mempool *mp, void *const *obj_table,
					    unsigned int n, const bool avx2)
{
	struct nm_dpdk_pool *p = mp->pool_data;

	if (unlikely(p->host))
		return rte_ring_enqueue_bulk(p->host, obj_table, n, NULL) ? 0 : -ENOBUFS;
	/* linear is set before attached is, and both stay. */
	if (unlikely(!atomic_load_explicit(&p->attached, memory_order_acquire) || !p->linear ||
		     !(avx2 ? linear_all_ours_x4 : linear_all_ours_x2)(obj_table, n, p->lin_base,
									p->lin_end, p->lin_low)))
		return put_with_stranger(p, obj_table, n);
	/* Room for every object: a legitimate put always fits. */
	return likely(nm_obj_ring_put(nm_dpdk_pool_ring(p), obj_table, n)) ? 0 : -ENOBUFS;
}

/* All or nothing, as ring_mp_mc. */
static __rte_always_inline int dequeue_body(struct rte_mempool *mp, void **obj_table,
					    unsigned int n)
{
	struct nm_dpdk_pool *p = mp->pool_data;

	if (unlikely(p->host))
		return rte_ring_dequeue_bulk(p->host, obj_table, n, NULL) ? 0 : -ENOBUFS;
	if (unlikely(!atomic_load_explicit(&p->attached, memory_order_acquire)))
		attach_all(p);
	return likely(nm_obj_ring_take(nm_dpdk_pool_ring(p), obj_table, n)) ? 0 : -ENOBUFS;
}

/*
 * The put and the get, built twice: for DPDK's baseline (SSE4.2) and for
 * AVX2, where the check and the ring copies take 32 bytes a step. The
 * constructor picks one pair for the CPU before it registers the ops, so
 * the fast path is one direct call from rte_mempool (no ifunc, no PLT).
 */
static int dmabuf_enqueue(struct rte_mempool *mp, void *const *obj_table, unsigned int n)
{
	return enqueue_body(mp, obj_table, n, false);
}

static int dmabuf_dequeue(struct rte_mempool *mp, void **obj_table, unsigned int n)
{
	return dequeue_body(mp, obj_table, n);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NM_HAVE_AVX2_BUILD 1
__attribute__((target("avx2"))) static int dmabuf_enqueue_avx2(struct rte_mempool *mp,
							      void *const *obj_table,
							      unsigned int n)
{
	return enqueue_body(mp, obj_table, n, true);
}

__attribute__((target("avx2"))) static int dmabuf_dequeue_avx2(struct rte_mempool *mp,
							      void **obj_table, unsigned int n)
{
	return dequeue_body(mp, obj_table, n);
}
#endif

static unsigned int dmabuf_get_count(const struct rte_mempool *mp)
{
	struct nm_dpdk_pool *p = mp->pool_data;

	return p->host ? rte_ring_count(p->host) : free_bufs(p);
}

/* A new object: pin it to the next buffer, then let the library add it. */
static void pin_new_obj(struct rte_mempool *mp, struct nm_dpdk_pool *p, void *obj,
			rte_iova_t iova, rte_mempool_populate_obj_cb_t *obj_cb,
			void *obj_cb_arg)
{
	uint32_t idx = p->num_objs;

	if (!p->inline_objs)
		obj_tail(p, obj)->niov = idx;
	p->objs[idx] = obj;
	p->num_objs = idx + 1;
	obj_cb(mp, obj_cb_arg, obj, iova);
	/* As rte_mempool_op_populate_helper(): onto the free list (through
	 * the slow path of our enqueue, which reads the index just set). */
	rte_mempool_ops_enqueue_bulk(mp, &obj, 1);
}

static int dmabuf_populate(struct rte_mempool *mp, unsigned int max_objs,
			   void *vaddr, rte_iova_t iova, size_t len,
			   rte_mempool_populate_obj_cb_t *obj_cb, void *obj_cb_arg)
{
	struct nm_dpdk_pool *p = mp->pool_data;
	size_t total = (size_t)mp->header_size + mp->elt_size + mp->trailer_size;
	size_t stride, off;
	unsigned int n, i;

	if (p->host)
		return nm_dpdk_host_populate(mp, max_objs, vaddr, iova, len, obj_cb,
					     obj_cb_arg);
	stride = obj_stride(mp);
	n = RTE_MIN(max_objs, p->area->num_niovs - p->num_objs);
	if (p->inline_objs) {
		/* Every object in its own buffer of the dmabuf; the chunk the
		 * library gave (calc_mem_size's one cache line) holds none. */
		for (i = 0; i < n; i++) {
			struct nm_net_iov *niov = &p->area->niovs[p->num_objs];

			pin_new_obj(mp, p, p->cpu_base + nm_net_iov_offset(niov) + mp->header_size,
				    nm_net_iov_dma_addr(niov) + mp->header_size, obj_cb,
				    obj_cb_arg);
		}
		return (int)n;
	}
	off = RTE_ALIGN_CEIL((uintptr_t)vaddr, stride) - (uintptr_t)vaddr;
	for (i = 0; i < n && off + total <= len; i++, off += stride) {
		size_t at = off + mp->header_size;

		pin_new_obj(mp, p, (uint8_t *)vaddr + at,
			    iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : iova + at, obj_cb, obj_cb_arg);
	}
	return (int)i;
}

/* Room for @obj_num objects a stride apart, in chunks aligned to it. */
static ssize_t dmabuf_calc_mem_size(const struct rte_mempool *mp, uint32_t obj_num,
				    uint32_t pg_shift, size_t *min_chunk_size,
				    size_t *align)
{
	const struct nm_dpdk_pool *p = mp->pool_data;
	size_t stride;

	if (!p || p->host)
		return rte_mempool_op_calc_mem_size_default(mp, obj_num, pg_shift,
							    min_chunk_size, align);
	if (p->inline_objs) {
		/* The objects go in the dmabuf (dmabuf_populate()); the
		 * library still wants a chunk of its own to record. */
		*min_chunk_size = RTE_CACHE_LINE_SIZE;
		*align = RTE_CACHE_LINE_SIZE;
		return RTE_CACHE_LINE_SIZE;
	}
	stride = obj_stride(mp);
	*min_chunk_size = stride;
	*align = RTE_MAX(stride, (size_t)RTE_CACHE_LINE_SIZE);
	return (ssize_t)(obj_num * stride);
}

static struct rte_mempool_ops ops_dmabuf = {
	.name = NM_DPDK_MEMPOOL_OPS,
	.alloc = dmabuf_alloc,
	.free = dmabuf_free,
	.enqueue = dmabuf_enqueue,
	.dequeue = dmabuf_dequeue,
	.get_count = dmabuf_get_count,
	.populate = dmabuf_populate,
	.calc_mem_size = dmabuf_calc_mem_size,
};

/* RTE_MEMPOOL_REGISTER_OPS, with the fast path picked for the CPU first.
 * NETMEM_DMABUF_ISA=baseline keeps the baseline build on an AVX2 CPU (the
 * tests run both). */
RTE_INIT(register_ops_dmabuf)
{
#ifdef NM_HAVE_AVX2_BUILD
	const char *isa = getenv("NETMEM_DMABUF_ISA");

	if (__builtin_cpu_supports("avx2") && !(isa && !strcmp(isa, "baseline"))) {
		ops_dmabuf.enqueue = dmabuf_enqueue_avx2;
		ops_dmabuf.dequeue = dmabuf_dequeue_avx2;
	}
#endif
	rte_mempool_register_ops(&ops_dmabuf);
}

static bool on_our_ops(const struct rte_mempool *mp)
{
	return mp && rte_mempool_get_ops(mp->ops_index)->alloc == dmabuf_alloc;
}

bool nm_dpdk_pool_is_dmabuf(const struct rte_mempool *mp)
{
	const struct nm_dpdk_pool *p;

	if (!on_our_ops(mp))
		return false;
	p = mp->pool_data;
	return !p || !p->host;
}

const char *nm_dpdk_pool_host_fallback(const struct rte_mempool *mp)
{
	const struct nm_dpdk_pool *p;

	if (!on_our_ops(mp))
		return NULL;
	p = mp->pool_data;
	return p && p->host ? p->host_reason : NULL;
}

struct rte_mempool *nm_dpdk_pktmbuf_pool_create(const char *name, unsigned int n,
						unsigned int cache_size,
						uint16_t priv_size,
						uint16_t data_room_size,
						int socket_id,
						const struct nm_dpdk_pool_params *params)
{
	struct nm_err *err = params ? params->err : NULL;
	struct rte_pktmbuf_pool_private mbp_priv = {
		.mbuf_data_room_size = data_room_size,
		.mbuf_priv_size = priv_size,
		.flags = RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF,
	};
	struct nm_dpdk_pool_params defaults = { .source = NULL, .dmabuf_fd = -1, .memfd = -1 };
	const size_t hdr = RTE_ALIGN_CEIL(sizeof(struct rte_mempool_objhdr), RTE_MEMPOOL_ALIGN);
	struct rte_mempool *mp;
	unsigned int elt_size;
	bool inline_objs;
	int ret;

	if (RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN) != priv_size || !data_room_size) {
		nm_err_set(err, -EINVAL, "priv_size %u must be a multiple of %u and the "
			   "data room > 0", priv_size, RTE_MBUF_PRIV_ALIGN);
		rte_errno = EINVAL;
		return NULL;
	}
	ret = pool_layout(params, &inline_objs, err);
	if (ret) {
		rte_errno = -ret;
		return NULL;
	}
	/* Objects (header + mbuf + tail) a power of two apart, never across a
	 * page: then an object's buffer index is its offset shifted, in both
	 * directions, and the free list never reads an object (NO_SPREAD: the
	 * memory-channel padding would break the power of two). */
	elt_size = sizeof(struct rte_mbuf) + priv_size +
		   (inline_objs ? data_room_size : sizeof(struct nm_dpdk_obj_tail));
	elt_size = rte_align32pow2(elt_size + (unsigned int)hdr) - (unsigned int)hdr;
	if (inline_objs)
		mbp_priv.flags = 0;   /* ordinary mbufs */
	mp = rte_mempool_create_empty(name, n, elt_size, cache_size,
				      sizeof(struct rte_pktmbuf_pool_private), socket_id,
				      RTE_MEMPOOL_F_NO_SPREAD);
	if (!mp) {
		nm_err_set(err, -rte_errno, "rte_mempool_create_empty '%s': %s", name,
			   rte_strerror(rte_errno));
		return NULL;
	}
	ret = rte_mempool_set_ops_byname(mp, NM_DPDK_MEMPOOL_OPS,
					 (void *)(params ? params : &defaults));
	if (ret) {
		nm_err_set(err, ret, "no mempool ops named '%s'", NM_DPDK_MEMPOOL_OPS);
		goto fail;
	}
	rte_pktmbuf_pool_init(mp, &mbp_priv);
	ret = rte_mempool_populate_default(mp);
	if (ret < 0)
		goto fail;
	mp->pool_config = NULL;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	attach_all(mp->pool_data);
	return mp;
fail:
	mp->pool_config = NULL;
	rte_mempool_free(mp);
	rte_errno = -ret;
	return NULL;
}

int nm_dpdk_pool_free(struct rte_mempool *mp, struct nm_err *err)
{
	unsigned int in_use;

	if (!nm_dpdk_pool_is_dmabuf(mp))
		return nm_err_set(err, -EINVAL, "not a dmabuf pool");
	in_use = rte_mempool_in_use_count(mp);
	if (in_use)
		return nm_err_set(err, -EBUSY,
				  "pool '%s' has %u of %u mbufs outstanding; put them back first "
				  "(a device may still be writing into their buffers)",
				  mp->name, in_use, mp->size);
	rte_mempool_free(mp);
	return 0;
}

int nm_dpdk_pool_dma_map_port(struct rte_mempool *mp, uint16_t port,
			      struct nm_err *err)
{
	struct rte_eth_dev_info info;
	struct nm_dpdk_pool *p;
	int ret;

	if (!nm_dpdk_pool_is_dmabuf(mp) || !mp->pool_data)
		return nm_err_set(err, -EINVAL, "pool is not a dmabuf pool");
	p = mp->pool_data;
	ret = rte_eth_dev_info_get(port, &info);
	if (ret)
		return nm_err_set(err, ret, "port %u: %s", port, rte_strerror(-ret));
	ret = nm_dpdk_domain_map_device(p->b->domain, p->b->iova, info.device, err);
	return ret < 0 ? ret : 0;
}

void nm_dpdk_pool_fill_info(struct nm_dpdk_pool *p, struct nm_dpdk_pool_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->source, sizeof(info->source), "%s", p->source);
	snprintf(info->exporter, sizeof(info->exporter), "%s", p->b->dmabuf->exporter);
	info->emulated = p->b->dmabuf->emulated;
	info->readable = p->cpu_base != NULL;
	info->inline_mbufs = p->inline_objs;
	info->orphaned = p->orphaned;
	info->binding_id = p->b->id;
	info->dmabuf_size = p->b->dmabuf->size;
	info->iova = p->b->iova;
	info->buf_size = p->area->buf_size;
	info->num_bufs = p->area->num_niovs;
	info->num_objs = p->num_objs;
	info->free_bufs = free_bufs(p);
	info->mapped_devices = nm_dpdk_domain_mapped_devices(p->b->domain, p->b->iova);
}

int nm_dpdk_pool_info(const struct rte_mempool *mp, struct nm_dpdk_pool_info *info)
{
	if (!nm_dpdk_pool_is_dmabuf(mp) || !mp->pool_data)
		return -EINVAL;
	pthread_mutex_lock(&nm_dpdk_lock);
	nm_dpdk_pool_fill_info(mp->pool_data, info);
	pthread_mutex_unlock(&nm_dpdk_lock);
	return 0;
}
