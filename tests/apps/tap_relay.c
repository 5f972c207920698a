/* SPDX-License-Identifier: MIT */
/*
 * tap_relay: a seeded, netem-like wire between two network namespaces.
 *
 * This machine's kernel has no sch_netem, so the tests put this relay
 * between the kernel's TCP sender (namespace A) and a receiver (namespace
 * B: netmem-rx on a TAP, or the kernel itself) and impair the A->B
 * direction: loss, duplication, reordering (netem "delay D reorder P":
 * P % of frames skip the delay), delay with jitter (order kept), and
 * corruption of one bit. B->A (the ACKs) is forwarded as is unless the
 * --ack-* options say otherwise.
 *
 * Each end is NS:tap:IF (the relay holds the TAP's file descriptor: the
 * kernel of NS is the peer) or NS:packet:IF (an AF_PACKET socket on IF in
 * NS: what is sent there goes out of IF, e.g. into netmem-rx holding that
 * TAP's descriptor). NS names /var/run/netns/NS; "-" stays where we are.
 *
 * Every frame draws the same five random numbers whatever is decided, so
 * the same seed gives the same decisions frame by frame. ARP is never
 * impaired (netem would; a lost ARP only adds a second to both runs).
 * Everything is bounded: the delay queue, the run time (--timeout), the
 * frame size. Counters go to stdout at exit (SIGINT/SIGTERM, --timeout).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 65536
#define QUEUE_CAP 65536 /* frames held for delay, per direction */
#define BATCH 64

struct impair {
	double loss, dup, reorder, corrupt; /* percent */
	double delay_ms, jitter_ms;
	bool sort; /* netem's tfifo: jitter reorders (due times sorted) */
};

struct frame {
	uint64_t due_ns;
	uint32_t len;
	uint8_t data[];
};

struct counters {
	uint64_t frames, bytes, lost, dup, reordered, delayed, jittered, corrupted;
	uint64_t sent, queue_full, write_err, too_big, read_err;
};

struct dir {
	const char *name;
	struct impair im;
	uint64_t rnd;
	int in, out;
	bool out_packet;
	struct frame *q[QUEUE_CAP];
	unsigned int head, tail; /* FIFO, due times ascending */
	uint64_t last_due;
	struct counters c;
};

struct end {
	const char *ns, *kind, *ifname;
	int fd;
	bool packet;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, seedable, and the same on every machine. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform number in [0, 1). */
static double unit(uint64_t r)
{
	return (double)(r >> 11) / 9007199254740992.0;
}

/* What happens to one frame: drawn in full for every frame. */
struct verdict {
	bool lose, dup, skip_delay, corrupt;
	double delay_ms;
	uint64_t corrupt_pos;
};

static struct verdict decide(struct dir *d)
{
	struct verdict v;
	uint64_t r[5];

