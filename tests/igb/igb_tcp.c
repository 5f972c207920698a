/* SPDX-License-Identifier: MIT */
/*
 * Userspace devmem TCP on the real (emulated) 82576: port B runs netmem's igb
 * driver over VFIO with netmem's TCP stack (lib/tcp); the sender is the
 * guest kernel's own TCP on port A (socat, python, whatever the test script
 * runs). Queues 1 and 2 are bound to a udmabuf through the listener (with
 * the rx-csum need: the payload counts as unreadable), queue 0 stays on host
 * memory for ARP, neighbour discovery, echo and handshakes. Two poller
 * threads (queues 0+1, queues 2+3), the main thread is the application: it
 * accepts, takes the in-order fragments, writes each stream to a file (read
 * through the udmabuf's CPU mapping: the only CPU reads of payload) and gives
 * the tokens back through the refill ring.
 *
 *   igb-tcp --conns N --out-dir DIR [--port P] [--addr4 A/P] [--dmabuf SPEC]
 *           [--slow-ms MS] [--timeout S] [--ready FILE] [--lesser-queue Q]
 *
 * Prints one "conn" line per finished stream, the stack's counters, and the
 * queue table; exits 0 when N streams ended with the peer's FIN.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netmem/igb.h>
#include <netmem/tcp.h>

#include "igb_test.h"

const char *igbt_name = "igb-tcp";

#define MAX_CONNS 16

struct poller {
	struct nm_stack *s;
	uint32_t queues[2];
	atomic_bool *stop;
	pthread_t thread;
};

static void *poll_main(void *arg)
{
	struct poller *p = arg;

	while (!atomic_load(p->stop)) {
		int n = nm_stack_poll(p->s, p->queues[0], 0) +
			nm_stack_poll(p->s, p->queues[1], 0);

		if (!n)
			sched_yield();
	}
	return NULL;
}

struct stream {
	struct nm_conn *c;
	int fd;
	uint64_t bytes, frags, dmabuf_frags, linear_frags;
	bool done;
};

static void print_counters(struct nm_stack *s)
{
	struct nm_stack_counters sc;
	const struct nm_tcp_counters *t = &sc.tcp;

	nm_stack_counters(s, &sc);
	printf("stack: rx_frames %llu arp_replies %llu ns_answered %llu echo %llu echo6 %llu "
	       "no_listener %llu unknown_conn %llu malformed %llu rst_sent %llu "
	       "flow_steered %llu steer_collisions %llu accepted %llu\n",
	       (unsigned long long)sc.rx_frames, (unsigned long long)sc.arp_replies,
	       (unsigned long long)sc.ns_answered, (unsigned long long)sc.echo_replies,
	       (unsigned long long)sc.echo6_replies, (unsigned long long)sc.no_listener,
	       (unsigned long long)sc.unknown_conn, (unsigned long long)sc.malformed,
	       (unsigned long long)sc.rst_sent, (unsigned long long)sc.flow_steered,
	       (unsigned long long)sc.flow_steer_collisions,
	       (unsigned long long)sc.conns_accepted);
	printf("tcp: segs %llu bytes %llu ooo %llu dup %llu partial_dup %llu bad_csum %llu "
	       "no_verdict %llu copy_fallback %llu out_of_buffers %llu window_zero %llu "
	       "window_update %llu acks %llu out_of_window %llu paws %llu\n",
	       (unsigned long long)t->segs, (unsigned long long)t->bytes,
	       (unsigned long long)t->ooo, (unsigned long long)t->dup,
	       (unsigned long long)t->partial_dup, (unsigned long long)(t->bad_csum + sc.bad_csum),
	       (unsigned long long)(t->no_verdict + sc.no_verdict),
	       (unsigned long long)t->copy_fallback, (unsigned long long)t->out_of_buffers,
	       (unsigned long long)t->window_zero, (unsigned long long)t->window_update,
	       (unsigned long long)t->acks_sent, (unsigned long long)t->out_of_window,
	       (unsigned long long)t->paws_rejected);
}

/* Take what @st's connection has; returns false when it has ended. */
static bool drain(struct stream *st, uint8_t *cpu, struct nm_dmabuf *buf,
		  unsigned int slow_ms)
{
	struct nm_frag frags[64];
	uint32_t tokens[64];
	unsigned int pushed;
	int n = nm_conn_recv(st->c, frags, 64);

	if (n == -EAGAIN)
		return true;
	if (n == 0)
		return false;
	if (n < 0)
		IGBT_DIE("recv: %s", strerror(-n));
	nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
	for (int i = 0; i < n; i++) {
		const struct nm_frag *f = &frags[i];
		const void *src = f->flags & NM_FRAG_DMABUF ? cpu + f->offset : f->data;

		if (f->stream_off != st->bytes)
			IGBT_DIE("fragment at stream offset %llu, expected %llu",
				 (unsigned long long)f->stream_off, (unsigned long long)st->bytes);
		if (write(st->fd, src, f->len) != (ssize_t)f->len)
			IGBT_DIE("write: %s", strerror(errno));
		st->bytes += f->len;
		st->frags++;
		st->dmabuf_frags += !!(f->flags & NM_FRAG_DMABUF);
		st->linear_frags += !!(f->flags & NM_FRAG_LINEAR);
		tokens[i] = f->token;
	}
	nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
	if (slow_ms)
		usleep(slow_ms * 1000u);
	pushed = nm_conn_refill(st->c, tokens, (unsigned int)n);
	if (pushed < (unsigned int)n) {
		/* The ring was full: the slow path takes the rest (all or none). */
		struct nm_token_range r[64];
		struct nm_err err = { 0 };

		for (unsigned int i = pushed; i < (unsigned int)n; i++)
			r[i - pushed] = (struct nm_token_range){ tokens[i], 1 };
		if (nm_conn_release_tokens(st->c, r, (unsigned int)n - pushed, &err) < 0)
			IGBT_DIE("token release: %s", err.msg);
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *spec = "udmabuf:64M", *out_dir = "/tmp", *addr4 = "169.254.10.2/24";
	const char *ready = NULL;
	struct nm_igb_params ip = { .bdf = getenv("NETMEM_GUEST_PORT_B_BDF") };
	unsigned int conns = 1, slow_ms = 0, timeout = 120, accepted = 0, finished = 0;
	int lesser = -1;
	uint16_t port = 5201;
	struct nm_err err = { 0 };
	struct nm_igb *igb;
	struct nm_netdev *dev;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct nm_stack *s;
	struct nm_listener *l;
	struct nm_stack_params sp = { 0 };
	struct stream st[MAX_CONNS] = { 0 };
	struct poller po[2];
	atomic_bool stop = false;
	uint32_t queues[2] = { 1, 2 };
	double t0, last;
	void *cpu;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", (struct option[]){
			{ "conns", required_argument, NULL, 'n' },
			{ "out-dir", required_argument, NULL, 'o' },
			{ "port", required_argument, NULL, 'p' },
			{ "addr4", required_argument, NULL, 'a' },
			{ "dmabuf", required_argument, NULL, 'd' },
			{ "slow-ms", required_argument, NULL, 's' },
			{ "timeout", required_argument, NULL, 't' },
			{ "ready", required_argument, NULL, 'r' },
			{ "lesser-queue", required_argument, NULL, 'l' },
			{ 0 } }, NULL)) != -1) {
		switch (c) {
		case 'n': conns = (unsigned int)atoi(optarg); break;
		case 'o': out_dir = optarg; break;
		case 'p': port = (uint16_t)atoi(optarg); break;
		case 'a': addr4 = optarg; break;
		case 'd': spec = optarg; break;
		case 's': slow_ms = (unsigned int)atoi(optarg); break;
		case 't': timeout = (unsigned int)atoi(optarg); break;
		case 'r': ready = optarg; break;
		case 'l': lesser = atoi(optarg); break;
		default: IGBT_DIE("usage: see the comment at the top of igb_tcp.c");
		}
	}
	if (!conns || conns > MAX_CONNS || !ip.bdf)
		IGBT_DIE("--conns 1..%d, in the guest with --vfio", MAX_CONNS);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lesser >= 0)
		ip.no_csum_mask = 1u << lesser;   /* a queue without rx-csum */
	ret = nm_igb_open(&ip, &igb, &err);
	IGBT_CHECK(!ret, "open %s over VFIO%s%s", ip.bdf, ret ? ": " : "", err.msg);
	dev = nm_igb_netdev(igb);
	ret = nm_dmabuf_open_spec(spec, &buf, &err);
	IGBT_CHECK(!ret, "a %s dmabuf%s%s", spec, ret ? ": " : "", err.msg);
	ret = nm_dmabuf_binding_create(dev->dma, buf, NULL, &b, &err);
	IGBT_CHECK(!ret, "binding %u: the dmabuf mapped into the VFIO container%s%s",
		   ret ? 0 : b->id, ret ? ": " : "", err.msg);
	ret = nm_dmabuf_cpu_map(buf, &cpu, &err);
	IGBT_CHECK(!ret, "the udmabuf mapped for the CPU (to write the streams out)");

	sp.port = nm_igb_port(igb);
	ret = nm_ip_addr_parse(addr4, 4, &sp.addrs[0], &err);
	IGBT_CHECK(!ret, "address %s%s%s", addr4, ret ? ": " : "", err.msg);
	sp.num_addrs = 1;
	ret = nm_stack_create(&sp, &s, &err);
	IGBT_CHECK(!ret, "stack on port B (%s and the MAC's link-local address)%s%s", addr4,
		   ret ? ": " : "", err.msg);

	if (lesser >= 0) {
		/* A listener on unreadable memory needs the NIC's checksum
		 * verdicts: refused before the queue is touched. */
		uint32_t lq = (uint32_t)lesser;
		uint64_t ops0 = 0, ops1 = 0;

		for (int i = 0; i < NM_IGB_OP_COUNT; i++)
			ops0 += nm_igb_op_count(igb, (enum nm_igb_op)i);
		ret = nm_stack_listen(s, &(struct nm_listen_params){
				.port = port, .binding = b, .queues = &lq, .num_queues = 1 },
				&l, &err);
		for (int i = 0; i < NM_IGB_OP_COUNT; i++)
			ops1 += nm_igb_op_count(igb, (enum nm_igb_op)i);
		IGBT_CHECK(ret == -EOPNOTSUPP && strstr(err.msg, "rx-csum") && ops0 == ops1 &&
			   !dev->rxqs[lq].counters.restarts,
			   "listen on queue %u (no rx-csum) refused before any callback (%llu "
			   "driver callbacks, 0 restarts): %s", lq,
			   (unsigned long long)(ops1 - ops0), err.msg);
		nm_err_clear(&err);
	}
	ret = nm_stack_listen(s, &(struct nm_listen_params){
			.port = port, .binding = b, .queues = queues, .num_queues = 2,
			.backlog = MAX_CONNS }, &l, &err);
	IGBT_CHECK(!ret, "listen on TCP port %u, payload into binding %u on queues 1 and 2%s%s",
		   port, b->id, ret ? ": " : "", err.msg);

	/* One thread per pair of queues, each with one of the data queues. */
	for (uint32_t i = 0; i < 2; i++) {
		po[i] = (struct poller){ .s = s, .queues = { 2 * i, 2 * i + 1 }, .stop = &stop };
		pthread_create(&po[i].thread, NULL, poll_main, &po[i]);
	}
	if (ready)
		close(open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	printf("ready\n");

	t0 = last = igbt_now();
	while (finished < conns) {
		bool busy = false;

		if (accepted < conns) {
			struct nm_conn *nc;

			if (nm_listener_accept(l, &nc) == 0) {
				char path[512];
				struct nm_conn_info ci;

				snprintf(path, sizeof(path), "%s/conn-%u.bin", out_dir, accepted);
				st[accepted].c = nc;
				st[accepted].fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (st[accepted].fd < 0)
					IGBT_DIE("open %s: %s", path, strerror(errno));
				nm_conn_get_info(nc, &ci);
				printf("accepted conn %u: IPv%u peer port %u, mss %u, wscale %u/%u, "
				       "sack %d, timestamps %d, queue %u\n", accepted, ci.ipver,
				       ci.peer_port, ci.mss, ci.snd_wscale, ci.rcv_wscale, ci.sack,
				       ci.timestamps, ci.queue);
				accepted++;
				busy = true;
			}
		}
		for (unsigned int i = 0; i < accepted; i++) {
			uint64_t before = st[i].bytes;

			if (st[i].done)
				continue;
			if (!drain(&st[i], cpu, buf, slow_ms)) {
				struct nm_tcp_counters tc;

				nm_conn_counters(st[i].c, &tc);
				printf("conn %u: bytes %llu frags %llu dmabuf %llu linear %llu "
				       "ooo %llu bad_csum %llu window_zero %llu\n", i,
				       (unsigned long long)st[i].bytes,
				       (unsigned long long)st[i].frags,
				       (unsigned long long)st[i].dmabuf_frags,
				       (unsigned long long)st[i].linear_frags,
				       (unsigned long long)tc.ooo, (unsigned long long)tc.bad_csum,
				       (unsigned long long)tc.window_zero);
				close(st[i].fd);
				nm_conn_close(st[i].c);
				st[i].done = true;
				finished++;
			}
			busy |= st[i].bytes != before;
		}
		if (busy)
			last = igbt_now();
		else if (igbt_now() - last > timeout) {
			/* Say where each stream stands before giving up. */
			for (unsigned int i = 0; i < accepted; i++) {
				struct nm_conn_info ci;
				struct nm_tcp_counters tc;

				nm_conn_get_info(st[i].c, &ci);
				nm_conn_counters(st[i].c, &tc);
				printf("stuck conn %u: %s, %llu bytes, rcv_wnd %u, queue %u, segs %llu, "
				       "ooo %llu, dup %llu, window_zero %llu, tokens held %llu\n", i,
				       ci.state, (unsigned long long)st[i].bytes, ci.rcv_wnd, ci.queue,
				       (unsigned long long)tc.segs, (unsigned long long)tc.ooo,
				       (unsigned long long)tc.dup, (unsigned long long)tc.window_zero,
				       (unsigned long long)tc.tokens_held);
			}
			print_counters(s);
			nm_netdev_print_queues(dev, stdout);
			IGBT_DIE("nothing for %u s: %u accepted, %u finished", timeout, accepted,
				 finished);
		}
		else
			usleep(200);
	}
	printf("received %u streams in %.2f s\n", conns, igbt_now() - t0);
	/* Let the last ACKs and our FINs go out, then stop. */
	usleep(300 * 1000);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(po[i].thread, NULL);
	print_counters(s);
	nm_netdev_print_queues(dev, stdout);
	nm_listener_close(l);
	nm_stack_destroy(s);
	nm_dmabuf_binding_unbind(b);
	nm_igb_close(igb);
	nm_dmabuf_put(buf);
	return 0;
}
