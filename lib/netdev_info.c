/* SPDX-License-Identifier: MIT */
/* Introspection: what `queue-get` shows (cf. ynl --dump queue-get). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netmem/netdev.h>

int nm_netdev_rxq_info(struct nm_netdev *dev, uint32_t idx,
		       struct nm_rxq_info *info)
{
	struct nm_rxq *rxq;
	struct nm_page_pool *pool = NULL;

	if (idx >= dev->num_rx_queues)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&dev->lock);
	rxq = &dev->rxqs[idx];
	info->index = idx;
	info->caps = rxq->caps;
	info->running = rxq->qmem != NULL;
	info->counters = rxq->counters;
	info->buf_sizes = rxq->buf_sizes;
	info->buf_size = rxq->mp.ops ? rxq->mp.buf_size : rxq->buf_sizes.dflt;
	if (rxq->mp.ops) {
		snprintf(info->provider, sizeof(info->provider), "%s", rxq->mp.ops->name);
		if (rxq->mp.ops->describe)
			rxq->mp.ops->describe(rxq->mp.priv, info->provider_desc,
					      sizeof(info->provider_desc));
	} else {
		snprintf(info->provider, sizeof(info->provider), "host");
		snprintf(info->provider_desc, sizeof(info->provider_desc),
			 "driver default memory");
	}
	if (rxq->qmem && dev->qops->mem_pool)
		pool = dev->qops->mem_pool(rxq->qmem);
	if (pool) {
		info->has_pool = true;
		nm_page_pool_get_stats(pool, &info->pool);
	}
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

void nm_netdev_print_queues(struct nm_netdev *dev, FILE *out)
{
	fprintf(out, "%-6s %-5s %-31s %-8s %8s %8s %8s %7s  %s\n", "queue", "state",
		"flags", "provider", "restarts", "refused", "inflight", "bufsize",
		"provider detail");
	for (uint32_t i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq_info info;
		char caps[64], bufsz[16] = "-";

		if (nm_netdev_rxq_info(dev, i, &info))
			continue;
		if (info.buf_size)
			snprintf(bufsz, sizeof(bufsz), "%u", info.buf_size);
		fprintf(out, "%-6u %-5s %-31s %-8s %8llu %8llu %8llu %7s  %s\n", i,
			info.running ? "up" : "down",
			nm_rxq_caps_str(info.caps, caps, sizeof(caps)),
			info.provider,
			(unsigned long long)info.counters.restarts,
			(unsigned long long)info.counters.refused,
			(unsigned long long)info.pool.in_flight, bufsz,
			info.provider_desc);
	}
}
