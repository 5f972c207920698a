/* SPDX-License-Identifier: MIT */
/*
 * netmem-bench's binding figures: create + unbind time against dmabuf size,
 * the descriptor area alone, and the first hand-out of every buffer of a
 * fresh binding (where the per-buffer cost the create no longer pays went).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "bench.h"

/* Host bytes per buffer: its descriptor, nothing else (the area's free list
 * is kept in the free descriptors: lib/net_iov.c). */
size_t meta_per_buf(void)
{
	return sizeof(struct nm_net_iov);
}

/*
 * The descriptor area alone (the net_iovs: what a binding create
 * spends in page faults), 4 KiB buffers: cold (the first area of that size
 * in the process) and warm (best of the next two).
 */
static void area_scaling(uint64_t max)
{
	printf("\nnet_iov descriptor area init (%zu B per 4 KiB buffer) against dmabuf size, ms "
	       "(cpu: this thread's CPU time)\n", meta_per_buf());
	printf("%-8s %-10s %9s %9s %9s %9s %9s\n", "what", "size", "cold", "cold cpu", "cpu/GiB",
	       "warm cpu", "cpu/GiB");
	for (uint64_t size = 64ull << 20; size <= max; size *= 2) {
		double gib = (double)size / (1 << 30), cold = 0, cold_cpu = 0, warm_cpu = 1e30;

		for (int r = 0; r < 3; r++) {
			struct nm_net_iov_area a;
			double t0 = now_ns(), c0 = cpu_ns(), c;

			if (nm_net_iov_area_init(&a, (uint32_t)(size >> 12), 4096, 0, 0, NULL,
						 false, NULL))
				return;
			c = (cpu_ns() - c0) / 1e6;
			if (!r) {
				cold = (now_ns() - t0) / 1e6;
				cold_cpu = c;
			} else {
				warm_cpu = min_d(warm_cpu, c);
			}
			nm_net_iov_area_fini(&a);
		}
		printf("%-8s %6llu MiB %9.2f %9.2f %9.2f %9.2f %9.2f\n", "area",
		       (unsigned long long)(size >> 20), cold, cold_cpu, cold_cpu / gib, warm_cpu,
		       warm_cpu / gib);
	}
}

/*
 * Binding create (import, pin, DMA-map, descriptors) + unbind against size,
 * for each source kind in @sources ("memfd,udmabuf,heap,vgem"). With
 * @vfio_group >= 0 the domain is a VFIO type1 container (in the guest), else
 * the software NIC's identity domain.
 */
int bind_scaling(uint64_t max, const char *sources, int vfio_group)
{
	struct nm_sim_params sp = { .num_rx_queues = 1, .ring_size = 16 };
	struct nm_sim *sim = NULL;
	struct nm_dma_domain *dom;
	struct nm_netdev *dev = NULL;
	struct nm_err err = { 0 };
	char list[128], *save = NULL;
	int failed = 0;

	if (vfio_group >= 0) {
		/* A binding needs the domain only, no device. */
		if (nm_dma_domain_vfio_create(vfio_group, &dom, &err)) {
			fprintf(stderr, "netmem-bench: %s\n", err.msg);
			return -1;
		}
	} else {
		if (nm_sim_create(&sp, &sim, &err)) {
			fprintf(stderr, "netmem-bench: %s\n", err.msg);
			return -1;
		}
		dev = nm_sim_netdev(sim);
		dom = dev->dma;
	}
	printf("\nbinding create against dmabuf size, DMA domain %s: cold (the first "
	       "create of that size in this process) and warm (best of the next two); "
	       "bind + unbind apart\n", dom->ops->kind);
	printf("(ms; cpu: this thread's CPU time, page faults included, the other jobs' turns not;\n"
	       " vs touch: cold cpu over what this process's first touch of the exporter's memory\n"
	       " (its memset) cost for as many bytes as the descriptors take, same run)\n");
	printf("%-8s %-10s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n", "source", "size", "cold",
	       "cold cpu", "cpu/GiB", "warm", "warm cpu", "cpu/GiB", "bind+unb", "vs first",
	       "vs touch");
	snprintf(list, sizeof(list), "%s", sources);
	for (char *kind = strtok_r(list, ",", &save); kind; kind = strtok_r(NULL, ",", &save)) {
		double first_per_gib = 0;

		for (uint64_t size = 64ull << 20; size <= max; size *= 2) {
			double gib = (double)size / (1 << 30);
			double cold = 0, warm = 1e30, bu = 1e30, cold_cpu = 0, warm_cpu = 1e30;
			double touch_per_byte = 0, meta;
			char spec[64];
			int r;

			snprintf(spec, sizeof(spec), "%s:%llu", kind, (unsigned long long)size);
			/* Each a fresh buffer, touched once first, so the figure is
			 * the binding, not the exporter's first fault. */
			for (r = 0; r < 3; r++) {
				struct nm_dmabuf *buf;
				struct nm_dmabuf_binding *b;
				void *cpu;
				double t0, t1, c0, create, ccpu;

				if (nm_dmabuf_open_spec(spec, &buf, &err)) {
					fprintf(stderr, "netmem-bench: %s\n", err.msg);
					break;
				}
				c0 = cpu_ns();
				if (!nm_dmabuf_cpu_map(buf, &cpu, &err))
					memset(cpu, 0, buf->size);
				if (!r)
					touch_per_byte = (cpu_ns() - c0) / 1e6 / (double)buf->size;
				c0 = cpu_ns();
				t0 = now_ns();
				if (nm_dmabuf_binding_create(dom, buf, NULL, &b, &err)) {
					fprintf(stderr, "netmem-bench: %s: %s\n", spec, err.msg);
					nm_dmabuf_put(buf);
					break;
				}
				t1 = now_ns();
				ccpu = (cpu_ns() - c0) / 1e6;
				if (sim && nm_dmabuf_binding_bind_rxq(b, dev, 0, &err))
					fprintf(stderr, "netmem-bench: %s\n", err.msg);
				nm_dmabuf_binding_unbind(b);
				create = (t1 - t0) / 1e6;
				if ((now_ns() - t1) / 1e6 < bu)
					bu = (now_ns() - t1) / 1e6;
				/* The memfd/bridge mapping goes with the buffer. */
				nm_dmabuf_put(buf);
				if (!r) {
					cold = create;
					cold_cpu = ccpu;
				} else {
					warm = min_d(warm, create);
					warm_cpu = min_d(warm_cpu, ccpu);
				}
			}
			if (r < 3) {
				failed = 1;  /* said why above; the exit status says so too */
				break;
			}
			if (!first_per_gib)
				first_per_gib = cold_cpu / gib;
			/* The descriptors' bytes: a net_iov per buffer. */
			meta = (double)(size / NM_BINDING_DEFAULT_BUF_SIZE) * (double)meta_per_buf();
			printf("%-8s %6llu MiB %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %8.2f %8.2f\n",
			       kind, (unsigned long long)(size >> 20), cold, cold_cpu, cold_cpu / gib,
			       warm, warm_cpu, warm_cpu / gib, bu, cold_cpu / gib / first_per_gib,
			       touch_per_byte > 0 ? cold_cpu / (touch_per_byte * meta) : 0);
			fflush(stdout);
		}
	}
	area_scaling(max);
	if (sim)
		nm_sim_destroy(sim);
	else
		nm_dma_domain_put(dom);
	return failed ? -1 : 0;
}

