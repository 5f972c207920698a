/* SPDX-License-Identifier: MIT */
/*
 * netmem-rx --listen: netmem's ncdevmem. The stack (netmem/tcp.h) on any
 * nm_port: one poller thread per queue that matters, the main thread
 * accepts (any number over the run, as many at once as come), reads each
 * stream as fragments (payload in the dmabuf), writes it to --out through
 * the dmabuf's CPU mapping, checks ncdevmem's -v pattern, returns the
 * tokens through the refill ring, and closes each connection as soon as it
 * has ended.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <netmem/netmem.h>
#include <netmem/tcp.h>

#include "netmem_rx.h"

#define FRAG_BATCH 64

struct poller {
	pthread_t thread;
	struct nm_stack *st;
	uint32_t queues[64];   /* polled in turn */
	uint32_t nqueues;
	atomic_bool *stop;
};

/* One open connection; its slot is free again (c NULL) once it ended. */
struct rx_conn {
	struct nm_conn *c;
	unsigned int idx;        /* connection number over the run */
	int out_fd;
	uint64_t bytes;
	uint64_t in_dmabuf, in_host; /* fragments by where they landed */
	uint32_t vseed;          /* ncdevmem's running seed */
	uint64_t verrors;
	bool done, reset, failed;
	double last_progress;
	uint32_t *held;          /* --hold-tokens */
	uint32_t nheld;
};

/* The open connections: as many as come, the array grows. */
struct conn_table {
	struct rx_conn *rc;
	unsigned int cap, open;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	unsigned int idle = 0;

	while (!atomic_load_explicit(p->stop, memory_order_relaxed)) {
		int got = 0;

		for (uint32_t q = 0; q < p->nqueues; q++)
			got += nm_stack_poll(p->st, p->queues[q], 0);
		if (got > 0) {
			idle = 0;
			continue;
		}
		/* Shared machines: back off when nothing comes. */
		if (++idle > 64)
			usleep(idle > 4096 ? 1000 : 50);
	}
	return NULL;
}

/* ncdevmem's check, byte for byte: 1, 2, ... N-1, then '\n' for seed 0. */
static void validate(struct rx_conn *rc, const uint8_t *p, size_t len, uint32_t n)
{
	uint8_t seed = (uint8_t)rc->vseed;

	for (size_t i = 0; i < len; i++) {
		uint8_t expected = seed ? seed : '\n';

		if (p[i] != expected && rc->verrors++ < 5)
			fprintf(stderr, "netmem-rx: validation failed at stream byte %llu: expected %u, got %u\n",
				(unsigned long long)(rc->bytes + i), expected, p[i]);
		seed++;
		if (seed == n)
			seed = 0;
	}
	rc->vseed = seed;
}

/* All of @iov (@n of them; consumed) to @fd: one system call per batch
 * of fragments, not one per fragment (a 1-byte segment is one fragment). */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; n && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void give_back(const struct options *o, struct rx_conn *rc, uint32_t *toks,
		      unsigned int n)
{
	unsigned int done = 0;

	if (!o->release_syscall)
		done = nm_conn_refill(rc->c, toks, n);
	for (; done < n; done++) {
		struct nm_token_range r = { toks[done], 1 };

		nm_conn_release_tokens(rc->c, &r, 1, NULL);
	}
}

/* Take what the connection has; returns the bytes consumed. */
static uint64_t drain(const struct options *o, struct rx_conn *rc, const uint8_t *cpu,
		      struct nm_dmabuf *buf, uint64_t budget)
{
	struct nm_frag fr[FRAG_BATCH];
	struct iovec iov[FRAG_BATCH];
	uint32_t toks[FRAG_BATCH];
	unsigned int max = FRAG_BATCH, nt = 0;
	int niov = 0;
	uint64_t taken = 0;
	int n;

	if (budget < (uint64_t)FRAG_BATCH * 1500)
		max = (unsigned int)(budget / 1500) + 1;
	n = nm_conn_recv(rc->c, fr, max);
	if (n == 0) {
		rc->done = true;
		return 0;
	}
	if (n == -ECONNRESET) {
		rc->done = rc->reset = true;
		return 0;
	}
	if (n < 0)
		return 0;
	if (cpu)
		nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = fr[i].flags & NM_FRAG_LINEAR ? fr[i].data :
				   cpu ? cpu + fr[i].offset : NULL;

