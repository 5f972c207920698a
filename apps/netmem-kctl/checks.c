/* SPDX-License-Identifier: MIT */
/*
 * Guest checks of the module's own provider: every chunk allocated and
 * freed with refcounts back to zero; refused binds counted per check mode;
 * bad input refused with errors. Each assertion says what it checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define MiB (1024.0 * 1024.0)

static bool nothing_live(struct kdev *kd, struct tap *t, const char *when)
{
	int ret = kdev_info(kd);

	return tap_ok(t, !ret && !kd->info.live_bindings && !kd->info.live_pools &&
			 !kd->info.bufs_out && !kd->info.free_errors,
		      "%s: %llu bindings, %llu kmod pools, %llu net_iovs out, %llu found not back at free (%llu bindings freed so far)",
		      when, (unsigned long long)kd->info.live_bindings,
		      (unsigned long long)kd->info.live_pools,
		      (unsigned long long)kd->info.bufs_out,
		      (unsigned long long)kd->info.free_errors,
		      (unsigned long long)kd->info.bindings_freed);
}

/* Bind @fd to @queue, allocate every chunk twice, unbind, check it is all gone. */
static void alloc_cycle(struct kdev *kd, struct tap *t, int fd, uint64_t size,
			uint32_t queue, uint32_t buf_size)
{
	struct nmk_bind b = { .dmabuf_fd = fd, .queue = queue, .buf_size = buf_size };
	struct nmk_queue qa, qb;
	struct nmk_rxq_counters d;
	struct nmk_bench bench = { .op = NMK_BENCH_ALLOC_ALL, .queue = queue, .rounds = 2 };
	struct nmk_unbind u = { 0 };
	uint64_t freed_before;
	int ret;

	kdev_info(kd);
	freed_before = kd->info.bindings_freed;
	kdev_queue(kd, queue, &qa);
	ret = kdev_bind(kd, &b);
	if (!tap_ok(t, !ret, "bind the %.0f MiB udmabuf to %s queue %u (%s, %u-byte buffers): %s%s",
		    size / MiB, kd->info.ifname, queue, check_str(b.check), buf_size,
		    ret ? strerror(-ret) : "ok", ret ? b.reason : ""))
		return;
	tap_ok(t, b.num_bufs + b.unusable == size / buf_size && b.num_bufs > 0 &&
		  (buf_size > kd->info.page_size || !b.unusable),
	       "binding %u cut into %u buffers + %u unusable (straddling a DMA discontinuity) = %llu; %u DMA segments in %u contiguous runs, one gen_pool chunk",
	       b.id, b.num_bufs, b.unusable, (unsigned long long)(size / buf_size), b.sg_nents,
	       b.dma_runs);

	kdev_queue(kd, queue, &qb);
	d = counters_delta(&qa.counters, &qb.counters);
	tap_ok(t, qb.provider == NMK_PROVIDER_DMABUF && qb.binding_id == b.id,
	       "queue %u runs on %s: %s", queue, provider_str(qb.provider), qb.provider_desc);
	tap_ok(t, d.restarts == 1 && d.cb_mem_alloc == 1 && d.cb_stop == 1 &&
		  d.cb_start == 1 && d.cb_mem_free == 1 && !d.refused,
	       "one restart: %llu mem_alloc, %llu stop, %llu start, %llu mem_free",
	       (unsigned long long)d.cb_mem_alloc, (unsigned long long)d.cb_stop,
	       (unsigned long long)d.cb_start, (unsigned long long)d.cb_mem_free);

	ret = kdev_bench(kd, &bench);
	tap_ok(t, !ret && bench.first_round + bench.ring_fill == b.num_bufs,
	       "every chunk allocated: %llu by the benchmark + %llu posted in the RX ring = %u buffers%s%s",
	       (unsigned long long)bench.first_round, (unsigned long long)bench.ring_fill,
	       b.num_bufs, ret ? ": " : "", ret ? bench.reason : "");
	tap_ok(t, !ret && bench.allocated == 2 * bench.first_round,
	       "all freed and all taken again in a second round: %llu buffers in 2 rounds",
	       (unsigned long long)bench.allocated);
	tap_ok(t, !ret && !bench.bad,
	       "each one a net_iov with refcount 1 owned by the queue's pool and a DMA address (%llu checked, %llu bad)",
	       (unsigned long long)bench.allocated, (unsigned long long)bench.bad);

	kdev_queue(kd, queue, &qb);
	kdev_info(kd);
	tap_ok(t, kd->info.bufs_out == qb.pool_hold - qb.pool_release,
	       "buffers out of the provider (%llu) = the pool's takes - gives back (%llu - %llu): ring, cache and recycle ring",
	       (unsigned long long)kd->info.bufs_out, (unsigned long long)qb.pool_hold,
	       (unsigned long long)qb.pool_release);

	u.id = b.id;
	ret = kdev_unbind(kd, &u);
	tap_ok(t, !ret, "unbind binding %u: %s (%.1f us in the kernel)", b.id,
	       ret ? u.reason : "ok", u.elapsed_ns / 1e3);
	kdev_queue(kd, queue, &qb);
	tap_ok(t, qb.provider == NMK_PROVIDER_HOST && !qb.binding_id && qb.running,
	       "queue %u back on %s, running", queue, provider_str(qb.provider));
	kdev_info(kd);
	tap_ok(t, kd->info.bindings_freed == freed_before + 1,
	       "binding %u freed: its last reference dropped (bindings freed %llu -> %llu)",
	       b.id, (unsigned long long)freed_before,
	       (unsigned long long)kd->info.bindings_freed);
	nothing_live(kd, t, "refcounts back to zero");
}