/*
 * First use of a fresh binding: descriptors are written when a buffer is
 * first handed out, not at create, so this is where a binding's per-buffer
 * cost now lies. For each size, a new memfd dmabuf (its memory untouched),
 * a binding on the software NIC's identity domain, every buffer handed out
 * once (first), all put back and handed out again (warm).
 */
int first_use(uint64_t max)
{
	struct nm_sim_params sp = { .num_rx_queues = 1, .ring_size = 16 };
	struct nm_sim *sim;
	struct nm_err err = { 0 };
	int failed = 0;

	if (nm_sim_create(&sp, &sim, &err)) {
		fprintf(stderr, "netmem-bench: %s\n", err.msg);
		return -1;
	}
	printf("\nfirst use: every buffer of a fresh binding handed out once (first) and again "
	       "(warm), memfd, %u B buffers, identity domain\n(ms; cpu: this thread's CPU "
	       "time, page faults of the descriptors included; ns/buf: of the CPU time)\n",
	       NM_BINDING_DEFAULT_BUF_SIZE);
	printf("%-8s %-10s %9s %9s %9s %9s %9s %9s %9s %9s\n", "what", "size", "buffers",
	       "first", "first cpu", "ns/buf", "cpu/GiB", "warm", "warm cpu", "ns/buf");
	for (uint64_t size = 64ull << 20; size <= max; size *= 2) {
		struct nm_dmabuf *buf;
		struct nm_dmabuf_binding *b;
		nm_netmem_ref *refs;
		double t0, c0, first, first_cpu, warm, warm_cpu;
		unsigned int n, got;

		if (nm_dmabuf_create_memfd(size, &buf, &err)) {
			fprintf(stderr, "netmem-bench: %s\n", err.msg);
			failed = 1;
			break;
		}
		if (nm_dmabuf_binding_create(nm_sim_netdev(sim)->dma, buf, NULL, &b, &err)) {
			fprintf(stderr, "netmem-bench: %s\n", err.msg);
			nm_dmabuf_put(buf);
			failed = 1;
			break;
		}
		n = b->area.num_niovs;
		refs = malloc((size_t)n * sizeof(*refs));
		if (!refs) {
			nm_dmabuf_binding_unbind(b);
			nm_dmabuf_put(buf);
			failed = 1;
			break;
		}
		c0 = cpu_ns();
		t0 = now_ns();
		got = nm_net_iov_area_alloc(&b->area, refs, n);
		first = (now_ns() - t0) / 1e6;
		first_cpu = (cpu_ns() - c0) / 1e6;
		nm_net_iov_area_free(&b->area, refs, got);
		c0 = cpu_ns();
		t0 = now_ns();
		got = nm_net_iov_area_alloc(&b->area, refs, n);
		warm = (now_ns() - t0) / 1e6;
		warm_cpu = (cpu_ns() - c0) / 1e6;
		nm_net_iov_area_free(&b->area, refs, got);
		free(refs);
		nm_dmabuf_binding_unbind(b);
		nm_dmabuf_put(buf);
		if (got != n) {
			fprintf(stderr, "netmem-bench: %u of %u buffers handed out\n", got, n);
			failed = 1;
			break;
		}
		printf("%-8s %6llu MiB %9u %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n",
		       "hand-out", (unsigned long long)(size >> 20), n, first, first_cpu,
		       first_cpu * 1e6 / n, first_cpu / ((double)size / (1 << 30)), warm,
		       warm_cpu, warm_cpu * 1e6 / n);
		fflush(stdout);
	}
	nm_sim_destroy(sim);
	return failed ? -1 : 0;
}
