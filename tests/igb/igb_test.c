/* SPDX-License-Identifier: MIT */
/* The igb guest tests' sender and frame checks (see igb_test.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "igb_test.h"

double igbt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void igbt_flow_init(struct igbt_flow *fl, const char *name, uint16_t port,
		    uint32_t seed, uint64_t total)
{
	memset(fl, 0, sizeof(*fl));
	if (nm_flow_from_name(name, port, &fl->f))
		abort();
	fl->seed = seed;
	fl->total = total;
}

uint32_t igbt_payload_len(uint64_t n)
{
	/* Every seventh frame short and of a changing size. */
	return n % 7 == 3 ? 1 + (uint32_t)(n * 131 % IGBT_MAX_PAYLOAD) : IGBT_MAX_PAYLOAD;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void *sender_main(void *arg)
{
	struct igbt_sender *s = arg;
	static uint8_t pl[IGBT_MAX_PAYLOAD], frame[2048];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint64_t last_taken = 0;
	double stuck_since = 0;
	unsigned int i = 0, active;
	int sock;

	sock = socket(AF_PACKET, SOCK_RAW, 0);   /* protocol 0: send only */
	to.sll_ifindex = (int)if_nametoindex(s->ifname);
	if (sock < 0 || !to.sll_ifindex) {
		s->error = errno ? errno : ENODEV;
		goto out;
	}
	memcpy(to.sll_addr, s->flows[0].f.dst_mac, 6);
	/* Straight to the driver: a full TX ring says ENOBUFS (retried below)
	 * instead of a qdisc dropping frames behind our back. */
	setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &(int){ 1 }, sizeof(int));
	for (;;) {
		struct igbt_flow *fl;
		uint64_t taken = atomic_load(&s->taken), sent = atomic_load(&s->sent);
		uint32_t len;
		int flen;

		if (atomic_load(&s->stop))
			break;
		/* Pace: at most window frames the receiver has not taken. If
		 * none is taken for 50 ms, count the rest as lost (a queue
		 * being restarted drops frames) and go on. */
		if (s->window && sent - taken - s->presumed_lost >= s->window) {
			double now = igbt_now();

			if (taken != last_taken || !stuck_since) {
				last_taken = taken;
				stuck_since = now;
			} else if (now - stuck_since > 0.05) {
				s->presumed_lost = sent - taken;
				stuck_since = 0;
			}
			pause_us(20);
			continue;
		}
		stuck_since = 0;
		for (active = 0; active < s->nflows; active++) {
			fl = &s->flows[(i + active) % s->nflows];
			if (fl->sent_off < fl->total)
				break;
		}
		if (active == s->nflows)
			break;   /* every flow sent */
		fl = &s->flows[(i + active) % s->nflows];
		i = (i + active + 1) % s->nflows;
		len = igbt_payload_len(fl->frames_sent);
		if (fl->total - fl->sent_off < len)
			len = (uint32_t)(fl->total - fl->sent_off);
		nm_pattern_fill(pl, len, fl->sent_off, fl->seed);
		flen = nm_pkt_build(frame, sizeof(frame), &fl->f, (uint32_t)fl->sent_off, pl, len);
		if (flen < 0 || sendto(sock, frame, (size_t)flen, 0, (struct sockaddr *)&to,
				       sizeof(to)) != flen) {
			if (flen >= 0 && (errno == ENOBUFS || errno == EAGAIN)) {
				pause_us(100);
				continue;
			}
			s->error = flen < 0 ? EMSGSIZE : errno;
			break;
		}
		fl->sent_off += len;
		fl->frames_sent++;
		atomic_fetch_add(&s->sent, 1);
	}
out:
	if (sock >= 0)
		close(sock);
	atomic_store(&s->done, true);
	return NULL;
}

int igbt_sender_start(struct igbt_sender *s)
{
	atomic_init(&s->taken, 0);
	atomic_init(&s->sent, 0);
	atomic_init(&s->stop, false);
	atomic_init(&s->done, false);
	s->error = 0;
	return -pthread_create(&s->thread, NULL, sender_main, s);
}

