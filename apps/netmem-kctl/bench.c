/* SPDX-License-Identifier: MIT */
/*
 * The comparison figures, kmod provider vs the kernel's own devmem, on the
 * same udmabuf, the same virtual NIC, the same driver callbacks:
 *   bind / unbind latency (timed here, around the ioctl or the netlink
 *   request; the kernel's unbind is the close of its netlink socket),
 *   alloc / put cost per buffer (in-kernel loops: taking every buffer, and
 *   the recycle fast path), restarts and callbacks per refused bind,
 *   metadata bytes per buffer (computed and measured).
 * Output: one line per figure, "csv,metric,impl,value,unit,note".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#define MiB (1024.0 * 1024.0)

static void row(const char *metric, const char *impl, double value,
		const char *unit, const char *note)
{
	printf("csv,%s,%s,%.4g,%s,%s\n", metric, impl, value, unit, note);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Host pages queue 0's pool holds now (what a bind will give back). */
static uint64_t host_pages_held(struct kdev *kd)
{
	struct nmk_queue q;

	kdev_queue(kd, 0, &q);
	return q.provider == NMK_PROVIDER_HOST ? q.pool_hold - q.pool_release : 0;
}

/* MemFree consumed by a bind, net of the host pages it frees. */
static double mem_used(struct kdev *kd, uint64_t before, uint64_t held)
{
	uint64_t after = mem_free_bytes();

	return (double)before - (double)after + (double)held * kd->info.page_size;
}

#define ALLOC_REPS 3

/* Per-buffer figures of ALLOC_REPS fresh bind + alloc-all + recycle runs. */
struct alloc_figs {
	double alloc[ALLOC_REPS], put[ALLOC_REPS], rec_alloc[ALLOC_REPS], rec_put[ALLOC_REPS];
	uint64_t bufs;
};

static void alloc_figs_add(struct alloc_figs *f, unsigned int r, const struct nmk_bench *all,
			   const struct nmk_bench *rec)
{
	f->alloc[r] = (double)all->ns_alloc_first / all->first_round;
	f->put[r] = (double)all->ns_put_first / all->first_round;
	f->rec_alloc[r] = (double)rec->ns_alloc / rec->allocated;
	f->rec_put[r] = (double)rec->ns_put / rec->allocated;
	f->bufs = all->first_round;
}

static void emit_alloc(const char *impl, uint32_t pool_size, struct alloc_figs *f)
{
	char note[160];

	snprintf(note, sizeof(note), "%llu buffers; a fresh binding: every buffer from the provider; median of %d",
		 (unsigned long long)f->bufs, ALLOC_REPS);
	row("alloc_all_ns", impl, median(f->alloc, ALLOC_REPS), "ns/buffer", note);
	snprintf(note, sizeof(note), "remote puts: the first %u fill the recycle ring, the rest go back to the provider",
		 pool_size);
	row("put_all_ns", impl, median(f->put, ALLOC_REPS), "ns/buffer", note);
	row("alloc_recycle_ns", impl, median(f->rec_alloc, ALLOC_REPS), "ns/buffer",
	    "64 at a time from the pool's cache");
	row("put_recycle_ns", impl, median(f->rec_put, ALLOC_REPS), "ns/buffer",
	    "direct puts into the cache");
}

