/* SPDX-License-Identifier: MIT */
/*
 * Guest checks of the kernel's own devmem path on the module's virtual NIC:
 * netlink bind-rx (the kernel's net_devmem_bind_dmabuf() and
 * netdev_rx_queue_restart()) driving our driver's queue ops, the kernel's
 * mp_dmabuf_devmem provider behind a kernel page_pool, and what Linux 6.12
 * does with queues that lack a flag.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#define MiB (1024.0 * 1024.0)

static bool pool_on_dmabuf(struct devmem_nl *nl, uint32_t ifindex, uint32_t id,
			   int *npools)
{
	struct devmem_pool pools[64];
	int n = devmem_nl_pools(nl, ifindex, pools, 64);

	*npools = n;
	for (int i = 0; i < n; i++)
		if (id ? pools[i].dmabuf == id : pools[i].dmabuf != 0)
			return true;
	return false;
}

/* A bind-rx the kernel should refuse, or (6.12, no header split) accept. */
struct kernel_bind {
	uint32_t queue;
	int err;
	uint64_t mem_alloc, stop, start, mem_free;
	const char *why;
};

static const struct kernel_bind kernel_binds[] = {
	{ 2, -ENODATA, 1, 0, 0, 1,
	  "6.12 checks after mem_alloc: the driver built a host pool, freed again" },
	{ 3, -EOPNOTSUPP, 1, 1, 0, 1,
	  "devmem pool built, then our driver could not stop the queue" },
	{ 4, -EOPNOTSUPP, 1, 0, 0, 0,
	  "6.12 checks nothing about header split; our driver's mem_alloc refuses" },
};