int check_alloc(struct kdev *kd, struct tap *t, const struct kctl_opts *o)
{
	int fd;

	nothing_live(kd, t, "nothing bound at the start");
	fd = udmabuf_create(o->size, NULL);
	if (!tap_ok(t, fd >= 0, "udmabuf of %.0f MiB (sealed memfd, pages faulted in): %s",
		    o->size / MiB, fd >= 0 ? "created" : strerror(-fd)))
		return -1;
	alloc_cycle(kd, t, fd, o->size, 0, o->buf_size);
	/* Several buffers per page, and buffers larger than a page. */
	alloc_cycle(kd, t, fd, o->size, 1, 2048);
	alloc_cycle(kd, t, fd, o->size, 1, 16384);
	close(fd);
	return 0;
}

/* What each refused bind must do, by queue and mode (default rxq_caps). */
struct refusal {
	uint32_t queue, check;
	int err;                 /* expected return */
	uint64_t restarts, mem_alloc, stop, start, mem_free;
	const char *why;
};

static const struct refusal refusals[] = {
	{ 2, NMK_CHECK_FIRST, -EOPNOTSUPP, 0, 0, 0, 0, 0, "refused on the flags, no callback" },
	{ 2, NMK_CHECK_AFTER_ALLOC, -ENODATA, 0, 1, 0, 0, 1, "driver built a host pool; found after mem_alloc" },
	{ 2, NMK_CHECK_AFTER_RESTART, -ENODATA, 2, 2, 2, 2, 2, "found after the restart; restarted back" },
	{ 3, NMK_CHECK_FIRST, -EOPNOTSUPP, 0, 0, 0, 0, 0, "refused on the flags, no callback" },
	{ 3, NMK_CHECK_AFTER_ALLOC, -EOPNOTSUPP, 0, 1, 1, 0, 1, "pool built, then the driver could not stop the queue" },
	{ 3, NMK_CHECK_AFTER_RESTART, -EOPNOTSUPP, 0, 1, 1, 0, 1, "pool built, then the driver could not stop the queue" },
	{ 4, NMK_CHECK_FIRST, -EOPNOTSUPP, 0, 0, 0, 0, 0, "refused on the flags, no callback" },
	{ 4, NMK_CHECK_AFTER_ALLOC, 0, 1, 1, 1, 1, 1, "ACCEPTED: a pool exists, the missing header split is invisible to the inference" },
	{ 4, NMK_CHECK_AFTER_RESTART, 0, 1, 1, 1, 1, 1, "ACCEPTED: a pool exists, the missing header split is invisible to the inference" },
};