int igbt_sender_join(struct igbt_sender *s)
{
	pthread_join(s->thread, NULL);
	return s->error;
}

bool igbt_canary_intact(const uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != IGBT_CANARY)
			return false;
	return true;
}

/* The CPU address of a payload buffer, for the check only. */
static const uint8_t *payload_bytes(nm_netmem_ref ref)
{
	struct nm_net_iov *niov = nm_netmem_to_net_iov(ref);
	struct nm_dmabuf_binding *b;

	if (!nm_netmem_is_net_iov(ref))
		return nm_netmem_address(ref);
	b = nm_net_iov_owner(niov)->owner_priv;
	return b->dmabuf->cpu_addr ? (uint8_t *)b->dmabuf->cpu_addr + nm_net_iov_offset(niov) :
				     NULL;
}

int igbt_check_frame(struct igbt_flow *flows, unsigned int nflows,
		     const struct nm_rx_pkt *p, char *why, size_t whylen)
{
	const uint8_t *hdr, *pay;
	struct nm_pkt_info pi;
	struct igbt_flow *fl = NULL;
	size_t hlen, plen;
	long bad;

	pay = p->payload ? payload_bytes(p->payload) : NULL;
	if (p->payload && !pay) {
		snprintf(why, whylen, "payload in a dmabuf the test did not map");
		return -1;
	}
	if (p->hdr) {
		hdr = nm_netmem_address(p->hdr);
		hlen = p->hdr_len;
	} else {
		hdr = pay;   /* not split: the frame starts in the payload buffer */
		hlen = p->payload_len;
	}
	if (!hdr || nm_pkt_parse(hdr, hlen, &pi) || (p->hdr && pi.hdr_len != p->hdr_len)) {
		snprintf(why, whylen, "headers (%zu bytes%s) do not parse as one frame's headers",
			 hlen, p->hdr ? ", split" : "");
		return -1;
	}
	for (unsigned int i = 0; i < nflows; i++)
		if (flows[i].f.dst_port == pi.dst_port && flows[i].f.l4proto == pi.l4proto &&
		    flows[i].f.src_port == pi.src_port)
			fl = &flows[i];
	if (!fl) {
		snprintf(why, whylen, "a frame of no test flow (port %u)", pi.dst_port);
		return -1;
	}
	if (p->hdr) {
		pay = p->payload ? pay : NULL;
		plen = p->payload_len;
	} else {
		pay += pi.hdr_len;
		plen = p->payload_len - pi.hdr_len;
	}
	if (fl->f.l4proto == IPPROTO_TCP && pi.tcp_seq != (uint32_t)fl->recv_off) {
		if (!fl->gaps_ok || (uint32_t)(pi.tcp_seq - (uint32_t)fl->recv_off) > (1u << 30)) {
			snprintf(why, whylen, "port %u: TCP seq %u, expected %u", pi.dst_port,
				 pi.tcp_seq, (uint32_t)fl->recv_off);
			return -1;
		}
		fl->gaps++;
		fl->recv_off += (uint32_t)(pi.tcp_seq - (uint32_t)fl->recv_off);
	}
	bad = plen ? nm_pattern_check(pay, plen, fl->recv_off, fl->seed) : -1;
	if (bad != -1) {
		snprintf(why, whylen, "port %u: payload byte %ld of %zu at stream offset %llu is "
			 "0x%02x, expected 0x%02x%s", pi.dst_port, bad, plen,
			 (unsigned long long)fl->recv_off, pay[bad],
			 nm_pattern_byte(fl->recv_off + (uint64_t)bad, fl->seed),
			 fl->f.l4proto == IPPROTO_UDP ? " (a lost or reordered UDP frame?)" : "");
		return -1;
	}
	fl->recv_off += plen;
	fl->bytes_recv += plen;
	fl->frames_recv++;
	return (int)(fl - flows);
}
