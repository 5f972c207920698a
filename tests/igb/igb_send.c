/* SPDX-License-Identifier: MIT */
/*
 * igb-send: a raw sender for the guest's port A. Sends a flow whose payload
 * is netmem's test pattern (nm_pattern_*, seeded with the destination port,
 * as netmem-rx expects) as UDP datagrams or TCP segments built with
 * nm_pkt_build, over an AF_PACKET socket, so nothing but the frames we
 * build goes out (tests/igb/bench.sh's sender).
 *
 *   igb-send --if eth0 --flow udp6 --port 5201 --bytes 16M
 */
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netmem/netmem.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: igb-send --if IFNAME [--flow udp4|tcp4|udp6|tcp6] [--port P]\n"
		"                [--bytes SIZE] [--payload N] [--seed S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "if", required_argument, NULL, 'i' }, { "flow", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' }, { "bytes", required_argument, NULL, 'b' },
		{ "payload", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'S' },
		{ 0 },
	};
	const char *ifname = NULL, *flow_name = "tcp4";
	unsigned long port = 5201, payload = 0, seed = 0;
	uint64_t bytes = 16 << 20, off = 0, frames = 0;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	static uint8_t pl[9000], frame[9100];
	struct nm_flow f;
	int c, sock;
	double t0;
	bool have_seed = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'f': flow_name = optarg; break;
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'b': if (nm_parse_size(optarg, &bytes)) usage(); break;
		case 's': payload = strtoul(optarg, NULL, 0); break;
		case 'S': seed = strtoul(optarg, NULL, 0); have_seed = true; break;
		default: usage();
		}
	}
	if (!ifname || port > 65535 || nm_flow_from_name(flow_name, (uint16_t)port, &f))
		usage();
	if (!have_seed)
		seed = port;   /* what netmem-rx checks against */
	if (!payload)
		payload = 1514 - nm_pkt_hdr_len(&f);   /* a full 1500-byte MTU */
	if (payload > sizeof(pl) || nm_pkt_hdr_len(&f) + payload > 1514) {
		fprintf(stderr, "igb-send: --payload %lu does not fit a 1500-byte MTU\n", payload);
		return 2;
	}
	to.sll_ifindex = (int)if_nametoindex(ifname);
	sock = socket(AF_PACKET, SOCK_RAW, 0);
	if (!to.sll_ifindex || sock < 0) {
		fprintf(stderr, "igb-send: %s: %s\n", ifname, strerror(errno ? errno : ENODEV));
		return 2;
	}
	memcpy(to.sll_addr, f.dst_mac, 6);
	/* Straight to the driver: no qdisc that could drop (fq_codel does)
	 * behind our back; a full TX ring says ENOBUFS and we try again. */
	setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &(int){ 1 }, sizeof(int));
	t0 = now_s();
	while (off < bytes) {
		uint32_t len = bytes - off < payload ? (uint32_t)(bytes - off) : (uint32_t)payload;
		int flen;

		nm_pattern_fill(pl, len, off, (uint32_t)seed);
		flen = nm_pkt_build(frame, sizeof(frame), &f, (uint32_t)off, pl, len);
		if (sendto(sock, frame, (size_t)flen, 0, (struct sockaddr *)&to, sizeof(to)) != flen) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(100);   /* the TX ring is full: try again */
				continue;
			}
			fprintf(stderr, "igb-send: sendto: %s\n", strerror(errno));
			return 1;
		}
		off += len;
		frames++;
	}
	t0 = now_s() - t0;
	printf("igb-send: %llu frames, %llu payload bytes of %s to port %lu in %.3f s "
	       "(%.0f frames/s)\n", (unsigned long long)frames, (unsigned long long)off,
	       flow_name, port, t0, (double)frames / t0);
	close(sock);
	return 0;
}