int check_refuse(struct kdev *kd, struct tap *t, const struct kctl_opts *o)
{
	char caps[48];
	int fd;

	fd = udmabuf_create(o->size, NULL);
	if (!tap_ok(t, fd >= 0, "udmabuf of %.0f MiB: %s", o->size / MiB,
		    fd >= 0 ? "created" : strerror(-fd)))
		return -1;
	printf("# %-5s %-31s %-19s %-12s %8s %9s %8s  %s\n", "queue", "flags", "mode",
	       "result", "restarts", "callbacks", "buffers", "what happened");
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		struct nmk_bind b = { .dmabuf_fd = fd, .queue = r->queue,
				      .buf_size = o->buf_size, .check = r->check };
		struct nmk_queue qa, qb;
		struct nmk_rxq_counters d;
		int ret;

		kdev_queue(kd, r->queue, &qa);
		ret = kdev_bind(kd, &b);
		kdev_queue(kd, r->queue, &qb);
		d = counters_delta(&qa.counters, &qb.counters);
		printf("# %-5u %-31s %-19s %-12s %8llu %9llu %8llu  %s\n", r->queue,
		       caps_str(qa.caps, caps, sizeof(caps)), check_str(r->check),
		       ret ? strerrorname_np(-ret) : "bound", (unsigned long long)d.restarts,
		       (unsigned long long)callbacks(&d), (unsigned long long)d.bufs_posted,
		       r->why);
		tap_ok(t, ret == r->err && d.restarts == r->restarts &&
			  d.cb_mem_alloc == r->mem_alloc && d.cb_stop == r->stop &&
			  d.cb_start == r->start && d.cb_mem_free == r->mem_free,
		       "queue %u (%s), %s: %s, %llu restarts, %llu mem_alloc / %llu stop / %llu start / %llu mem_free, %llu buffers posted%s%s",
		       r->queue, caps, check_str(r->check), ret ? strerror(-ret) : "bound",
		       (unsigned long long)d.restarts, (unsigned long long)d.cb_mem_alloc,
		       (unsigned long long)d.cb_stop, (unsigned long long)d.cb_start,
		       (unsigned long long)d.cb_mem_free, (unsigned long long)d.bufs_posted,
		       ret ? ": " : "", ret ? b.reason : "");
		if (r->check == NMK_CHECK_FIRST)
			tap_ok(t, qb.running && qb.pool_hold == qa.pool_hold &&
				  qb.pool_release == qa.pool_release && d.refused == 1 &&
				  strstr(b.reason, "lacks"),
			       "queue %u untouched: still running on the same pool (%llu taken, %llu given back), the reason names the missing flag",
			       r->queue, (unsigned long long)qb.pool_hold,
			       (unsigned long long)qb.pool_release);
		if (!ret) {
			struct nmk_unbind u = { .id = b.id };

			tap_ok(t, !kdev_unbind(kd, &u), "unbind binding %u from queue %u", b.id,
			       r->queue);
		}
	}
	close(fd);
	nothing_live(kd, t, "after the refusals");
	return 0;
}

static void expect_err(struct tap *t, int ret, int want, const char *reason,
		       const char *what)
{
	tap_ok(t, ret == want, "%s: %s (want %s)%s%s", what,
	       ret ? strerrorname_np(-ret) : "success", strerrorname_np(-want),
	       reason && reason[0] ? ": " : "", reason ? reason : "");
}

static int bind_fd(struct kdev *kd, int fd, uint32_t queue, struct nmk_bind *b)
{
	memset(b, 0, sizeof(*b));
	b->dmabuf_fd = fd;
	b->queue = queue;
	return kdev_bind(kd, b);
}

