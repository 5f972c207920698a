/* SPDX-License-Identifier: MIT */
/*
 * Telemetry: the netmem view of a DPDK process (our `queue-get`).
 *
 *   /netmem/ports              every ethdev port and whether it is mirrored
 *   /netmem/queues,PORT        one entry per RX queue, as parallel arrays
 *                              (DPDK 22.11 telemetry nests arrays of plain
 *                              values only): flags, provider, binding, state
 *   /netmem/dmabuf_pools       names of the "dmabuf" mempools
 *   /netmem/dmabuf_pool,NAME   one pool: where its dmabuf came from, binding,
 *                              buffers, devices it is DMA-mapped for
 *
 * Try: dpdk-telemetry.py, then /netmem/queues,0
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include <netmem/netdev.h>
#include <netmem/rxq_caps.h>

#include "internal.h"

/* 23.03 named the unsigned adders *_uint (25.11 has no *_u64 any more). */
#if RTE_VERSION < RTE_VERSION_NUM(23, 3, 0, 0)
#define rte_tel_data_add_dict_uint rte_tel_data_add_dict_u64
#define rte_tel_data_add_array_uint rte_tel_data_add_array_u64
#define RTE_TEL_UINT_VAL RTE_TEL_U64_VAL
#endif

static int parse_port(const char *params, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!params || !*params)
		return -EINVAL;
	v = strtoul(params, &end, 0);
	if (*end || v >= RTE_MAX_ETHPORTS)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *ids, *mirrored;
	uint16_t port;

	(void)cmd;
	(void)params;
	ids = rte_tel_data_alloc();
	mirrored = rte_tel_data_alloc();
	if (!ids || !mirrored) {
		rte_tel_data_free(ids);
		rte_tel_data_free(mirrored);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_start_array(ids, RTE_TEL_INT_VAL);
	rte_tel_data_start_array(mirrored, RTE_TEL_INT_VAL);
	pthread_mutex_lock(&nm_dpdk_lock);
	RTE_ETH_FOREACH_DEV(port) {
		rte_tel_data_add_array_int(ids, port);
		if (nm_dpdk_port_mirrored_locked(port))
			rte_tel_data_add_array_int(mirrored, port);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	rte_tel_data_add_dict_container(d, "ports", ids, 0);
	rte_tel_data_add_dict_container(d, "mirrored", mirrored, 0);
	return 0;
}

enum { COL_QUEUE, COL_FLAGS, COL_STATE, COL_PROVIDER, COL_BOUND, COL_RESTARTS,
       COL_REFUSED, COL_ROLLBACKS, COL_BUF_SIZE, NCOLS };
static const char *const col_names[NCOLS] = {
	"queue", "flags", "state", "provider", "bound_to", "restarts", "refused",
	"rollbacks", "buf_size",
};

static int tel_queues(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *col[NCOLS] = { 0 };
	struct nm_err err = { 0 };
	struct nm_netdev *nd;
	uint16_t port;
	int ret = 0;

	(void)cmd;
	if (parse_port(params, &port))
		return -EINVAL;
	for (int c = 0; c < NCOLS; c++) {
		col[c] = rte_tel_data_alloc();
		if (!col[c]) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	rte_tel_data_start_array(col[COL_QUEUE], RTE_TEL_INT_VAL);
	for (int c = COL_FLAGS; c <= COL_BOUND; c++)
		rte_tel_data_start_array(col[c], RTE_TEL_STRING_VAL);
	for (int c = COL_RESTARTS; c < NCOLS; c++)
		rte_tel_data_start_array(col[c], RTE_TEL_UINT_VAL);

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "port", port);
	pthread_mutex_lock(&nm_dpdk_lock);
	nd = nm_dpdk_port_netdev_locked(port, &err);
	if (!nd) {
		pthread_mutex_unlock(&nm_dpdk_lock);
		rte_tel_data_add_dict_string(d, "error", err.msg);
		goto fail;
	}
	rte_tel_data_add_dict_string(d, "name", nd->name);
	for (uint32_t q = 0; q < nd->num_rx_queues; q++) {
		struct nm_rxq_info info;
		char flags[64];

		if (nm_netdev_rxq_info(nd, q, &info))
			continue;
		rte_tel_data_add_array_int(col[COL_QUEUE], (int)q);
		rte_tel_data_add_array_string(col[COL_FLAGS],
					      nm_rxq_caps_str(info.caps, flags, sizeof(flags)));
		rte_tel_data_add_array_string(col[COL_STATE], info.running ? "up" : "down");
		rte_tel_data_add_array_string(col[COL_PROVIDER], info.provider);
		/* Telemetry array strings hold RTE_TEL_MAX_STRING_LEN bytes. */
		info.provider_desc[RTE_TEL_MAX_STRING_LEN - 1] = '\0';
		rte_tel_data_add_array_string(col[COL_BOUND], info.provider_desc);
		rte_tel_data_add_array_uint(col[COL_RESTARTS], info.counters.restarts);
		rte_tel_data_add_array_uint(col[COL_REFUSED], info.counters.refused);
		rte_tel_data_add_array_uint(col[COL_ROLLBACKS], info.counters.rollbacks);
		/* Bytes per payload buffer in effect; 0: not stated. */
		rte_tel_data_add_array_uint(col[COL_BUF_SIZE], info.buf_size);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	for (int c = 0; c < NCOLS; c++)
		rte_tel_data_add_dict_container(d, col_names[c], col[c], 0);
	return 0;
fail:
	for (int c = 0; c < NCOLS; c++)
		rte_tel_data_free(col[c]);
	return ret;
}

static int tel_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct nm_dpdk_pool *p;

	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(p, &nm_dpdk_pools, next)
		if (p->ready)
			rte_tel_data_add_array_string(d, p->name);
	pthread_mutex_unlock(&nm_dpdk_lock);
	return 0;
}

static int tel_pool(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct nm_dpdk_pool_info info;
	struct nm_dpdk_pool *p;
	bool found = false;

	(void)cmd;
	if (!params || !*params)
		return -EINVAL;
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(p, &nm_dpdk_pools, next) {
		if (p->ready && !strcmp(p->name, params)) {
			nm_dpdk_pool_fill_info(p, &info);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	if (!found)
		return -ENOENT;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", params);
	rte_tel_data_add_dict_string(d, "source", info.source);
	rte_tel_data_add_dict_string(d, "exporter", info.exporter);
	rte_tel_data_add_dict_int(d, "emulated", info.emulated);
	rte_tel_data_add_dict_int(d, "readable", info.readable);
	rte_tel_data_add_dict_string(d, "layout", info.inline_mbufs ? "inline" : "pinned");
	rte_tel_data_add_dict_int(d, "orphaned", info.orphaned);
	rte_tel_data_add_dict_int(d, "binding", (int)info.binding_id);
	rte_tel_data_add_dict_uint(d, "dmabuf_size", info.dmabuf_size);
	rte_tel_data_add_dict_uint(d, "iova", info.iova);
	rte_tel_data_add_dict_uint(d, "buf_size", info.buf_size);
	rte_tel_data_add_dict_uint(d, "num_bufs", info.num_bufs);
	rte_tel_data_add_dict_uint(d, "num_mbufs", info.num_objs);
	rte_tel_data_add_dict_uint(d, "free_bufs", info.free_bufs);
	rte_tel_data_add_dict_uint(d, "mapped_devices", info.mapped_devices);
	return 0;
}

/* Pools on the dmabuf ops that kept host memory, and why (parallel arrays:
 * 22.11 telemetry nests only plain arrays). */
static int tel_host_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *names = rte_tel_data_alloc(), *why = rte_tel_data_alloc();
	struct rte_tel_data *objs = rte_tel_data_alloc();
	struct nm_dpdk_pool *p;

	(void)cmd;
	(void)params;
	if (!names || !why || !objs) {
		rte_tel_data_free(names);
		rte_tel_data_free(why);
		rte_tel_data_free(objs);
		return -ENOMEM;
	}
	rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(why, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(objs, RTE_TEL_UINT_VAL);
	pthread_mutex_lock(&nm_dpdk_lock);
	TAILQ_FOREACH(p, &nm_dpdk_host_pools, next) {
		rte_tel_data_add_array_string(names, p->name);
		rte_tel_data_add_array_string(why, p->host_reason);
		rte_tel_data_add_array_uint(objs, p->mp ? p->mp->size : 0);
	}
	pthread_mutex_unlock(&nm_dpdk_lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_container(d, "name", names, 0);
	rte_tel_data_add_dict_container(d, "reason", why, 0);
	rte_tel_data_add_dict_container(d, "objects", objs, 0);
	return 0;
}

RTE_INIT(nm_dpdk_telemetry_init)
{
	rte_telemetry_register_cmd("/netmem/ports", tel_ports,
				   "ethdev ports, and those netmem mirrors. No parameters");
	rte_telemetry_register_cmd("/netmem/queues", tel_queues,
				   "RX queues of a port: flags, provider, counters. Parameter: port id");
	rte_telemetry_register_cmd("/netmem/dmabuf_pools", tel_pools,
				   "The dmabuf mempools. No parameters");
	rte_telemetry_register_cmd("/netmem/dmabuf_pool", tel_pool,
				   "One dmabuf mempool. Parameter: pool name");
	rte_telemetry_register_cmd("/netmem/host_pools", tel_host_pools,
				   "Pools on the dmabuf ops that kept host memory, and why. "
				   "No parameters");
}