static int bench_kmod(struct kdev *kd, int fd, const struct kctl_opts *o)
{
	double bind[64], unbind[64], inkernel[64], used[64];
	struct nmk_bind b;
	struct nmk_unbind u;
	struct nmk_bench all = { .op = NMK_BENCH_ALLOC_ALL, .rounds = 1 };
	struct nmk_bench rec = { .op = NMK_BENCH_RECYCLE, .count = 64, .rounds = 20000 };
	struct alloc_figs figs;
	uint32_t n = 0;
	int ret;

	for (unsigned int r = 0; r < o->reps; r++) {
		uint64_t held = host_pages_held(kd), before = mem_free_bytes();
		double t0, t1;

		memset(&b, 0, sizeof(b));
		b.dmabuf_fd = fd;
		b.buf_size = o->buf_size;
		t0 = now_us();
		ret = kdev_bind(kd, &b);
		t1 = now_us();
		if (ret) {
			fprintf(stderr, "kmod bind: %s: %s\n", strerror(-ret), b.reason);
			return ret;
		}
		used[r] = mem_used(kd, before, held);
		bind[r] = t1 - t0;
		inkernel[r] = b.elapsed_ns / 1e3;
		n = b.num_bufs;
		u = (struct nmk_unbind){ .id = b.id };
		t0 = now_us();
		ret = kdev_unbind(kd, &u);
		unbind[r] = now_us() - t0;
		if (ret)
			return ret;
	}
	row("bind_us", "kmod", median(bind, o->reps), "us", "ioctl BIND: import + map + restart");
	row("bind_in_kernel_us", "kmod", median(inkernel, o->reps), "us", "inside the ioctl");
	row("unbind_us", "kmod", median(unbind, o->reps), "us", "ioctl UNBIND: restart + release");
	row("meta_bytes_est", "kmod", (double)b.metadata_bytes / n, "bytes/buffer",
	    "allocations of the binding, as made");
	row("meta_bytes_est", "kernel", (double)b.kernel_metadata_bytes / n, "bytes/buffer",
	    "6.12 net_devmem_bind_dmabuf() pattern on the same mapping (lower bound)");
	row("meta_bytes_measured", "kmod", median(used, o->reps) / n, "bytes/buffer",
	    "free memory (MemFree + per-cpu lists) drop across the bind, net of host pages freed");
	row("net_iov_bytes", "kmod", kd->info.sizeof_net_iov, "bytes", "descriptor");
	row("net_iov_bytes", "kernel", kd->info.sizeof_kernel_net_iov, "bytes", "struct net_iov");
	row("dma_segments", "kmod", b.sg_nents, "segments", "of the udmabuf mapping");

	for (unsigned int r = 0; r < ALLOC_REPS; r++) {
		memset(&b, 0, sizeof(b));
		b.dmabuf_fd = fd;
		b.buf_size = o->buf_size;
		ret = kdev_bind(kd, &b);
		if (ret)
			return ret;
		ret = kdev_bench(kd, &all);
		if (!ret)
			ret = kdev_bench(kd, &rec);
		u = (struct nmk_unbind){ .id = b.id };
		kdev_unbind(kd, &u);
		if (ret) {
			fprintf(stderr, "kmod bench: %s: %s%s\n", strerror(-ret), all.reason,
				rec.reason);
			return ret;
		}
		alloc_figs_add(&figs, r, &all, &rec);
	}
	emit_alloc("kmod", kd->info.pool_size, &figs);
	return 0;
}

static int bench_kernel(struct kdev *kd, int fd, const struct kctl_opts *o)
{
	double bind[64], unbind[64], used[64];
	uint64_t nbufs = o->size / kd->info.page_size;
	struct nmk_bench all = { .op = NMK_BENCH_ALLOC_ALL, .rounds = 1,
				 .count = (uint32_t)nbufs + 64 };
	struct nmk_bench rec = { .op = NMK_BENCH_RECYCLE, .count = 64, .rounds = 20000 };
	struct alloc_figs figs;
	struct devmem_nl nl;
	uint32_t id;
	int ret;

	for (unsigned int r = 0; r < o->reps; r++) {
		uint64_t held, before;
		double t0, t1;

		ret = devmem_nl_open(&nl);
		if (ret)
			return ret;
		held = host_pages_held(kd);
		before = mem_free_bytes();
		t0 = now_us();
		ret = devmem_nl_bind_rx(&nl, kd->info.ifindex, fd, 0, &id);
		t1 = now_us();
		if (ret) {
			fprintf(stderr, "kernel bind-rx: %s: %s\n", strerror(-ret), nl.ext_msg);
			devmem_nl_close(&nl);
			return ret;
		}
		used[r] = mem_used(kd, before, held);
		bind[r] = t1 - t0;
		t0 = now_us();
		devmem_nl_close(&nl);
		unbind[r] = now_us() - t0;
	}
	row("bind_us", "kernel", median(bind, o->reps), "us", "netlink bind-rx request to ack");
	row("unbind_us", "kernel", median(unbind, o->reps), "us", "close() of the netlink socket");
	row("meta_bytes_measured", "kernel", median(used, o->reps) / nbufs, "bytes/buffer",
	    "free memory (MemFree + per-cpu lists) drop across the bind, net of host pages freed");

	for (unsigned int r = 0; r < ALLOC_REPS; r++) {
		ret = devmem_nl_open(&nl);
		if (!ret)
			ret = devmem_nl_bind_rx(&nl, kd->info.ifindex, fd, 0, &id);
		if (!ret)
			ret = kdev_bench(kd, &all);
		if (!ret)
			ret = kdev_bench(kd, &rec);
		devmem_nl_close(&nl);
		if (ret) {
			fprintf(stderr, "kernel bench: %s: %s%s%s\n", strerror(-ret), nl.ext_msg,
				all.reason, rec.reason);
			return ret;
		}
		alloc_figs_add(&figs, r, &all, &rec);
	}
	emit_alloc("kernel", kd->info.pool_size, &figs);
	return 0;
}