int check_devmem(struct kdev *kd, struct tap *t, const struct kctl_opts *o)
{
	uint32_t ifindex = kd->info.ifindex, id = 0, id2 = 0, qid = 0;
	uint64_t nbufs = o->size / kd->info.page_size;
	struct devmem_nl nl, nl2;
	struct nmk_queue qa, qb;
	struct nmk_rxq_counters d;
	struct nmk_bench bench = { .op = NMK_BENCH_ALLOC_ALL, .queue = 0, .rounds = 2,
				   .count = (uint32_t)nbufs + 64 };
	struct nmk_bind ours = { 0 };
	char caps[48];
	long refcnt0, refcnt;
	int fd, ret, npools = 0;
	bool found;
	double t0;

	ret = devmem_nl_open(&nl);
	if (!tap_ok(t, !ret, "netdev generic netlink family: %s",
		    ret ? strerror(-ret) : "resolved"))
		return -1;
	fd = udmabuf_create(o->size, NULL);
	if (!tap_ok(t, fd >= 0, "udmabuf of %.0f MiB: %s", o->size / MiB,
		    fd >= 0 ? "created" : strerror(-fd)))
		return -1;

	refcnt0 = module_refcnt();
	kdev_queue(kd, 0, &qa);
	t0 = now_us();
	ret = devmem_nl_bind_rx(&nl, ifindex, fd, 0, &id);
	if (!tap_ok(t, !ret && id, "kernel bind-rx of the udmabuf to %s rx queue 0: %s, dmabuf id %u (%.0f us)",
		    kd->info.ifname, ret ? strerror(-ret) : "ok", id, now_us() - t0)) {
		tap_note(t, "kernel said: %s", nl.ext_msg);
		return -1;
	}
	kdev_queue(kd, 0, &qb);
	d = counters_delta(&qa.counters, &qb.counters);
	tap_ok(t, qb.provider == NMK_PROVIDER_KERNEL_DEVMEM && qb.kernel_bound,
	       "queue 0 runs on %s: %s", provider_str(qb.provider), qb.provider_desc);
	tap_ok(t, d.cb_mem_alloc == 1 && d.cb_stop == 1 && d.cb_start == 1 &&
		  d.cb_mem_free == 1 && !d.restarts,
	       "the kernel's netdev_rx_queue_restart() ran our driver's queue ops: %llu mem_alloc, %llu stop, %llu start, %llu mem_free",
	       (unsigned long long)d.cb_mem_alloc, (unsigned long long)d.cb_stop,
	       (unsigned long long)d.cb_start, (unsigned long long)d.cb_mem_free);
	ret = devmem_nl_queue_dmabuf(&nl, ifindex, 0, &qid);
	tap_ok(t, !ret && qid == id, "netlink queue-get: rx queue 0 has dmabuf %u", qid);
	found = pool_on_dmabuf(&nl, ifindex, id, &npools);
	tap_ok(t, found,
	       "netlink page-pool-get: one of the %d pools of ifindex %u runs on dmabuf %u",
	       npools, ifindex, id);
	refcnt = module_refcnt();
	tap_ok(t, refcnt == refcnt0 + 1,
	       "module pinned while the kernel's binding lives in our queue's pool (refcnt %ld -> %ld)",
	       refcnt0, refcnt);

	ret = kdev_bench(kd, &bench);
	tap_ok(t, !ret && bench.first_round + bench.ring_fill == nbufs &&
		  bench.allocated == 2 * bench.first_round,
	       "every chunk of the kernel's binding allocated through its page_pool, twice: %llu + %llu in the ring = %llu%s%s",
	       (unsigned long long)bench.first_round, (unsigned long long)bench.ring_fill,
	       (unsigned long long)nbufs, ret ? ": " : "", ret ? bench.reason : "");
	tap_ok(t, !ret && !bench.bad,
	       "each a net_iov with refcount 1 owned by the pool (%llu checked, %llu bad)",
	       (unsigned long long)bench.allocated, (unsigned long long)bench.bad);

	ret = devmem_nl_open(&nl2);
	tap_ok(t, !ret, "a second netlink socket");
	ret = devmem_nl_bind_rx(&nl2, ifindex, fd, 0, &id2);
	tap_ok(t, ret == -EEXIST, "second bind-rx on queue 0: %s (want EEXIST): %s",
	       ret ? strerrorname_np(-ret) : "success", nl2.ext_msg);
	ours.dmabuf_fd = fd;
	ret = kdev_bind(kd, &ours);
	tap_ok(t, ret == -EBUSY, "kmod bind on the kernel-bound queue 0: %s (want EBUSY): %s",
	       ret ? strerrorname_np(-ret) : "success", ours.reason);

	printf("# %-5s %-31s %-12s %9s %8s  %s\n", "queue", "flags", "bind-rx", "callbacks",
	       "buffers", "what happened");
	for (size_t i = 0; i < sizeof(kernel_binds) / sizeof(kernel_binds[0]); i++) {
		const struct kernel_bind *k = &kernel_binds[i];

		kdev_queue(kd, k->queue, &qa);
		ret = devmem_nl_bind_rx(&nl2, ifindex, fd, k->queue, &id2);
		kdev_queue(kd, k->queue, &qb);
		d = counters_delta(&qa.counters, &qb.counters);
		printf("# %-5u %-31s %-12s %9llu %8llu  %s\n", k->queue,
		       caps_str(qa.caps, caps, sizeof(caps)),
		       ret ? strerrorname_np(-ret) : "bound", (unsigned long long)callbacks(&d),
		       (unsigned long long)d.bufs_posted, k->why);
		tap_ok(t, ret == k->err && d.cb_mem_alloc == k->mem_alloc &&
			  d.cb_stop == k->stop && d.cb_start == k->start &&
			  d.cb_mem_free == k->mem_free,
		       "kernel bind-rx on queue %u (%s): %s, %llu mem_alloc / %llu stop / %llu start / %llu mem_free, %llu buffers posted%s%s",
		       k->queue, caps, ret ? strerror(-ret) : "bound",
		       (unsigned long long)d.cb_mem_alloc, (unsigned long long)d.cb_stop,
		       (unsigned long long)d.cb_start, (unsigned long long)d.cb_mem_free,
		       (unsigned long long)d.bufs_posted, ret ? ": " : "",
		       ret ? (nl2.ext_msg[0] ? nl2.ext_msg : "(the kernel gave no message)") : "");
	}
	devmem_nl_close(&nl2);
	kdev_queue(kd, 4, &qb);
	tap_ok(t, qb.provider == NMK_PROVIDER_HOST && !qb.kernel_bound,
	       "closing the second socket unbound queue 4: back on %s", provider_str(qb.provider));

	kdev_queue(kd, 0, &qa);
	t0 = now_us();
	devmem_nl_close(&nl);
	ret = devmem_nl_open(&nl);
	kdev_queue(kd, 0, &qb);
	d = counters_delta(&qa.counters, &qb.counters);
	tap_ok(t, qb.provider == NMK_PROVIDER_HOST && !qb.kernel_bound && callbacks(&d) == 4,
	       "closing the first socket unbound queue 0 (%.0f us): back on %s after %llu callbacks",
	       now_us() - t0, provider_str(qb.provider), (unsigned long long)callbacks(&d));
	found = !ret && pool_on_dmabuf(&nl, ifindex, 0, &npools);
	tap_ok(t, !ret && !found && npools > 0,
	       "netlink page-pool-get: none of the %d pools of ifindex %u runs on a dmabuf",
	       npools, ifindex);
	kdev_info(kd);
	refcnt = module_refcnt();
	tap_ok(t, refcnt == refcnt0 && !kd->info.kernel_devmem_pools,
	       "module released (refcnt %ld), %llu kernel devmem pools on our queues",
	       refcnt, (unsigned long long)kd->info.kernel_devmem_pools);
	devmem_nl_close(&nl);
	close(fd);
	return 0;
}