	for (int i = 0; i < 5; i++)
		r[i] = next_rand(&d->rnd);
	v.lose = unit(r[0]) * 100.0 < d->im.loss;
	v.dup = unit(r[1]) * 100.0 < d->im.dup;
	v.skip_delay = d->im.delay_ms > 0 && unit(r[2]) * 100.0 < d->im.reorder;
	v.corrupt = unit(r[3]) * 100.0 < d->im.corrupt;
	v.corrupt_pos = r[3] >> 8;
	/* Uniform jitter in [-J, +J], as netem's default distribution. */
	v.delay_ms = d->im.delay_ms + d->im.jitter_ms * (2.0 * unit(r[4]) - 1.0);
	if (v.delay_ms < 0)
		v.delay_ms = 0;
	return v;
}

static int open_ns(const char *ns)
{
	char path[256];
	int fd;

	if (!strcmp(ns, "-"))
		return 0;
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tap_relay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tap_relay: setns %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Open one end inside its namespace; the fd keeps that namespace. */
static int open_end(struct end *e)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int ret = -1;

	if (home < 0 || open_ns(e->ns))
		goto out;
	if (!e->packet) {
		struct ifreq ifr = { 0 };

		e->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (e->fd < 0) {
			fprintf(stderr, "tap_relay: /dev/net/tun: %s\n", strerror(errno));
			goto back;
		}
		/* IFF_TUN_EXCL is not set: attach to the TAP the test made. */
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", e->ifname);
		if (ioctl(e->fd, TUNSETIFF, &ifr) < 0) {
			fprintf(stderr, "tap_relay: attach %s in %s: %s\n", e->ifname, e->ns,
				strerror(errno));
			goto back;
		}
		/* A netmem-rx killed on this TAP leaves its checksum and TSO
		 * offloads set: read plainly, frames as they cross a wire. */
		if (ioctl(e->fd, TUNSETOFFLOAD, 0) < 0) {
			fprintf(stderr, "tap_relay: %s: TUNSETOFFLOAD 0: %s\n", e->ifname,
				strerror(errno));
			goto back;
		}
	} else {
		struct sockaddr_ll sll = { .sll_family = AF_PACKET,
					   .sll_protocol = htons(ETH_P_ALL) };
		int one = 1, big = 16 << 20;

		e->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       htons(ETH_P_ALL));
		if (e->fd < 0) {
			fprintf(stderr, "tap_relay: AF_PACKET: %s\n", strerror(errno));
			goto back;
		}
		sll.sll_ifindex = (int)if_nametoindex(e->ifname);
		if (!sll.sll_ifindex) {
			fprintf(stderr, "tap_relay: no interface %s in %s\n", e->ifname, e->ns);
			goto back;
		}
		/* Our own sends must not come back to us as frames to relay. */
		if (setsockopt(e->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
		    bind(e->fd, (struct sockaddr *)&sll, sizeof(sll))) {
			fprintf(stderr, "tap_relay: packet socket on %s: %s\n", e->ifname,
				strerror(errno));
			goto back;
		}
		setsockopt(e->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		setsockopt(e->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	}
	ret = 0;
back:
	if (setns(home, CLONE_NEWNET) < 0) {
		fprintf(stderr, "tap_relay: back to our namespace: %s\n", strerror(errno));
		ret = -1;
	}
out:
	if (home >= 0)
		close(home);
	return ret;
}

static int parse_end(char *s, struct end *e)
{
	char *a = strchr(s, ':'), *b = a ? strchr(a + 1, ':') : NULL;

	if (!a || !b || !b[1])
		return -1;
	*a = *b = 0;
	e->ns = s;
	e->kind = a + 1;
	e->ifname = b + 1;
	if (!strcmp(e->kind, "packet"))
		e->packet = true;
	else if (strcmp(e->kind, "tap"))
		return -1;
	return 0;
}

static void put(struct dir *d, const uint8_t *data, uint32_t len)
{
	ssize_t n;

	for (int tries = 0;; tries++) {
		n = d->out_packet ? send(d->out, data, len, 0) : write(d->out, data, len);
		if (n == (ssize_t)len) {
			d->c.sent++;
			return;
		}
		/* A full socket buffer: let the far end read, briefly. */
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && tries < 100) {
			struct pollfd p = { .fd = d->out, .events = POLLOUT };

			poll(&p, 1, 1);
			continue;
		}
		d->c.write_err++;
		return;
	}
}

static void enqueue(struct dir *d, const uint8_t *data, uint32_t len, uint64_t due)
{
	struct frame *f;

	if (d->tail - d->head == QUEUE_CAP) {
		d->c.queue_full++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		d->c.queue_full++;
		return;
	}
	f->due_ns = due;
	f->len = len;
	memcpy(f->data, data, len);
	/* Sorted by due time: a frame with less jitter passes those queued
	 * with more, as in netem's tfifo (bounded by the queue). */
	unsigned int i = d->tail++;

	while (i != d->head && d->q[(i - 1) % QUEUE_CAP]->due_ns > due) {
		d->q[i % QUEUE_CAP] = d->q[(i - 1) % QUEUE_CAP];
		i--;
	}
	d->q[i % QUEUE_CAP] = f;
}

static void flush_due(struct dir *d, uint64_t now)
{
	while (d->head != d->tail) {
		struct frame *f = d->q[d->head % QUEUE_CAP];

		if (f->due_ns > now)
			break;
		put(d, f->data, f->len);
		free(f);
		d->head++;
	}
}

static void one_frame(struct dir *d, uint8_t *data, uint32_t len, uint64_t now)
{
	struct verdict v = decide(d);
	bool arp = len >= 14 && data[12] == 0x08 && data[13] == 0x06;
	uint64_t due;

	d->c.frames++;
	d->c.bytes += len;
	if (arp)
		goto now;
	if (v.lose) {
		d->c.lost++;
		return;
	}
	if (v.corrupt && len > 14) {
		uint64_t bit = v.corrupt_pos % ((uint64_t)(len - 14) * 8);

		data[14 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		d->c.corrupted++;
	}
	if (v.dup)
		d->c.dup++;
	if (d->im.delay_ms <= 0 && d->im.jitter_ms <= 0)
		goto now;
	if (v.skip_delay) {
		/* netem's reorder: this one goes at once, past the delayed ones. */
		d->c.reordered++;
		goto now;
	}
	/* Order kept (unless --jitter-reorder): never before the frame
	 * queued ahead of it. */
	due = now + (uint64_t)(v.delay_ms * 1e6);
	if (due < d->last_due && !d->im.sort)
		due = d->last_due;
	else if (due < d->last_due)
		d->c.jittered++;
	if (due > d->last_due)
		d->last_due = due;
	d->c.delayed++;
	enqueue(d, data, len, due);
	if (v.dup)
		enqueue(d, data, len, due);
	return;
now:
	/* Frames that go at once keep their place behind nothing. */
	put(d, data, len);
	if (!arp && v.dup)
		put(d, data, len);
}

static void read_some(struct dir *d, uint8_t *buf)
{
	for (int i = 0; i < BATCH; i++) {
		ssize_t n = read(d->in, buf, MAX_FRAME);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				d->c.read_err++;
			return;
		}
		if (n == 0)
			return;
		one_frame(d, buf, (uint32_t)n, now_ns());
	}
}

static void print_dir(const struct dir *d)
{
	const struct counters *c = &d->c;

	printf("relay %s: frames %llu, bytes %llu, lost %llu, duplicated %llu, reordered %llu, "
	       "delayed %llu, passed by jitter %llu, corrupted %llu, sent %llu, queue full %llu, write errors %llu, "
	       "read errors %llu\n", d->name,
	       (unsigned long long)c->frames, (unsigned long long)c->bytes,
	       (unsigned long long)c->lost, (unsigned long long)c->dup,
	       (unsigned long long)c->reordered, (unsigned long long)c->delayed,
	       (unsigned long long)c->jittered,
	       (unsigned long long)c->corrupted, (unsigned long long)c->sent,
	       (unsigned long long)c->queue_full, (unsigned long long)c->write_err,
	       (unsigned long long)c->read_err);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tap_relay --a NS:tap|packet:IF --b NS:tap|packet:IF [options]\n"
		"       tap_relay --dry N [impairment options]   (print N verdicts)\n"
		"Forward Ethernet frames both ways; impair A->B like netem.\n"
		"  --seed N        PRNG seed (default 1): same seed, same decisions per frame\n"
		"  --loss P        lose P %% of frames       --dup P      duplicate P %%\n"
		"  --delay MS      delay every frame          --jitter MS  +- MS, uniform\n"
		"  --jitter-reorder  let jitter reorder, as netem's tfifo does (default: keep order)\n"
		"  --reorder P     P %% skip the delay (netem 'delay MS reorder P')\n"
		"  --corrupt P     flip one bit past the Ethernet header in P %%\n"
		"  --ack-loss P, --ack-delay MS, --ack-jitter MS   the same for B->A\n"
		"  --cpu N         pin the relay to CPU N (printed at start)\n"
		"  --timeout S     exit after S seconds (default 600)\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "a", required_argument, NULL, 'a' },
		{ "b", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "loss", required_argument, NULL, 'l' },
		{ "dup", required_argument, NULL, 'd' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "delay", required_argument, NULL, 'D' },
		{ "jitter", required_argument, NULL, 'J' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "ack-loss", required_argument, NULL, 'L' },
		{ "ack-delay", required_argument, NULL, 'E' },
		{ "ack-jitter", required_argument, NULL, 'K' },
		{ "jitter-reorder", no_argument, NULL, 'S' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "dry", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct dir ab = { .name = "a->b" }, ba = { .name = "b->a" };
	struct end ea = { 0 }, eb = { 0 };
	uint64_t seed = 1, deadline;
	long dry = -1, cpu = -1;
	double timeout = 600;
	uint8_t *buf;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': if (parse_end(optarg, &ea)) goto bad; break;
		case 'b': if (parse_end(optarg, &eb)) goto bad; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'l': ab.im.loss = atof(optarg); break;
		case 'd': ab.im.dup = atof(optarg); break;
		case 'r': ab.im.reorder = atof(optarg); break;
		case 'D': ab.im.delay_ms = atof(optarg); break;
		case 'J': ab.im.jitter_ms = atof(optarg); break;
		case 'c': ab.im.corrupt = atof(optarg); break;
		case 'L': ba.im.loss = atof(optarg); break;
		case 'E': ba.im.delay_ms = atof(optarg); break;
		case 'K': ba.im.jitter_ms = atof(optarg); break;
		case 'S': ab.im.sort = true; break;
		case 'C': cpu = atol(optarg); break;
		case 'T': timeout = atof(optarg); break;
		case 'n': dry = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	/* Two independent streams, so impairing the ACKs leaves A->B's alone. */
	ab.rnd = seed;
	ba.rnd = seed ^ 0x5deece66dull;

	if (dry >= 0) {
		/* The decisions alone, one letter per frame: a test compares runs. */
		for (long i = 0; i < dry; i++) {
			struct verdict v = decide(&ab);

			putchar(v.lose ? 'L' : v.skip_delay ? 'R' : v.dup ? 'D' :
				v.corrupt ? 'C' : '.');
		}
		putchar('\n');
		return 0;
	}
	if (!ea.ifname || !eb.ifname)
		goto bad;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "tap_relay: --cpu %ld: %s\n", cpu, strerror(errno));
			return 2;
		}
	}
	if (open_end(&ea) || open_end(&eb))
		return 2;
	ab.in = ea.fd;
	ab.out = eb.fd;
	ab.out_packet = eb.packet;
	ba.in = eb.fd;
	ba.out = ea.fd;
	ba.out_packet = ea.packet;
	buf = malloc(MAX_FRAME);
	if (!buf)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("relay ready: a %s:%s:%s, b %s:%s:%s, seed %llu, loss %g%%, dup %g%%, "
	       "reorder %g%%, delay %g ms, jitter %g ms%s, corrupt %g%%; acks: loss %g%%, "
	       "delay %g ms, jitter %g ms; cpu %s%ld\n",
	       ea.ns, ea.kind, ea.ifname, eb.ns, eb.kind, eb.ifname,
	       (unsigned long long)seed, ab.im.loss, ab.im.dup, ab.im.reorder, ab.im.delay_ms,
	       ab.im.jitter_ms, ab.im.sort ? " (reordering)" : "", ab.im.corrupt, ba.im.loss, ba.im.delay_ms, ba.im.jitter_ms,
	       cpu >= 0 ? "" : "any", cpu >= 0 ? cpu : 0);
	fflush(stdout);

	deadline = now_ns() + (uint64_t)(timeout * 1e9);
	while (!stop) {
		struct pollfd p[2] = { { .fd = ab.in, .events = POLLIN },
				       { .fd = ba.in, .events = POLLIN } };
		uint64_t now = now_ns(), next = now + 100000000ull;
		struct timespec ts;

		if (now >= deadline)
			break;
		flush_due(&ab, now);
		flush_due(&ba, now);
		if (ab.head != ab.tail && ab.q[ab.head % QUEUE_CAP]->due_ns < next)
			next = ab.q[ab.head % QUEUE_CAP]->due_ns;
		if (ba.head != ba.tail && ba.q[ba.head % QUEUE_CAP]->due_ns < next)
			next = ba.q[ba.head % QUEUE_CAP]->due_ns;
		ts.tv_sec = (time_t)((next - now) / 1000000000ull);
		ts.tv_nsec = (long)((next - now) % 1000000000ull);
		if (ppoll(p, 2, &ts, NULL) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			read_some(&ab, buf);
		if (p[1].revents & POLLIN)
			read_some(&ba, buf);
	}
	print_dir(&ab);
	print_dir(&ba);
	fflush(stdout);
	return 0;
bad:
	usage(stderr);
	return 2;
}
