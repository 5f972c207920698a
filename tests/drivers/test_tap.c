/* SPDX-License-Identifier: MIT */
/*
 * The TAP NIC, in a network namespace of the test's own: a missing TAP is
 * refused unless asked to create it, and a queue without buffers never
 * stops the NIC from reading the others (the kernel's frames are sent into
 * the TAP through a packet socket, so every frame is there, in order,
 * before the NIC reads: no timing involved).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netmem/netmem.h>
#include <netmem/port.h>
#include <netmem/tap.h>

#include "nm_test.h"

#define IFNAME "nmtaptest0"

static const char *no_netns;

/* Root, /dev/net/tun and a namespace of our own; NULL when all are here. */
static const char *enter_netns(void)
{
	static bool tried;

	if (tried)
		return no_netns;
	tried = true;
	if (geteuid())
		no_netns = "needs root (a network namespace, a TAP)";
	else if (access("/dev/net/tun", R_OK | W_OK))
		no_netns = "no /dev/net/tun";
	else if (unshare(CLONE_NEWNET))
		no_netns = "cannot make a network namespace";
	return no_netns;
}

/* Up, with no IPv6 of its own: the kernel then sends nothing by itself. */
static int link_up(const char *name)
{
	struct ifreq ifr = { 0 };
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "1", 1);
		close(fd);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

static void test_missing_tap_is_refused_unless_created(void)
{
	struct nm_tap_params tp = { .ifname = IFNAME, .num_rx_queues = 2,
				    .no_hugepages = true };
	struct nm_tap *tap = NULL;
	struct nm_err err = { 0 };

	if (enter_netns())
		SKIP(no_netns);
	CHECK_EQ(nm_tap_create(&tp, &tap, &err), -ENODEV);
	CHECK_MSG(strstr(err.msg, "no interface " IFNAME) != NULL, "%s", err.msg);
	CHECK(tap == NULL);
	CHECK_EQ(if_nametoindex(IFNAME), 0);
	tp.create = true;
	CHECK_MSG(nm_tap_create(&tp, &tap, &err) == 0, "%s", err.msg);
	CHECK(if_nametoindex(IFNAME) != 0);
	nm_tap_destroy(tap);
}

/* Send @n UDP frames of flow @f (payload: its index) into the TAP. */
static int send_frames(int ps, unsigned int ifindex, const struct nm_flow *f,
		       uint32_t first, uint32_t n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex,
				   .sll_halen = 6 };
	uint8_t frame[256];

	memcpy(sll.sll_addr, f->dst_mac, 6);
	for (uint32_t i = first; i < first + n; i++) {
		int len = nm_pkt_build(frame, sizeof(frame), f, 0, &i, sizeof(i));

		if (len < 0 || sendto(ps, frame, (size_t)len, 0, (struct sockaddr *)&sll,
				      sizeof(sll)) != len)
			return -1;
	}
	return 0;
}

/* Take what @q has; count the frames of @port_no, check they come in order
 * from *@next on. Returns frames taken. */
static unsigned int take(struct nm_port *port, uint32_t q, uint16_t port_no,
			 uint32_t *next, uint32_t *bad)
{
	struct nm_rx_pkt pkts[64];
	unsigned int n = nm_port_rx_burst(port, q, pkts, 64), got = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct nm_pkt_info pi;
		const uint8_t *hdr = pkts[i].hdr ? nm_netmem_address(pkts[i].hdr) : NULL;
		const uint8_t *pl = nm_netmem_address(pkts[i].payload);
		uint32_t idx;

		if (hdr && !nm_pkt_parse(hdr, pkts[i].hdr_len, &pi) && pi.dst_port == port_no &&
		    pkts[i].payload_len >= sizeof(idx)) {
			memcpy(&idx, pl, sizeof(idx));
			*bad += idx != *next;
			*next = idx + 1;
			got++;
		}
		nm_netmem_put(pkts[i].payload);
		if (pkts[i].hdr)
			nm_netmem_put(pkts[i].hdr);
	}
	return got;
}

/*
 * Queue 1 is starved (never polled: its 32 descriptors stay used) while
 * 100 frames come for it, then 50 for queue 2. Queue 2 gets all 50 (one
 * pending frame for queue 1 used to stop every queue); queue 1 keeps the
 * first frames for when it has buffers again and drops the rest, counted.
 */
static void test_starved_queue_never_blocks_the_others(void)
{
	struct nm_tap_params tp = { .ifname = IFNAME "s", .num_rx_queues = 4,
				    .ring_size = 32, .no_hugepages = true, .create = true };
	struct nm_tap *tap = NULL;
	struct nm_err err = { 0 };
	struct nm_flow fa, fb;
	struct nm_tap_stats ts;
	struct nm_port *port;
	uint32_t next_a = 0, next_b = 0, bad = 0, got_a = 0, got_b = 0;
	int ps, one = 1;

	if (enter_netns())
		SKIP(no_netns);
	CHECK_MSG(nm_tap_create(&tp, &tap, &err) == 0, "%s", err.msg);
	CHECK_EQ(link_up(tp.ifname), 0);
	port = nm_tap_port(tap);
	CHECK_EQ(nm_flow_from_name("udp4", 7001, &fa), 0);
	CHECK_EQ(nm_flow_from_name("udp4", 7002, &fb), 0);
	memcpy(fa.dst_mac, port->mac, 6);
	memcpy(fb.dst_mac, port->mac, 6);
	CHECK_EQ(nm_sim_steer(nm_tap_sim(tap), &fa, 1), 0);
	CHECK_EQ(nm_sim_steer(nm_tap_sim(tap), &fb, 2), 0);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	CHECK(ps >= 0);
	/* Straight to the TAP's queue, past any qdisc: sent means queued. */
	setsockopt(ps, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	CHECK_EQ(send_frames(ps, if_nametoindex(tp.ifname), &fa, 0, 100), 0);
	CHECK_EQ(send_frames(ps, if_nametoindex(tp.ifname), &fb, 0, 50), 0);

	for (int i = 0; i < 100 && got_b < 50; i++)
		got_b += take(port, 2, 7002, &next_b, &bad);
	CHECK_EQ(got_b, 50);
	CHECK_EQ(bad, 0);
	nm_tap_get_stats(tap, &ts);
	/* Ring 32, the other 68 kept for it (up to 512), none lost. */
	CHECK_EQ(ts.rx_no_buf_dropped, 0);
	CHECK_EQ(ts.rx_held_no_buf, 100 - 32);
	/* Queue 1 polled again: the 32 on its ring, then the 68 kept, in order. */
	for (int i = 0; i < 200 && got_a < 100; i++)
		got_a += take(port, 1, 7001, &next_a, &bad);
	CHECK_EQ(got_a, 100);
	CHECK_EQ(next_a, 100);
	CHECK_EQ(bad, 0);
	/* And it takes new frames again. */
	CHECK_EQ(send_frames(ps, if_nametoindex(tp.ifname), &fa, 100, 10), 0);
	for (int i = 0; i < 100 && got_a < 110; i++)
		got_a += take(port, 1, 7001, &next_a, &bad);
	CHECK_EQ(got_a, 110);
	CHECK_EQ(bad, 0);
	close(ps);
	nm_tap_destroy(tap);
}

NM_TEST_MAIN(
	NM_TEST(test_missing_tap_is_refused_unless_created),
	NM_TEST(test_starved_queue_never_blocks_the_others),
)
