/* SPDX-License-Identifier: MIT */
/*
 * nm-frame-sender: put test frames (test_frame.h) on an interface with
 * AF_PACKET. Link-local/multicast only: UDP/IPv6 to ff02::1.
 *
 *   nm-frame-sender --if IF [--count N | --seconds S] [--port P]
 *                   [--size BYTES] [--gap-us US]
 *
 * --count sends frames 0..N-1, --seconds sends as many as it can for S
 * seconds (for rates). Prints one summary line; exit 0, 1 on error.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_frame.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "if", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'z' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ifname = NULL;
	unsigned long count = 0, gap_us = 0, size = 1000, port = 47000;
	double seconds = 0, t0, t;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	uint8_t frame[2048], payload[1600];
	struct nm_flow f;
	unsigned long sent = 0, dropped = 0;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 's': seconds = atof(optarg); break;
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'z': size = strtoul(optarg, NULL, 0); break;
		case 'g': gap_us = strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (!ifname || (!count == !(seconds > 0)) || size < NM_TF_HDR ||
	    size > sizeof(payload) || port > 65535) {
		fprintf(stderr, "usage: nm-frame-sender --if IF (--count N | --seconds S) "
			"[--port P] [--size 16..1600] [--gap-us US]\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("nm-frame-sender: socket(AF_PACKET)");
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror("nm-frame-sender: SIOCGIFHWADDR");
		return 1;
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, nm_tf_dst_mac, 6);
	nm_tf_flow(&f, (const uint8_t *)ifr.ifr_hwaddr.sa_data, (uint16_t)port);

	t0 = now();
	for (uint32_t seq = 0;; seq++) {
		int len;

		if (count && seq >= count)
			break;
		if (seconds > 0 && (seq & 63) == 0 && now() - t0 >= seconds)
			break;
		nm_tf_payload(payload, (uint32_t)size, seq);
		len = nm_pkt_build(frame, sizeof(frame), &f, 0, payload, size);
		if (len < 0)
			return 1;
		while (sendto(fd, frame, (size_t)len, 0, (struct sockaddr *)&sll,
			      sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				perror("nm-frame-sender: sendto");
				return 1;
			}
			dropped++;
			usleep(100);
		}
		sent++;
		if (gap_us)
			usleep((useconds_t)gap_us);
	}
	t = now() - t0;
	printf("nm-frame-sender: sent %lu frames of %lu payload bytes on %s in %.2f s "
	       "(%.0f frames/s, %lu send retries)\n", sent, size, ifname, t,
	       t > 0 ? (double)sent / t : 0.0, dropped);
	return 0;
}
