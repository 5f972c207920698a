/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

bool tap_ok(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	t->n++;
	if (!ok)
		t->failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return ok;
}

void tap_note(struct tap *t, const char *fmt, ...)
{
	va_list ap;

	(void)t;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int tap_done(struct tap *t)
{
	printf("# %s: %d passed, %d failed\n", t->name, t->n - t->failed, t->failed);
	fflush(stdout);
	return t->failed ? 1 : 0;
}

struct nmk_rxq_counters counters_delta(const struct nmk_rxq_counters *a,
				       const struct nmk_rxq_counters *b)
{
	return (struct nmk_rxq_counters){
		.restarts = b->restarts - a->restarts,
		.refused = b->refused - a->refused,
		.check_failed = b->check_failed - a->check_failed,
		.rollbacks = b->rollbacks - a->rollbacks,
		.cb_mem_alloc = b->cb_mem_alloc - a->cb_mem_alloc,
		.cb_mem_free = b->cb_mem_free - a->cb_mem_free,
		.cb_stop = b->cb_stop - a->cb_stop,
		.cb_start = b->cb_start - a->cb_start,
		.bufs_posted = b->bufs_posted - a->bufs_posted,
	};
}

uint64_t callbacks(const struct nmk_rxq_counters *c)
{
	return c->cb_mem_alloc + c->cb_mem_free + c->cb_stop + c->cb_start;
}

int kctl_setup(struct kdev *kd, struct tap *t)
{
	char caps[48];
	int ret;

	ret = kdev_open(kd);
	if (ret)
		return ret;
	ret = link_set_up(kd->info.ifname, true);
	if (!tap_ok(t, !ret, "bring %s up (ifindex %u, %u RX queues, ring %u, pool %u): %s",
		    kd->info.ifname, kd->info.ifindex, kd->info.num_rx_queues,
		    kd->info.ring_size, kd->info.pool_size, ret ? strerror(-ret) : "up"))
		return ret;
	for (uint32_t i = 0; i < kd->info.num_rx_queues; i++) {
		struct nmk_queue q;

		ret = kdev_queue(kd, i, &q);
		if (!tap_ok(t, !ret && q.running && q.ring_fill,
			    "queue %u runs: flags %s, provider %s, %u buffers posted", i,
			    caps_str(q.caps, caps, sizeof(caps)), provider_str(q.provider),
			    q.ring_fill))
			return -EIO;
	}
	return 0;
}
