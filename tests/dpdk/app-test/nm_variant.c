/* SPDX-License-Identifier: MIT */
/*
 * The pktmbuf variants of DPDK's mempool tests (see nm_variant.h): pools
 * made as the tests ask, but as pktmbuf pools on the best mempool ops, and
 * one line per pool saying where telemetry finds it:
 *
 *   NM-VARIANT pool NAME: N objects; /mempool/info ops_index I = OPS;
 *   /netmem/dmabuf_pool: LAYOUT, M mbufs, F free        (or: none)
 *
 * tests/dpdk/app-test.sh checks those lines: on --mbuf-pool-ops-name=dmabuf
 * every pool must be on the dmabuf ops with all its objects on the dmabuf
 * free list (M == N), not on the ops' host fallback.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "telemetry_client.h"
#include "nm_variant.h"

/* The number after "@key": in a telemetry reply, or -1. */
static long long json_num(const char *json, const char *key)
{
	const char *p = strstr(json, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void report(const struct rte_mempool *mp)
{
	char q[96], info[4096], pool[4096], layout[16] = "?";
	long long idx = -1, mbufs = -1, free_bufs = -1;
	const struct rte_mempool_ops *ops = NULL;
	const char *l;

	snprintf(q, sizeof(q), "/mempool/info,%s", mp->name);
	if (nm_telemetry_query(q, info, sizeof(info)) > 0)
		idx = json_num(info, "\"ops_index\":");
	if (idx >= 0 && idx < (long long)rte_mempool_ops_table.num_ops)
		ops = &rte_mempool_ops_table.ops[idx];
	snprintf(q, sizeof(q), "/netmem/dmabuf_pool,%s", mp->name);
	if (nm_telemetry_query(q, pool, sizeof(pool)) > 0) {
		mbufs = json_num(pool, "\"num_mbufs\":");
		free_bufs = json_num(pool, "\"free_bufs\":");
		l = strstr(pool, "\"layout\":\"");
		if (l)
			sscanf(l + 10, "%15[a-z]", layout);
	}
	if (mbufs >= 0)
		printf("NM-VARIANT pool %s: %u objects; /mempool/info ops_index %lld = %s; "
		       "/netmem/dmabuf_pool: %s, %lld mbufs, %lld free\n", mp->name, mp->size,
		       idx, ops ? ops->name : "?", layout, mbufs, free_bufs);
	else
		printf("NM-VARIANT pool %s: %u objects; /mempool/info ops_index %lld = %s; "
		       "/netmem/dmabuf_pool: none\n", mp->name, mp->size, idx,
		       ops ? ops->name : "?");
	fflush(stdout);
}

struct rte_mempool *nm_variant_mempool_create_empty(const char *name, unsigned int n,
	unsigned int elt_size, unsigned int cache_size, unsigned int private_data_size,
	int socket_id, unsigned int flags)
{
	struct rte_pktmbuf_pool_private priv = { 0 };
	struct rte_mempool *mp;

	/* What cannot be a pktmbuf pool stays as the test asked. */
	if (private_data_size || elt_size <= sizeof(struct rte_mbuf) ||
	    elt_size - sizeof(struct rte_mbuf) > UINT16_MAX)
		return rte_mempool_create_empty(name, n, elt_size, cache_size,
						private_data_size, socket_id, flags);
	mp = rte_mempool_create_empty(name, n, elt_size, cache_size, sizeof(priv),
				      socket_id, flags);
	if (!mp)
		return NULL;
	priv.mbuf_data_room_size = (uint16_t)(elt_size - sizeof(struct rte_mbuf));
	rte_pktmbuf_pool_init(mp, &priv);
	return mp;
}

int nm_variant_mempool_populate_default(struct rte_mempool *mp)
{
	int ret = rte_mempool_populate_default(mp);

	if (ret >= 0 && mp->private_data_size >= sizeof(struct rte_pktmbuf_pool_private))
		report(mp);
	return ret;
}

struct rte_mempool *nm_variant_mempool_create(const char *name, unsigned int n,
	unsigned int elt_size, unsigned int cache_size, unsigned int private_data_size,
	rte_mempool_ctor_t *mp_init, void *mp_init_arg, rte_mempool_obj_cb_t *obj_init,
	void *obj_init_arg, int socket_id, unsigned int flags)
{
	struct rte_mempool *mp;

	if (private_data_size)
		return rte_mempool_create(name, n, elt_size, cache_size, private_data_size,
					  mp_init, mp_init_arg, obj_init, obj_init_arg,
					  socket_id, flags);
	mp = nm_variant_mempool_create_empty(name, n, elt_size, cache_size, 0, socket_id,
					     flags);
	if (!mp)
		return NULL;
	/* As rte_mempool_create(), but on the best ops, not the ring ops
	 * its flags would pick. */
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL))
		goto fail;
	if (mp_init)
		mp_init(mp, mp_init_arg);
	if (nm_variant_mempool_populate_default(mp) < 0)
		goto fail;
	if (obj_init)
		rte_mempool_obj_iter(mp, obj_init, obj_init_arg);
	return mp;
fail:
	rte_mempool_free(mp);
	return NULL;
}

/* DPDK's own pinned external-buffer pool in place of an ordinary one. Its
 * memory lives as long as the process (the tests free the pools, and a pool
 * does not own its external memory). */
struct rte_mempool *nm_variant_extbuf_pool_create(const char *name, unsigned int n,
	unsigned int cache_size, uint16_t priv_size, uint16_t data_room_size,
	int socket_id)
{
	struct rte_pktmbuf_extmem ext = { .elt_size = data_room_size };
	struct rte_mempool *mp;

	if (!data_room_size)
		return rte_pktmbuf_pool_create(name, n, cache_size, priv_size, 0, socket_id);
	ext.buf_len = RTE_ALIGN_CEIL((size_t)n * data_room_size, 4096);
	ext.buf_ptr = rte_malloc("nm_variant_extbuf", ext.buf_len, 4096);
	if (!ext.buf_ptr)
		return NULL;
	ext.buf_iova = rte_malloc_virt2iova(ext.buf_ptr);
	mp = rte_pktmbuf_pool_create_extbuf(name, n, cache_size, priv_size, data_room_size,
					    socket_id, &ext, 1);
	if (!mp) {
		rte_free(ext.buf_ptr);
		return NULL;
	}
	printf("NM-VARIANT extbuf pool %s: %u mbufs pinned to DPDK external memory\n",
	       name, n);
	fflush(stdout);
	return mp;
}