		if (p && rc->out_fd >= 0)
			iov[niov++] = (struct iovec){ (void *)p, fr[i].len };
		if (p && o->validate)
			validate(rc, p, fr[i].len, o->validate);
		rc->bytes += fr[i].len;
		taken += fr[i].len;
		if (fr[i].flags & NM_FRAG_DMABUF)
			rc->in_dmabuf++;
		else
			rc->in_host++;
		if (rc->nheld < o->hold_tokens)
			rc->held[rc->nheld++] = fr[i].token;
		else
			toks[nt++] = fr[i].token;
	}
	if (niov && !rc->failed) {
		int r = writev_all(rc->out_fd, iov, niov);

		if (r) {
			/* The stream has nowhere to go: the sender must not
			 * believe it arrived. */
			fprintf(stderr, "netmem-rx: connection %u: writing --out: %s; resetting it\n",
				rc->idx, strerror(-r));
			rc->failed = true;
		}
	}
	if (cpu)
		nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
	give_back(o, rc, toks, nt);
	return taken;
}

static void print_counters(const char *who, const struct nm_tcp_counters *t)
{
	printf("%s: %llu segs, %llu bytes, ooo %llu, dup %llu (partial %llu), bad csum %llu, "
	       "no verdict %llu, copy fallbacks %llu, out of buffers %llu, window zero %llu "
	       "(updates %llu), out of window %llu, paws %llu, acks %llu, rst sent %llu\n",
	       who, (unsigned long long)t->segs, (unsigned long long)t->bytes,
	       (unsigned long long)t->ooo, (unsigned long long)t->dup,
	       (unsigned long long)t->partial_dup, (unsigned long long)t->bad_csum,
	       (unsigned long long)t->no_verdict, (unsigned long long)t->copy_fallback,
	       (unsigned long long)t->out_of_buffers, (unsigned long long)t->window_zero,
	       (unsigned long long)t->window_update, (unsigned long long)t->out_of_window,
	       (unsigned long long)t->paws_rejected, (unsigned long long)t->acks_sent,
	       (unsigned long long)t->rst_sent);
}

/* Every counter that explains a segment dropped or a connection ended by
 * us, in one line: the place to look first when bytes came slowly. */
static void print_drops(const char *who, const struct nm_tcp_counters *t,
			const struct nm_stack_counters *sc)
{
	printf("drops (%s): reassembly queue full %llu, paws %llu, out of window %llu, "
	       "out of buffers %llu, over share %llu, ooo pruned %llu, past fin %llu, bad csum %llu, "
	       "no verdict %llu; dsacks sent %llu, keepalives sent %llu, idle resets %llu",
	       who, (unsigned long long)t->ooo_queue_full, (unsigned long long)t->paws_rejected,
	       (unsigned long long)t->out_of_window, (unsigned long long)t->out_of_buffers,
	       (unsigned long long)t->over_share, (unsigned long long)t->ooo_pruned,
	       (unsigned long long)t->past_fin,
	       (unsigned long long)t->bad_csum, (unsigned long long)t->no_verdict,
	       (unsigned long long)t->dsacks_sent, (unsigned long long)t->keepalives_sent,
	       (unsigned long long)t->idle_resets);
	if (sc)
		printf("; syn evicted %llu, syn over limit %llu, conns refused %llu",
		       (unsigned long long)sc->syn_evicted, (unsigned long long)sc->syn_over_limit,
		       (unsigned long long)sc->conns_refused);
	printf("\n");
}

char listen_verdict[256];

static int stack_setup(const struct options *o, struct nm_port *port,
		       struct nm_stack **st)
{
	struct nm_stack_params sp = { .port = port, .keepalive_ms = o->keepalive_ms,
				      .keepalive_probes = o->keepalive_probes };
	struct nm_err err = { 0 };

	if (o->addr4 && nm_ip_addr_parse(o->addr4, 4, &sp.addrs[sp.num_addrs++], &err))
		goto bad;
	if (o->addr6 && nm_ip_addr_parse(o->addr6, 6, &sp.addrs[sp.num_addrs++], &err))
		goto bad;
	if (nm_stack_create(&sp, st, &err))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "netmem-rx: %s\n", err.msg);
	return -1;
}

