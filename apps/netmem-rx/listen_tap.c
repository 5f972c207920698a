/* SPDX-License-Identifier: MIT */
/* --listen --dev tap:IFNAME[,create]: the TAP NIC as the port of run_listen(). */
#include <stdio.h>
#include <string.h>

#include <netmem/tap.h>

#include "netmem_rx.h"

int run_listen_tap(const struct options *o, struct nm_dmabuf *buf)
{
	struct nm_tap_params tp = { .num_rx_queues = o->queues };
	uint32_t nq = o->num_listen_queues ? o->num_listen_queues : 1;
	uint64_t per_queue = buf->size / (o->buf_size ? o->buf_size : 4096) / nq;
	struct nm_tap *tap;
	struct nm_err err = { 0 };
	char ifname[16];
	int ret;

	/* tap:IFNAME[,create][,no-offload] (options.c checked the form) */
	snprintf(ifname, sizeof(ifname), "%.*s", (int)strcspn(o->dev + 4, ","), o->dev + 4);
	tp.ifname = ifname;
	tp.create = strstr(o->dev + 4, ",create") != NULL;
	tp.no_offload = strstr(o->dev + 4, ",no-offload") != NULL;
	/* The NIC's pools as deep as the dmabuf's share of a listen queue
	 * (2048 to 8192): the window a connection is told is half its pool,
	 * and a long path (50 ms) needs megabytes of it. */
	tp.pool_size = per_queue < 2048 ? 2048 : per_queue > 8192 ? 8192 : (uint32_t)per_queue;

	if (o->tap_impair && nm_tap_impair_parse(o->tap_impair, &tp.impair)) {
		fprintf(stderr, "netmem-rx: --tap-impair %s: loss=P,dup=P,reorder=P,corrupt=P\n",
			o->tap_impair);
		return 2;
	}
	if (nm_tap_create(&tp, &tap, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	printf("device: %s, a TAP device (the host kernel is the peer), %u RX queues\n",
	       ifname, o->queues);
	ret = run_listen(o, nm_tap_port(tap), buf);
	{
		struct nm_tap_stats ts;

		nm_tap_get_stats(tap, &ts);
		printf("TAP: %llu frames read, %llu refused by the NIC, %llu sent; a queue without "
		       "buffers: %llu frames kept for it, %llu dropped\n",
		       (unsigned long long)ts.rx_frames, (unsigned long long)ts.rx_dropped,
		       (unsigned long long)ts.tx_frames, (unsigned long long)ts.rx_held_no_buf,
		       (unsigned long long)ts.rx_no_buf_dropped);
		if (ts.offload)
			printf("TAP offloads: %llu TSO frames cut into segments, %llu other frames "
			       "with a checksum the kernel vouched for\n",
			       (unsigned long long)ts.rx_gso, (unsigned long long)ts.rx_csum_vouched);
		if (o->tap_impair)
			printf("TAP impairment: %llu lost, %llu duplicated, %llu reordered, %llu corrupted\n",
			       (unsigned long long)ts.impair_lost, (unsigned long long)ts.impair_dup,
			       (unsigned long long)ts.impair_reordered,
			       (unsigned long long)ts.impair_corrupted);
		for (uint32_t q = 0; q < o->queues; q++) {
			struct nm_sim_rxq_stats qs;

			nm_sim_rxq_stats(nm_tap_sim(tap), q, &qs);
			printf("  queue %u: %llu frames, %llu payload bytes, no buffer %llu, too big %llu\n",
			       q, (unsigned long long)qs.packets,
			       (unsigned long long)qs.payload_bytes,
			       (unsigned long long)qs.drop_no_buf,
			       (unsigned long long)qs.drop_too_big);
		}
	}
	nm_tap_destroy(tap);
	return ret;
}