/* Restarts and callbacks a refused bind costs on queue 2 (no unreadable). */
static int bench_refused(struct kdev *kd, int fd)
{
	struct nmk_rxq_counters d;
	struct nmk_queue qa, qb;
	struct devmem_nl nl;
	uint32_t id;
	int ret;

	for (uint32_t c = 0; c <= NMK_CHECK_MAX; c++) {
		struct nmk_bind b = { .dmabuf_fd = fd, .queue = 2, .check = c };
		char metric[64];

		kdev_queue(kd, 2, &qa);
		ret = kdev_bind(kd, &b);
		kdev_queue(kd, 2, &qb);
		if (!ret)
			return -EPROTO;    /* queue 2 must not take it */
		d = counters_delta(&qa.counters, &qb.counters);
		snprintf(metric, sizeof(metric), "refused_restarts_%s", check_str(c));
		row(metric, "kmod", (double)d.restarts, "restarts", b.reason);
		snprintf(metric, sizeof(metric), "refused_callbacks_%s", check_str(c));
		row(metric, "kmod", (double)callbacks(&d), "callbacks", "mem_alloc+stop+start+mem_free");
		snprintf(metric, sizeof(metric), "refused_buffers_%s", check_str(c));
		row(metric, "kmod", (double)d.bufs_posted, "buffers", "posted in vain");
	}
	ret = devmem_nl_open(&nl);
	if (ret)
		return ret;
	kdev_queue(kd, 2, &qa);
	ret = devmem_nl_bind_rx(&nl, kd->info.ifindex, fd, 2, &id);
	kdev_queue(kd, 2, &qb);
	devmem_nl_close(&nl);
	if (!ret)
		return -EPROTO;
	d = counters_delta(&qa.counters, &qb.counters);
	row("refused_restarts_bind-rx", "kernel", (double)(d.cb_stop < d.cb_start ? d.cb_stop : d.cb_start),
	    "restarts", nl.ext_msg[0] ? nl.ext_msg : strerror(-ret));
	row("refused_callbacks_bind-rx", "kernel", (double)callbacks(&d), "callbacks",
	    "mem_alloc+stop+start+mem_free");
	row("refused_buffers_bind-rx", "kernel", (double)d.bufs_posted, "buffers", "posted in vain");
	return 0;
}

int kctl_bench(const struct kctl_opts *o)
{
	struct tap t = { .name = "bench" };
	struct kdev kd;
	int fd, ret;

	if (o->reps > 64 || !o->reps) {
		fprintf(stderr, "netmem-kctl: --reps takes 1 to 64\n");
		return 2;
	}
	ret = kctl_setup(&kd, &t);
	if (ret)
		return ret == -ENOENT ? 77 : 1;
	fd = udmabuf_create(o->size, NULL);
	if (fd < 0) {
		fprintf(stderr, "netmem-kctl: udmabuf: %s\n", strerror(-fd));
		return fd == -ENOENT ? 77 : 1;
	}
	printf("# bench: %.0f MiB udmabuf, %u-byte buffers, %u reps, ring %u, pool %u\n",
	       o->size / MiB, o->buf_size, o->reps, kd.info.ring_size, kd.info.pool_size);
	ret = bench_kmod(&kd, fd, o);
	if (!ret)
		ret = bench_kernel(&kd, fd, o);
	if (!ret)
		ret = bench_refused(&kd, fd);
	close(fd);
	kdev_close(&kd);
	if (ret)
		fprintf(stderr, "netmem-kctl: bench failed: %s\n", strerror(-ret));
	return ret ? 1 : 0;
}