/* A free slot for a new connection; the table grows when all are taken. */
static struct rx_conn *slot_get(struct conn_table *t)
{
	for (unsigned int i = 0; i < t->cap; i++)
		if (!t->rc[i].c)
			return &t->rc[i];
	{
		unsigned int cap = t->cap ? 2 * t->cap : 16;
		struct rx_conn *rc = realloc(t->rc, cap * sizeof(*rc));

		if (!rc)
			return NULL;
		memset(rc + t->cap, 0, (cap - t->cap) * sizeof(*rc));
		t->rc = rc;
		t->cap = cap;
	}
	return slot_get(t);
}

/* The end of one connection: ours FIN at once when it ended (or a RST when
 * @abort), its counters, its slot and --out file free. */
static void conn_end(const struct options *o, struct conn_table *t, struct rx_conn *rc,
		     bool abort)
{
	struct nm_tcp_counters tc;
	char who[32];

	give_back(o, rc, rc->held, rc->nheld);
	rc->nheld = 0;
	nm_conn_counters(rc->c, &tc);
	snprintf(who, sizeof(who), "connection %u", rc->idx);
	if (o->udp) {
		printf("UDP: %llu datagrams, %llu lost in netmem (dropped: no room or bad sum); "
		       "%llu landed in the dmabuf, %llu in host memory%s\n",
		       (unsigned long long)tc.dgrams, (unsigned long long)tc.dgram_drops,
		       (unsigned long long)rc->in_dmabuf, (unsigned long long)rc->in_host,
		       rc->in_host && !rc->in_dmabuf ?
		       " (none was steered to a bound queue: the port steers no UDP port there)" : "");
	} else if (!o->quiet || rc->reset || rc->failed || rc->verrors) {
		print_counters(who, &tc);
		print_drops(who, &tc, NULL);
	}
	if (rc->reset)
		printf("connection %u: reset by the peer\n", rc->idx);
	else if (abort && !o->udp)
		printf("connection %u: reset by us after %llu bytes\n", rc->idx,
		       (unsigned long long)rc->bytes);
	if (abort)
		nm_conn_abort(rc->c);
	else
		nm_conn_close(rc->c);
	if (rc->out_fd >= 0)
		close(rc->out_fd);
	free(rc->held);
	memset(rc, 0, sizeof(*rc));
	t->open--;
}

static void print_stalled(struct rx_conn *rc)
{
	struct nm_conn_info ci;
	struct nm_tcp_counters t;

	nm_conn_get_info(rc->c, &ci);
	nm_conn_counters(rc->c, &t);
	fprintf(stderr, "netmem-rx: connection %u: %s, %llu bytes read, window %u, queue %u, "
		"segs %llu, ooo %llu, window zero %llu, tokens out %llu\n", rc->idx, ci.state,
		(unsigned long long)rc->bytes, ci.rcv_wnd, ci.queue, (unsigned long long)t.segs,
		(unsigned long long)t.ooo, (unsigned long long)t.window_zero,
		(unsigned long long)t.tokens_held);
}

