/* SPDX-License-Identifier: MIT */
/*
 * RX queue capability flags. A driver sets them on each queue to say what the
 * queue supports; a memory provider says which it needs. The common restart
 * path compares the two before any driver callback runs (see netdev.h).
 */
#ifndef NETMEM_RXQ_CAPS_H
#define NETMEM_RXQ_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nm_rxq_cap {
	/* Payload may land in buffers the CPU cannot read (net_iovs). */
	NM_RXQ_CAP_UNREADABLE   = 1u << 0,
	/* Headers go to a separate host buffer, payload to the pool's buffer. */
	NM_RXQ_CAP_HEADER_SPLIT = 1u << 1,
	/* The queue can be stopped and restarted on new memory while the
	 * device runs, without disturbing the other queues. */
	NM_RXQ_CAP_RESTART      = 1u << 2,
	/* The NIC verifies IPv4 and TCP/UDP checksums of every frame it
	 * receives and reports the verdict per frame (NM_RX_PKT_*_CSUM_*):
	 * the only way to trust payload the CPU cannot read. */
	NM_RXQ_CAP_RX_CSUM      = 1u << 3,
};

#define NM_RXQ_CAP_ALL (NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT | \
			NM_RXQ_CAP_RESTART | NM_RXQ_CAP_RX_CSUM)

/* Short name of one flag ("unreadable", "header-split", "restart", "rx-csum"). */
const char *nm_rxq_cap_name(enum nm_rxq_cap cap);

/*
 * Write the names of the flags in @caps into @buf, comma separated, or "-"
 * when none. Returns @buf.
 */
char *nm_rxq_caps_str(uint32_t caps, char *buf, size_t len);

/* Parse a comma-separated list of flag names; returns 0 or -EINVAL. */
int nm_rxq_caps_parse(const char *s, uint32_t *caps);

/*
 * The buffer sizes a queue takes (the kernel's rx_buf_len, announced with
 * QCFG_RX_PAGE_SIZE): every size from @min to @max that is a multiple of
 * @step. The driver sets them with the flags; the restart path refuses a
 * provider whose buffer size is outside them before any driver callback,
 * as it does for a missing flag. @dflt is the size of the driver's own
 * default memory. All zero: the driver declared nothing and any size
 * passes (the driver then checks in mem_alloc, after the fact).
 */
struct nm_rxq_buf_sizes {
	uint32_t min;
	uint32_t max;
	uint32_t step;
	uint32_t dflt;
};

/* Whether a queue with @s takes buffers of @size bytes. */
bool nm_rxq_buf_size_ok(const struct nm_rxq_buf_sizes *s, uint32_t size);

/* "2048-131072 B in steps of 1024", or "any" when nothing is declared.
 * Returns @buf. */
char *nm_rxq_buf_sizes_str(const struct nm_rxq_buf_sizes *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
