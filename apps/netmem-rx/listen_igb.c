/* SPDX-License-Identifier: MIT */
/*
 * --listen --dev igb:BDF: the igb port for run_listen(). The igb driver's
 * nm_port (RX checksum verdicts, steering) is the igb side of issue 10;
 * until it is plugged in here, say so plainly.
 */
#include <stdio.h>

#include "netmem_rx.h"

int run_listen_igb(const struct options *o, struct nm_dmabuf *buf)
{
	(void)buf;
	fprintf(stderr, "netmem-rx: --listen on %s: the igb driver has no nm_port yet "
		"(use --dev tap:IFNAME)\n", o->dev);
	return 2;
}