int run_listen(const struct options *o, struct nm_port *port, struct nm_dmabuf *buf)
{
	struct nm_binding_params bp = { .buf_size = o->buf_size };
	struct nm_listen_params lp = {
		.l4proto = o->udp ? IPPROTO_UDP : IPPROTO_TCP, .port = o->listen,
		.queues = o->listen_queues, .num_queues = o->num_listen_queues,
		.flags = o->sw_csum ? NM_LISTEN_CPU_READABLE : 0,
		/* Never more waiting than the run will take; the stack refuses
		 * (RST) a SYN past --connections, so nothing is acknowledged
		 * that no one will read. */
		.backlog = o->connections && o->connections < 128 ? o->connections : 128,
		.max_accept = o->udp ? 0 : o->connections,
	};
	struct nm_netdev *dev = port->dev;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_stack *st = NULL;
	struct nm_listener *l = NULL;
	struct nm_ctl_server *ctl = NULL;
	struct nm_err err = { 0 };
	struct poller pollers[9];
	struct conn_table tab = { 0 };
	unsigned int npollers = 0, nconns = 0, ndone = 0, nrefused = 0, ncut = 0;
	atomic_bool stop = false;
	uint8_t *cpu = NULL;
	uint64_t total = 0, last_total = 0, verrors = 0;
	double t0 = 0, last_report, last_progress, elapsed;
	bool failed = false, stalled = false;
	int ret = 1;

	catch_stop_signals();   /* SIGINT/SIGTERM: the summary, a clean unbind */
	if (stack_setup(o, port, &st))
		return 2;
	if (nm_dmabuf_binding_create(dev->dma, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		ret = 2;
		goto out;
	}
	lp.binding = b;
	if (nm_stack_listen(st, &lp, &l, &err)) {
		fprintf(stderr, "netmem-rx: listen: %s\n", err.msg);
		if (err.code == -EOPNOTSUPP && strstr(err.msg, "its buffers are"))
			fprintf(stderr, "netmem-rx: --buf-size %u is not a size the queue takes; "
				"choose one it does (netmem-ctl queue-get shows them)\n",
				o->buf_size);
		ret = 2;
		goto out;
	}
	if ((o->out || o->validate) && nm_dmabuf_cpu_map(buf, (void **)&cpu, &err)) {
		fprintf(stderr, "netmem-rx: --out/-v need the CPU mapping: %s\n", err.msg);
		ret = 2;
		goto out;
	}
	if (start_ctl(o, dev, &ctl)) {
		ret = 2;
		goto out;
	}
	if (ctl)
		nm_ctl_server_set_hook(ctl, nm_stack_ctl_hook, st);
	{
		struct nm_ip_addr a[16];
		unsigned int na = nm_stack_addrs(st, a, 16);
		char s[64];

		printf("listening on %s port %u (%s); dmabuf bound to queue(s)",
		       dev->name, o->listen, o->udp ? "UDP" : "TCP");
		for (uint32_t i = 0; i < o->num_listen_queues; i++)
			printf(" %u", o->listen_queues[i]);
		printf("; MAC %02x:%02x:%02x:%02x:%02x:%02x; addresses:",
		       port->mac[0], port->mac[1], port->mac[2], port->mac[3],
		       port->mac[4], port->mac[5]);
		for (unsigned int i = 0; i < na; i++)
			printf(" %s", nm_ip_addr_str(&a[i], s, sizeof(s)));
		printf("\n");
		fflush(stdout);
	}
	/* One poller per listen queue; one more for the default queue and
	 * every other queue (strangers hash anywhere: their SYNs get RSTs). */
	pollers[npollers++] = (struct poller){ .st = st, .stop = &stop };
	for (uint32_t q = 0; q < dev->num_rx_queues && q < 64; q++) {
		bool own = false;

		for (uint32_t i = 0; i < o->num_listen_queues; i++)
			own |= o->listen_queues[i] == q && q != port->default_queue;
		if (o->pollers) {
			/* --pollers N: every queue goes round robin over N. */
			struct poller *p = &pollers[q % o->pollers];

			if (q < o->pollers) {
				*p = (struct poller){ .st = st, .stop = &stop };
				npollers = q + 1;
			}
			p->queues[p->nqueues++] = q;
			continue;
		}
		if (!own) {
			pollers[0].queues[pollers[0].nqueues++] = q;
			continue;
		}
		pollers[npollers] = (struct poller){ .st = st, .stop = &stop, .nqueues = 1 };
		pollers[npollers++].queues[0] = q;
	}
	for (unsigned int i = 0; i < npollers; i++)
		pthread_create(&pollers[i].thread, NULL, poll_thread, &pollers[i]);

	last_report = last_progress = now_s();
	while (!stop_signal) {
		double now = now_s();
		uint64_t budget = UINT64_MAX, got = 0;
		struct nm_conn *nc;

		if (ctl)
			nm_ctl_server_poll(ctl, 0);
		while (nm_listener_accept(l, &nc) == 0) {
			struct nm_conn_info ci;
			struct rx_conn *rc;
			char ip[64];
			struct nm_ip_addr pa = { 0 };

			if (o->connections && nconns == o->connections) {
				/* The stack's max_accept keeps these out; should one
				 * come, its sender learns at once (RST). */
				nm_conn_abort(nc);
				nrefused++;
				continue;
			}
			rc = slot_get(&tab);
			if (!rc) {
				fprintf(stderr, "netmem-rx: out of memory for connection %u\n", nconns);
				nm_conn_abort(nc);
				nrefused++;
				continue;
			}
			*rc = (struct rx_conn){ .c = nc, .idx = nconns, .vseed = 1,
						.last_progress = now,
						.held = calloc(o->hold_tokens + 1, sizeof(uint32_t)) };
			rc->out_fd = open_out(o, nconns);
			tab.open++;
			nm_conn_get_info(nc, &ci);
			pa.ipver = ci.ipver ? ci.ipver : 4;
			memcpy(pa.addr, ci.peer_ip, 16);
			pa.prefix = pa.ipver == 4 ? 32 : 128;
			if (!t0)
				t0 = now;
			if (!o->udp)
				printf("connection %u from %s port %u: mss %u, wscale %u/%u, sack %s, timestamps %s, queue %u\n",
				       nconns, nm_ip_addr_str(&pa, ip, sizeof(ip)), ci.peer_port,
				       ci.mss, ci.snd_wscale, ci.rcv_wscale, ci.sack ? "on" : "off",
				       ci.timestamps ? "on" : "off", ci.queue);
			fflush(stdout);  /* scripts wait for this line */
			nconns++;
			last_progress = now;
			if (!rc->held || (o->out && rc->out_fd < 0)) {
				/* Nowhere to put it: the sender must hear so. */
				rc->failed = true;
				failed = true;
				conn_end(o, &tab, rc, true);
			}
		}
		/* The consumer's pace counts from the first connection. */
		if (o->consume_rate && t0)
			budget = (uint64_t)((now - t0) * (double)o->consume_rate) > total ?
				 (uint64_t)((now - t0) * (double)o->consume_rate) - total : 0;
		for (unsigned int i = 0; i < tab.cap; i++) {
			struct rx_conn *rc = &tab.rc[i];
			uint64_t g;

			if (!rc->c || !budget)
				continue;
			g = drain(o, rc, cpu, buf, budget);
			got += g;
			budget = budget > g ? budget - g : 0;
			if (g)
				rc->last_progress = now;
			if (rc->failed) {
				failed = true;
				verrors += rc->verrors;
				conn_end(o, &tab, rc, true);
			} else if (rc->done) {
				/* Ended (the peer's FIN, all read): our FIN now,
				 * whatever the other connections do. */
				ndone++;
				failed |= rc->reset;
				verrors += rc->verrors;
				conn_end(o, &tab, rc, false);
			} else if (!o->connections && !o->udp &&
				   now - rc->last_progress > o->timeout) {
				/* Serving for ever: one stalled peer is reset, the
				 * rest go on. */
				fprintf(stderr, "netmem-rx: connection %u: no progress for %u s; "
					"resetting it\n", rc->idx, o->timeout);
				print_stalled(rc);
				failed = true;
				verrors += rc->verrors;
				ncut++;
				conn_end(o, &tab, rc, true);
			}
		}
		total += got;
		if (got)
			last_progress = now;
		if (o->connections && nconns == o->connections && !tab.open && !o->udp)
			break;
		/* UDP has no end of stream: --bytes, or 2 s of quiet after data. */
		if (o->udp && (total >= o->bytes || (total && now - last_progress > 2.0)))
			break;
		if ((o->connections || o->udp) && now - last_progress > o->timeout) {
			fprintf(stderr, "netmem-rx: no progress for %u s (%u of %u connections, %llu bytes)\n",
				o->timeout, nconns, o->connections, (unsigned long long)total);
			/* Where each stream stands, before the counters below. */
			for (unsigned int i = 0; i < tab.cap; i++)
				if (tab.rc[i].c)
					print_stalled(&tab.rc[i]);
			failed = stalled = true;
			break;
		}
		if (!o->quiet && now - last_report >= 1.0 && t0) {
			struct nm_stack_counters sc;

			nm_stack_counters(st, &sc);
			printf("%7.1f s  %9.1f MiB  %6.2f Gbit/s  conns %u/%u  ooo %llu  dup %llu  bad csum %llu  zero win %llu\n",
			       now - t0, (double)total / 1048576.0,
			       (double)(total - last_total) * 8 / (now - last_report) / 1e9,
			       tab.open, nconns, (unsigned long long)sc.tcp.ooo,
			       (unsigned long long)sc.tcp.dup, (unsigned long long)sc.tcp.bad_csum,
			       (unsigned long long)sc.tcp.window_zero);
			fflush(stdout);
			last_report = now;
			last_total = total;
		}
		if (!got)
			usleep(50);
	}
	elapsed = t0 ? now_s() - t0 : 0;

	/* What is still open was cut short (a signal, a stall): a RST, so no
	 * sender takes a stream that went nowhere for one delivered. UDP's
	 * one connection simply ends. */
	for (unsigned int i = 0; i < tab.cap; i++) {
		struct rx_conn *rc = &tab.rc[i];

		if (!rc->c)
			continue;
		verrors += rc->verrors;
		ncut += !o->udp;
		conn_end(o, &tab, rc, !o->udp);
	}
	/* Let our last FINs, RSTs and their ACKs run before the pollers stop. */
	{
		double until = now_s() + 0.2;

		while (now_s() < until)
			usleep(10000);
	}
	atomic_store(&stop, true);
	for (unsigned int i = 0; i < npollers; i++)
		pthread_join(pollers[i].thread, NULL);
	{
		struct nm_stack_counters sc;

		nm_stack_counters(st, &sc);
		print_counters("all connections", &sc.tcp);
		print_drops("all connections", &sc.tcp, &sc);
		printf("stack: %llu frames, ARP replies %llu, NS answered %llu, echo %llu/%llu, "
		       "no listener %llu, unknown connection %llu, malformed %llu, not for us %llu, "
		       "RST sent %llu, flows steered %llu (collisions %llu), accepted %llu, "
		       "refused %llu\n",
		       (unsigned long long)sc.rx_frames, (unsigned long long)sc.arp_replies,
		       (unsigned long long)sc.ns_answered, (unsigned long long)sc.echo_replies,
		       (unsigned long long)sc.echo6_replies, (unsigned long long)sc.no_listener,
		       (unsigned long long)sc.unknown_conn, (unsigned long long)sc.malformed,
		       (unsigned long long)sc.not_for_us, (unsigned long long)sc.rst_sent,
		       (unsigned long long)sc.flow_steered,
		       (unsigned long long)sc.flow_steer_collisions,
		       (unsigned long long)sc.conns_accepted,
		       (unsigned long long)sc.conns_refused + nrefused);
	}
	printf("\nreceived %llu bytes on %u connection(s) in %.3f s: %.2f Gbit/s%s\n",
	       (unsigned long long)total, nconns, elapsed,
	       elapsed > 0 ? (double)total * 8 / elapsed / 1e9 : 0.0,
	       o->validate ? (verrors ? ", VALIDATION FAILED" : ", pattern validated") : "");
	ret = failed || verrors ? 1 : 0;
	if (o->udp && total < o->bytes)
		ret = 1;
	if (stop_signal) {
		/* Serving for ever ends so; any other run was cut short. */
		if (o->connections || ncut || o->udp)
			ret = 1;
		snprintf(listen_verdict, sizeof(listen_verdict),
			 "interrupted by signal %d: %u connection(s) cut mid-stream, %u ended; exit %d",
			 (int)stop_signal, ncut, ndone, ret);
	} else if (stalled) {
		snprintf(listen_verdict, sizeof(listen_verdict),
			 "stopped: no progress for %u s, %u of %u connection(s) came, %u ended; exit 1",
			 o->timeout, nconns, o->connections, ndone);
	} else if (o->udp && total < o->bytes) {
		snprintf(listen_verdict, sizeof(listen_verdict),
			 "UDP: %llu of %llu bytes (--bytes) arrived: datagrams lost; exit 1",
			 (unsigned long long)total, (unsigned long long)o->bytes);
	}
	hold_ctl(o, ctl);
out:
	for (unsigned int i = 0; i < tab.cap; i++) {
		if (tab.rc[i].out_fd >= 0 && tab.rc[i].c)
			close(tab.rc[i].out_fd);
		free(tab.rc[i].held);
	}
	free(tab.rc);
	nm_ctl_server_destroy(ctl);
	nm_stack_destroy(st);
	if (b)
		nm_dmabuf_binding_unbind(b);
	return ret;
}
