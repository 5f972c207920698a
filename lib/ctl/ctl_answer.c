/* SPDX-License-Identifier: MIT */
/* The control socket's answers: JSON documents and the queue table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netmem/ctl.h>

static void json_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, "\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		if ((unsigned char)*v >= 0x20)
			fputc(*v, out);
	}
	fputc('"', out);
}

static void json_caps(FILE *out, uint32_t caps)
{
	bool first = true;

	fprintf(out, "\"flags\":[");
	for (uint32_t bit = 1; bit & NM_RXQ_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",", nm_rxq_cap_name(bit));
		first = false;
	}
	fputc(']', out);
}

static void json_pool(FILE *out, const struct nm_page_pool_stats *p)
{
	fprintf(out, "\"pool\":{\"alloc-fast\":%llu,\"alloc-slow\":%llu,"
		"\"alloc-refill\":%llu,\"alloc-provider\":%llu,\"alloc-empty\":%llu,"
		"\"recycle-cached\":%llu,\"recycle-ring\":%llu,\"released\":%llu,"
		"\"in-flight\":%llu,\"excess-puts\":%llu}",
		(unsigned long long)p->alloc_fast, (unsigned long long)p->alloc_slow,
		(unsigned long long)p->alloc_refill, (unsigned long long)p->alloc_provider,
		(unsigned long long)p->alloc_empty, (unsigned long long)p->recycle_cached,
		(unsigned long long)p->recycle_ring, (unsigned long long)p->released,
		(unsigned long long)p->in_flight, (unsigned long long)p->excess_puts);
}

static void answer_queues(struct nm_netdev *dev, bool pools, FILE *out)
{
	fprintf(out, "\"queues\":[");
	for (uint32_t i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq_info info;

		if (nm_netdev_rxq_info(dev, i, &info))
			continue;
		fprintf(out, "%s{\"index\":%u,\"state\":\"%s\",", i ? "," : "", i,
			info.running ? "up" : "down");
		json_caps(out, info.caps);
		fputc(',', out);
		json_str(out, "provider", info.provider);
		fputc(',', out);
		json_str(out, "provider-desc", info.provider_desc);
		fprintf(out, ",\"restarts\":%llu,\"refused\":%llu,\"rollbacks\":%llu",
			(unsigned long long)info.counters.restarts,
			(unsigned long long)info.counters.refused,
			(unsigned long long)info.counters.rollbacks);
		/* The size in effect, and what the queue takes (max 0: any). */
		fprintf(out, ",\"buf-size\":%u,\"buf-sizes\":{\"min\":%u,\"max\":%u,"
			"\"step\":%u,\"default\":%u}", info.buf_size, info.buf_sizes.min,
			info.buf_sizes.max, info.buf_sizes.step, info.buf_sizes.dflt);
		if (pools && info.has_pool) {
			fputc(',', out);
			json_pool(out, &info.pool);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

static void answer_text(struct nm_netdev *const *devs, unsigned int ndevs,
			FILE *out)
{
	for (unsigned int d = 0; d < ndevs; d++) {
		fprintf(out, "%s%s: %u RX queues, %s, DMA domain %s\n", d ? "\n" : "",
			devs[d]->name, devs[d]->num_rx_queues,
			devs[d]->up ? "up" : "down", devs[d]->dma->ops->kind);
		nm_netdev_print_queues(devs[d], out);
	}
}

int nm_ctl_answer(struct nm_netdev *const *devs, unsigned int ndevs,
		  const char *request, FILE *out)
{
	bool queues = !strcmp(request, "queue-get");
	bool pools = !strcmp(request, "page-pool-get");

	if (!strcmp(request, "queue-get text")) {
		answer_text(devs, ndevs, out);
		return 0;
	}

	if (!queues && !pools && strcmp(request, "dev-get")) {
		fprintf(out, "{\"error\":\"unknown request; try dev-get, queue-get, "
			"page-pool-get, queue-get text\"}\n");
		return -EINVAL;
	}
	fprintf(out, "{\"pid\":%d,\"devices\":[", (int)getpid());
	for (unsigned int d = 0; d < ndevs; d++) {
		struct nm_netdev *dev = devs[d];

		fprintf(out, "%s{", d ? "," : "");
		json_str(out, "name", dev->name);
		fprintf(out, ",\"rx-queues\":%u,\"up\":%s,", dev->num_rx_queues,
			dev->up ? "true" : "false");
		json_str(out, "dma-domain", dev->dma->ops->kind);
		{
			struct nm_dma_domain_stats ds;

			nm_dma_domain_get_stats(dev->dma, &ds);
			fprintf(out, ",\"dma-maps\":%llu,\"dma-unmaps\":%llu,\"dma-mapped-bytes\":%llu",
				(unsigned long long)ds.maps, (unsigned long long)ds.unmaps,
				(unsigned long long)ds.mapped_bytes);
		}
		if (queues || pools) {
			fputc(',', out);
			answer_queues(dev, pools, out);
		}
		fputc('}', out);
	}
	fprintf(out, "]}\n");
	return 0;
}