int check_bad_input(struct kdev *kd, struct tap *t, const struct kctl_opts *o)
{
	struct nmk_bind b, b2;
	struct nmk_unbind u = { 0 };
	struct nmk_queue q;
	struct nmk_bench bench;
	int fd, memfd, null, ret, status;
	pid_t pid;

	fd = udmabuf_create(o->size, &memfd);
	if (!tap_ok(t, fd >= 0, "udmabuf of %.0f MiB: %s", o->size / MiB,
		    fd >= 0 ? "created" : strerror(-fd)))
		return -1;
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	expect_err(t, bind_fd(kd, -1, 0, &b), -EBADF, b.reason, "bind fd -1");
	expect_err(t, bind_fd(kd, 9999, 0, &b), -EBADF, b.reason, "bind fd 9999 (not open)");
	expect_err(t, bind_fd(kd, memfd, 0, &b), -EINVAL, b.reason, "bind the memfd behind the udmabuf (not a dmabuf)");
	expect_err(t, bind_fd(kd, null, 0, &b), -EINVAL, b.reason, "bind /dev/null");
	expect_err(t, bind_fd(kd, fd, 99, &b), -EINVAL, b.reason, "bind queue 99");
	expect_err(t, bind_fd(kd, fd, kd->info.num_rx_queues, &b), -EINVAL, b.reason,
		   "bind the queue one past the last");

	static const uint32_t bad_sizes[] = { 1000, 128, 131072 };
	for (size_t i = 0; i < 3; i++) {
		char what[64];

		memset(&b, 0, sizeof(b));
		b.dmabuf_fd = fd;
		b.buf_size = bad_sizes[i];
		snprintf(what, sizeof(what), "bind with %u-byte buffers", bad_sizes[i]);
		expect_err(t, kdev_bind(kd, &b), -EINVAL, b.reason, what);
	}
	memset(&b, 0, sizeof(b));
	b.dmabuf_fd = fd;
	b.check = 7;
	expect_err(t, kdev_bind(kd, &b), -EINVAL, b.reason, "bind with check mode 7");
	memset(&b, 0, sizeof(b));
	b.dmabuf_fd = fd;
	b.flags = 1;
	expect_err(t, kdev_bind(kd, &b), -EINVAL, b.reason, "bind with unknown flags");

	ret = bind_fd(kd, fd, 0, &b);
	tap_ok(t, !ret, "bind queue 0: binding %u", b.id);
	expect_err(t, bind_fd(kd, fd, 0, &b2), -EBUSY, b2.reason, "bind queue 0 again while bound");
	kdev_queue(kd, 0, &q);
	tap_ok(t, q.binding_id == b.id && q.provider == NMK_PROVIDER_DMABUF,
	       "queue 0 still on binding %u after the refused second bind", b.id);

	/* Unprivileged: a file opened by root, used after dropping root. */
	pid = fork();
	if (pid == 0) {
		struct nmk_bind cb = { .dmabuf_fd = fd };

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(kdev_bind(kd, &cb) == -EPERM ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(t, WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "bind without CAP_NET_ADMIN (uid 65534 on a file root opened): EPERM");

	u.id = 12345;
	expect_err(t, kdev_unbind(kd, &u), -ENOENT, u.reason, "unbind binding 12345 (never made)");
	u.id = b.id;
	expect_err(t, kdev_unbind(kd, &u), 0, u.reason, "unbind the binding");
	expect_err(t, kdev_unbind(kd, &u), -ENOENT, u.reason, "unbind it twice");
	u.flags = 2;
	expect_err(t, kdev_unbind(kd, &u), -EINVAL, u.reason, "unbind with unknown flags");

	memset(&q, 0, sizeof(q));
	q.index = 99;
	expect_err(t, ioctl(kd->fd, NMK_IOC_QUEUE_GET, &q) < 0 ? -errno : 0, -EINVAL, NULL,
		   "queue-get of queue 99");
	q.index = 0;
	q.reserved = 1;
	expect_err(t, ioctl(kd->fd, NMK_IOC_QUEUE_GET, &q) < 0 ? -errno : 0, -EINVAL, NULL,
		   "queue-get with a reserved field set");

	memset(&bench, 0, sizeof(bench));
	bench.op = NMK_BENCH_ALLOC_ALL;
	expect_err(t, kdev_bench(kd, &bench), -EINVAL, bench.reason,
		   "alloc-all on a queue running on host pages");
	memset(&bench, 0, sizeof(bench));
	bench.op = 99;
	expect_err(t, kdev_bench(kd, &bench), -EINVAL, bench.reason, "unknown benchmark");
	memset(&bench, 0, sizeof(bench));
	bench.op = NMK_BENCH_RECYCLE;
	bench.count = 0;
	expect_err(t, kdev_bench(kd, &bench), -EINVAL, bench.reason, "recycle of 0 buffers");
	memset(&bench, 0, sizeof(bench));
	bench.op = NMK_BENCH_RECYCLE;
	bench.count = 8;
	bench.queue = 42;
	expect_err(t, kdev_bench(kd, &bench), -EINVAL, bench.reason, "benchmark on queue 42");

	expect_err(t, ioctl(kd->fd, _IO(NMK_IOC_MAGIC, 0x7f)) < 0 ? -errno : 0, -ENOTTY, NULL,
		   "unknown ioctl");
	expect_err(t, ioctl(kd->fd, NMK_IOC_BIND, (void *)8) < 0 ? -errno : 0, -EFAULT, NULL,
		   "bind with a bad pointer");
	expect_err(t, ioctl(kd->fd, NMK_IOC_INFO, (void *)8) < 0 ? -errno : 0, -EFAULT, NULL,
		   "info with a bad pointer");

	close(null);
	close(memfd);
	close(fd);
	nothing_live(kd, t, "after the bad input");
	return 0;
}
