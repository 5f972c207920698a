/* SPDX-License-Identifier: MIT */
/* The TAP-backed software NIC (see tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <endian.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <netmem/tap.h>

#include "../../../lib/inet_csum.h"

#define TAP_READ_BATCH 64
#define TAP_FRAME_MAX  2048
/* With offloads the kernel hands over TSO frames of up to 64 KiB, each
 * behind a virtio_net_hdr (IFF_VNET_HDR): one read() for ~44 segments. */
#define TAP_VNET_HLEN  sizeof(struct virtio_net_hdr)
#define TAP_GSO_MAX    (65536 + 256)
#define TAP_HDR_MAX    256   /* Ethernet + IP + TCP headers of a segment */
#define TAP_PENDING    512   /* frames kept per queue that has no buffer */
/* A queue whose poller is only behind (its ring full of frames it has not
 * taken yet) pushes back on the TAP, whose own queue then holds the rest:
 * nothing is lost. One that stays full this long is starved (nobody
 * returns its buffers): the TAP is read for the others, and past
 * TAP_PENDING its frames are dropped and counted. */
#define TAP_BEHIND_NS  10000000ull

/* Frames for one queue that had no descriptor for them, oldest first:
 * offered again before anything newer for that queue. */
struct tap_pending {
	uint8_t frame[TAP_PENDING][TAP_FRAME_MAX];
	uint16_t len[TAP_PENDING];
	int8_t verdict[TAP_PENDING];  /* nm_sim_inject2()'s */
	uint32_t head, count;
	uint64_t since;          /* ns: the oldest kept frame came */
	/* The pull (nm_tap.pulls) when its poller last took frames. */
	atomic_uint_least64_t took_at;
};

struct nm_tap {
	struct nm_port port;     /* first: container_of is a cast */
	struct nm_sim *sim;
	int fd;
	bool vnet;               /* IFF_VNET_HDR + TUNSETOFFLOAD: TSO frames */
	uint32_t read_batch;     /* segments offered per pull */
	uint32_t ring_size;      /* descriptors per queue (the sim's) */
	uint32_t empty_skip;     /* pulls left that skip the read (idle) */
	atomic_uint_least64_t pulls; /* tap_pull() calls (one writer: rx_lock) */
	uint8_t *rbuf;           /* one frame as read (GSO: up to 64 KiB) */
	pthread_mutex_t rx_lock; /* one reader of the TAP at a time */
	/* Per queue (under rx_lock): what a queue without buffers could not
	 * take yet. A starved queue keeps a few frames and drops (counted)
	 * past them; it never stops the TAP from being read for the others
	 * (one shared slot did: ping failed while one queue was starved). */
	struct tap_pending *pending;
	uint32_t num_queues;
	uint32_t npending;       /* queues with frames kept */
	struct nm_tap_impair imp;
	uint32_t rnd;
	uint8_t held[TAP_FRAME_MAX];     /* reorder: sent after the next */
	size_t held_len;
	uint64_t lost, dupd, reord, corr;
	atomic_uint_least64_t rx_frames, rx_dropped, tx_frames, tx_errors;
	atomic_uint_least64_t rx_no_buf_dropped, rx_held_no_buf;
	atomic_uint_least64_t rx_gso, rx_csum_vouched;
};

static struct nm_tap *to_tap(struct nm_port *port)
{
	return (struct nm_tap *)port;
}

static uint64_t tap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A queue whose ring holds half its size in frames its poller has not
 * taken yet, though it takes (it did within the last two rounds of pulls):
 * it is behind, and the next TSO frame's segments would overflow into the
 * kept frames (a copy more). Read the TAP when it has caught up. A queue
 * nobody takes from holds nobody up (under rx_lock). */
static bool tap_ring_behind(struct nm_tap *tap)
{
	uint64_t gen = atomic_load_explicit(&tap->pulls, memory_order_relaxed);

	for (uint32_t q = 0; q < tap->num_queues; q++) {
		uint64_t took = atomic_load_explicit(&tap->pending[q].took_at,
						     memory_order_relaxed);

		if (gen - took <= 2ull * tap->num_queues &&
		    nm_sim_rx_waiting(tap->sim, q) >= tap->ring_size / 2)
			return true;
	}
	return false;
}

/* A queue half full of kept frames, for less than TAP_BEHIND_NS: its
 * poller is behind, not starved; read the TAP no more until it catches
 * up (under rx_lock). */
static bool tap_push_back(struct nm_tap *tap)
{
	uint64_t now = 0;

	for (uint32_t q = 0; tap->npending && q < tap->num_queues; q++) {
		const struct tap_pending *p = &tap->pending[q];

		if (p->count < TAP_PENDING / 2)
			continue;
		if (!now)
			now = tap_now();
		if (now - p->since < TAP_BEHIND_NS)
			return true;
	}
	return false;
}

/* A frame (@head, then @rest) as nm_sim_inject2() takes it. */
struct tap_frame {
	const uint8_t *head;
	size_t head_len;
	const uint8_t *rest;
	size_t rest_len;
	int verdict;
};

static void pending_add(struct nm_tap *tap, uint32_t q, const struct tap_frame *f)
{
	struct tap_pending *p = &tap->pending[q];
	uint32_t slot = (p->head + p->count) % TAP_PENDING;

	if (p->count == TAP_PENDING) {
		atomic_fetch_add_explicit(&tap->rx_no_buf_dropped, 1, memory_order_relaxed);
		return;
	}
	if (f->head_len + f->rest_len > TAP_FRAME_MAX) {
		atomic_fetch_add_explicit(&tap->rx_dropped, 1, memory_order_relaxed);
		return;
	}
	memcpy(p->frame[slot], f->head, f->head_len);
	if (f->rest_len)
		memcpy(p->frame[slot] + f->head_len, f->rest, f->rest_len);
	p->len[slot] = (uint16_t)(f->head_len + f->rest_len);
	p->verdict[slot] = (int8_t)f->verdict;
	if (!p->count++) {
		tap->npending++;
		p->since = tap_now();
	}
	atomic_fetch_add_explicit(&tap->rx_held_no_buf, 1, memory_order_relaxed);
}

/* Offer one frame to the NIC. A frame for a queue with frames kept, or
 * one its queue has no descriptor for, joins that queue's kept frames. */
static void tap_offer(struct nm_tap *tap, const struct tap_frame *f)
{
	size_t len = f->head_len + f->rest_len;
	int ret;

	if (tap->npending) {
		uint32_t q = nm_sim_queue_of(tap->sim, f->head, len);

		if (q < tap->num_queues && tap->pending[q].count) {
			pending_add(tap, q, f);
			return;
		}
	}
	ret = nm_sim_inject2(tap->sim, f->head, f->head_len, f->rest, f->rest_len, f->verdict);
	if (ret == -ENOBUFS) {
		uint32_t q = nm_sim_queue_of(tap->sim, f->head, len);

		if (q < tap->num_queues) {
			pending_add(tap, q, f);
			return;
		}
	}
	if (ret < 0)
		atomic_fetch_add_explicit(&tap->rx_dropped, 1, memory_order_relaxed);
}

/* Kept frames first, per queue in order, as far as each queue has room. */
static void pending_flush(struct nm_tap *tap)
{
	for (uint32_t q = 0; tap->npending && q < tap->num_queues; q++) {
		struct tap_pending *p = &tap->pending[q];

		while (p->count) {
			int ret = nm_sim_inject2(tap->sim, p->frame[p->head], p->len[p->head],
						 NULL, 0, p->verdict[p->head]);

			if (ret == -ENOBUFS)
				break;
			if (ret < 0)
				atomic_fetch_add_explicit(&tap->rx_dropped, 1,
							  memory_order_relaxed);
			p->head = (p->head + 1) % TAP_PENDING;
			if (!--p->count)
				tap->npending--;
			else
				p->since = tap_now();  /* it moves: not starved */
		}
	}
}

static uint32_t imp_rand(struct nm_tap *tap)
{
	tap->rnd ^= tap->rnd << 13;
	tap->rnd ^= tap->rnd >> 17;
	tap->rnd ^= tap->rnd << 5;
	return tap->rnd % 100;
}

int nm_tap_impair_parse(const char *s, struct nm_tap_impair *out)
{
	struct nm_tap_impair im = { .seed = 1 };
	char buf[128], *save = NULL, *tok;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned long v;

		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		v = strtoul(eq, &end, 10);
		if (!*eq || *end || v > 100)
			return -EINVAL;
		if (!strcmp(tok, "loss")) im.loss = (uint32_t)v;
		else if (!strcmp(tok, "dup")) im.dup = (uint32_t)v;
		else if (!strcmp(tok, "reorder")) im.reorder = (uint32_t)v;
		else if (!strcmp(tok, "corrupt")) im.corrupt = (uint32_t)v;
		else if (!strcmp(tok, "seed")) im.seed = (uint32_t)v | 1;
		else return -EINVAL;
	}
	*out = im;
	return 0;
}

/* Impair one frame read from the TAP; false when it is consumed here
 * (lost, or held back to be sent after the next one). Holds rx_lock. */
static bool impair(struct nm_tap *tap, uint8_t *frame, size_t *len)
{
	if (tap->imp.loss && imp_rand(tap) < tap->imp.loss) {
		tap->lost++;
		return false;
	}
	if (tap->imp.corrupt && *len > 40 && imp_rand(tap) < tap->imp.corrupt) {
		frame[14 + (tap->rnd >> 8) % (*len - 14)] ^= 0x10;
		tap->corr++;
	}
	if (tap->imp.reorder && !tap->held_len && imp_rand(tap) < tap->imp.reorder) {
		memcpy(tap->held, frame, *len);
		tap->held_len = *len;
		tap->reord++;
		return false;
	}
	return true;
}

/*
 * A TSO frame (TUNSETOFFLOAD) cut into the segments a NIC would have
 * received, each with its own IP length, id and header checksum, TCP
 * sequence number and flags. The TCP checksum stays as the kernel left it
 * (partial, VIRTIO_NET_HDR_F_NEEDS_CSUM): its own memory, vouched for, so
 * each segment carries a good verdict. Returns the segments offered.
 */
static uint32_t tap_gso_split(struct nm_tap *tap, const struct virtio_net_hdr *vh,
			      const uint8_t *frame, size_t len)
{
	size_t mss = le16toh(vh->gso_size), l3 = 14, l4, hlen, off;
	uint8_t hdr[TAP_HDR_MAX];
	struct nm_pkt_info pi;
	uint32_t seq, n = 0;
	uint16_t id;
	uint8_t flags;

	if (nm_pkt_parse(frame, len, &pi) || pi.l4proto != 6 || pi.hdr_len > sizeof(hdr) ||
	    !mss) {
		atomic_fetch_add_explicit(&tap->rx_dropped, 1, memory_order_relaxed);
		return 0;
	}
	hlen = pi.hdr_len;
	l4 = pi.ipver == 4 ? l3 + (size_t)(frame[l3] & 0xf) * 4 : l3 + 40;
	memcpy(hdr, frame, hlen);
	seq = pi.tcp_seq;
	flags = frame[l4 + 13];
	id = (uint16_t)(frame[l3 + 4] << 8 | frame[l3 + 5]);
	for (off = hlen; off < len; off += mss, n++) {
		size_t plen = len - off < mss ? len - off : mss;
		uint32_t sq = seq + (uint32_t)(off - hlen);
		uint8_t fl = flags;

		if (off + plen < len)
			fl &= (uint8_t)~0x09;  /* FIN and PSH: the last segment's */
		if (off != hlen)
			fl &= (uint8_t)~0x80;  /* CWR: the first's */
		if (pi.ipver == 4) {
			uint16_t tot = (uint16_t)(hlen - l3 + plen), nid = (uint16_t)(id + n), ck;

			hdr[l3 + 2] = (uint8_t)(tot >> 8);
			hdr[l3 + 3] = (uint8_t)tot;
			hdr[l3 + 4] = (uint8_t)(nid >> 8);
			hdr[l3 + 5] = (uint8_t)nid;
			hdr[l3 + 10] = hdr[l3 + 11] = 0;
			ck = nm_inet_csum_fold(nm_inet_csum_add(0, hdr + l3, l4 - l3));
			hdr[l3 + 10] = (uint8_t)(ck >> 8);
			hdr[l3 + 11] = (uint8_t)ck;
		} else {
			uint16_t pl = (uint16_t)(hlen - l4 + plen);

			hdr[l3 + 4] = (uint8_t)(pl >> 8);
			hdr[l3 + 5] = (uint8_t)pl;
		}
		hdr[l4 + 4] = (uint8_t)(sq >> 24);
		hdr[l4 + 5] = (uint8_t)(sq >> 16);
		hdr[l4 + 6] = (uint8_t)(sq >> 8);
		hdr[l4 + 7] = (uint8_t)sq;
		hdr[l4 + 13] = fl;
		tap_offer(tap, &(struct tap_frame){ hdr, hlen, frame + off, plen,
						    NM_RX_PKT_L4_CSUM_GOOD });
	}
	return n;
}

/* One frame read with its virtio_net_hdr: a TSO frame is cut; a checksum
 * the kernel vouched for (its own, partial, or one it checked) is not
 * checked again. Returns the frames offered. */
static uint32_t tap_vnet_frame(struct nm_tap *tap, size_t n)
{
	const struct virtio_net_hdr *vh = (const void *)tap->rbuf;
	const uint8_t *frame = tap->rbuf + TAP_VNET_HLEN;
	size_t len = n - TAP_VNET_HLEN;
	int verdict = -1;

	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		atomic_fetch_add_explicit(&tap->rx_gso, 1, memory_order_relaxed);
		return tap_gso_split(tap, vh, frame, len);
	}
	if (vh->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) {
		verdict = NM_RX_PKT_L4_CSUM_GOOD;
		atomic_fetch_add_explicit(&tap->rx_csum_vouched, 1, memory_order_relaxed);
	}
	tap_offer(tap, &(struct tap_frame){ frame, len, NULL, 0, verdict });
	return 1;
}

/* One frame read as it is (no offloads): impaired, then offered. */
static uint32_t tap_plain_frame(struct nm_tap *tap, size_t len)
{
	uint8_t *frame = tap->rbuf;

	if (!impair(tap, frame, &len))
		return 0;
	if (tap->imp.dup && imp_rand(tap) < tap->imp.dup) {
		tap_offer(tap, &(struct tap_frame){ frame, len, NULL, 0, -1 });
		tap->dupd++;
	}
	tap_offer(tap, &(struct tap_frame){ frame, len, NULL, 0, -1 });
	if (tap->held_len) {
		tap_offer(tap, &(struct tap_frame){ tap->held, tap->held_len, NULL, 0, -1 });
		tap->held_len = 0;
	}
	return 1;
}

/* The wire: what the kernel sent, into the NIC, up to read_batch frames.
 * Found empty, the next num_queues - 1 pulls skip the read: a poller going
 * round its queues asks the TAP once per round, not once per queue. */
static void tap_pull(struct nm_tap *tap)
{
	uint32_t done = 0;
	bool empty = true;

	if (pthread_mutex_trylock(&tap->rx_lock))
		return;
	atomic_store_explicit(&tap->pulls, atomic_load_explicit(&tap->pulls, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	pending_flush(tap);
	if (tap->empty_skip || (tap->vnet && tap_ring_behind(tap))) {
		tap->empty_skip -= tap->empty_skip > 0;
		pthread_mutex_unlock(&tap->rx_lock);
		return;
	}
	while (done < tap->read_batch && !tap_push_back(tap)) {
		size_t max = tap->vnet ? TAP_VNET_HLEN + TAP_GSO_MAX : TAP_FRAME_MAX;
		ssize_t n = read(tap->fd, tap->rbuf, max);

		if (n <= 0)
			break;
		uint32_t got = 0;

		empty = false;
		atomic_fetch_add_explicit(&tap->rx_frames, 1, memory_order_relaxed);
		if (!tap->vnet)
			got = tap_plain_frame(tap, (size_t)n);
		else if ((size_t)n > TAP_VNET_HLEN)
			got = tap_vnet_frame(tap, (size_t)n);
		done += got ? got : 1;  /* a read counts, whatever came of it */
	}
	if (empty)
		tap->empty_skip = tap->num_queues - 1;
	pthread_mutex_unlock(&tap->rx_lock);
}

static unsigned int tap_rx_burst(struct nm_port *port, uint32_t queue,
				 struct nm_rx_pkt *pkts, unsigned int n)
{
	struct nm_tap *tap = to_tap(port);
	unsigned int got;

	tap_pull(tap);
	got = nm_sim_rx_burst(tap->sim, queue, pkts, n);
	if (got && queue < tap->num_queues)
		atomic_store_explicit(&tap->pending[queue].took_at,
				      atomic_load_explicit(&tap->pulls, memory_order_relaxed),
				      memory_order_relaxed);
	return got;
}

static unsigned int tap_tx_burst(struct nm_port *port, const void *const *frames,
				 const uint16_t *lens, unsigned int n)
{
	static const struct virtio_net_hdr none;  /* no offload asked */
	struct nm_tap *tap = to_tap(port);
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct iovec iov[2] = { { (void *)&none, TAP_VNET_HLEN },
					{ (void *)frames[i], lens[i] } };
		ssize_t want = (ssize_t)lens[i] + (tap->vnet ? (ssize_t)TAP_VNET_HLEN : 0);

		if (writev(tap->fd, iov + !tap->vnet, 2 - !tap->vnet) != want) {
			atomic_fetch_add_explicit(&tap->tx_errors, 1, memory_order_relaxed);
			break;
		}
		atomic_fetch_add_explicit(&tap->tx_frames, 1, memory_order_relaxed);
	}
	return i;
}

static int tap_steer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			  uint16_t dst_port, uint32_t queue, struct nm_err *err)
{
	struct nm_flow f = { .ipver = ipver, .l4proto = l4proto, .dst_port = dst_port };
	int ret = nm_sim_steer(to_tap(port)->sim, &f, queue);

	return ret ? nm_err_set(err, ret, "TAP NIC: no room for a port rule") : 0;
}

static void tap_unsteer_port(struct nm_port *port, uint8_t ipver, uint8_t l4proto,
			     uint16_t dst_port)
{
	struct nm_flow f = { .ipver = ipver, .l4proto = l4proto, .dst_port = dst_port };

	nm_sim_unsteer(to_tap(port)->sim, &f);
}

static int tap_steer_flow(struct nm_port *port, const struct nm_flow *f,
			  uint32_t queue, struct nm_err *err)
{
	int ret = nm_sim_steer_flow(to_tap(port)->sim, f, queue);

	return ret ? nm_err_set(err, ret, "TAP NIC: cannot steer that flow") : 0;
}

static void tap_unsteer_flow(struct nm_port *port, const struct nm_flow *f)
{
	nm_sim_unsteer_flow(to_tap(port)->sim, f);
}

static const struct nm_port_ops tap_port_ops = {
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.steer_port = tap_steer_port,
	.unsteer_port = tap_unsteer_port,
	.steer_flow = tap_steer_flow,
	.unsteer_flow = tap_unsteer_flow,
};

int nm_tap_create(const struct nm_tap_params *p, struct nm_tap **out,
		  struct nm_err *err)
{
	struct nm_sim_params sp = { 0 };
	struct ifreq ifr = { 0 };
	struct nm_tap *tap;
	uint32_t h = 2166136261u;
	int ret;

	if (!p || !p->ifname || !*p->ifname || strlen(p->ifname) >= IFNAMSIZ)
		return nm_err_set(err, -EINVAL, "TAP: an interface name of 1 to %d characters",
				  IFNAMSIZ - 1);
	tap = calloc(1, sizeof(*tap));
	if (!tap)
		return nm_err_set(err, -ENOMEM, "out of memory");
	tap->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0) {
		ret = -errno;
		nm_err_set(err, ret, "TAP: cannot open /dev/net/tun: %s", strerror(errno));
		goto err_free;
	}
	/* TUNSETIFF would make a throw-away TAP of any name: a typo would
	 * then wait for traffic that never comes. Only when asked. */
	if (!p->create && !if_nametoindex(p->ifname)) {
		ret = nm_err_set(err, -ENODEV, "TAP: no interface %s in this network namespace "
				 "(make one: ip tuntap add dev %s mode tap; or ask for one to be "
				 "created)", p->ifname, p->ifname);
		goto err_close;
	}
	/* Offloads (the checksum, TSO) only on a clean wire: an impairment
	 * works on the frames as they would cross it, checksums and all. */
	tap->vnet = !p->no_offload && !p->impair.loss && !p->impair.dup &&
		    !p->impair.reorder && !p->impair.corrupt;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (tap->vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->ifname);
	if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		nm_err_set(err, ret, "TAP: cannot attach to %s: %s", p->ifname,
			   strerror(errno));
		goto err_close;
	}
	/* Set either way: the device keeps what its last owner asked for. */
	if (ioctl(tap->fd, TUNSETOFFLOAD, tap->vnet ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0)) {
		ret = -errno;
		nm_err_set(err, ret, "TAP: %s refuses %s: %s", p->ifname,
			   tap->vnet ? "checksum and TSO offloads" : "to drop its offloads",
			   strerror(errno));
		goto err_close;
	}
	tap->rbuf = malloc(tap->vnet ? TAP_VNET_HLEN + TAP_GSO_MAX : TAP_FRAME_MAX);
	if (!tap->rbuf) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto err_close;
	}
	sp.name = p->ifname;
	sp.num_rx_queues = p->num_rx_queues ? p->num_rx_queues : 4;
	sp.ring_size = p->ring_size ? p->ring_size : 256;
	sp.pool_size = p->pool_size ? p->pool_size : 8 * sp.ring_size;
	sp.no_hugepages = p->no_hugepages;
	tap->pending = calloc(sp.num_rx_queues, sizeof(*tap->pending));
	if (!tap->pending) {
		ret = nm_err_set(err, -ENOMEM, "out of memory");
		goto err_close;
	}
	tap->num_queues = sp.num_rx_queues;
	ret = nm_sim_create(&sp, &tap->sim, err);
	if (ret)
		goto err_close;
	/* A TAP frame is read whole (up to TAP_FRAME_MAX) and must land in
	 * one buffer: the queues say so, and the restart path refuses less. */
	for (uint32_t i = 0; i < sp.num_rx_queues; i++)
		nm_sim_set_queue_buf_sizes(tap->sim, i, &(struct nm_rxq_buf_sizes){
			.min = TAP_FRAME_MAX, .max = 65536, .step = 256 });
	tap->ring_size = sp.ring_size;
	tap->read_batch = sp.ring_size / 4 < TAP_READ_BATCH ? sp.ring_size / 4 : TAP_READ_BATCH;
	if (!tap->read_batch)
		tap->read_batch = 1;
	pthread_mutex_init(&tap->rx_lock, NULL);
	tap->imp = p->impair;
	tap->rnd = p->impair.seed | 1;
	tap->port.ops = &tap_port_ops;
	tap->port.dev = nm_sim_netdev(tap->sim);
	tap->port.mtu = 1500;
	tap->port.default_queue = 0;
	if (p->mac) {
		memcpy(tap->port.mac, p->mac, 6);
	} else {
		/* Locally administered, stable per name, never the kernel's. */
		for (const char *c = p->ifname; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		tap->port.mac[0] = 0x02;
		tap->port.mac[1] = 0x6e;
		tap->port.mac[2] = 0x6d;
		tap->port.mac[3] = (uint8_t)(h >> 16);
		tap->port.mac[4] = (uint8_t)(h >> 8);
		tap->port.mac[5] = (uint8_t)h;
	}
	*out = tap;
	return 0;

err_close:
	close(tap->fd);
err_free:
	free(tap->rbuf);
	free(tap->pending);
	free(tap);
	return ret;
}

void nm_tap_destroy(struct nm_tap *tap)
{
	if (!tap)
		return;
	nm_sim_destroy(tap->sim);
	/* The device keeps its offloads past us: a next owner reading it
	 * plainly must not get TSO frames. */
	if (tap->vnet)
		ioctl(tap->fd, TUNSETOFFLOAD, 0);
	close(tap->fd);
	pthread_mutex_destroy(&tap->rx_lock);
	free(tap->rbuf);
	free(tap->pending);
	free(tap);
}

struct nm_port *nm_tap_port(struct nm_tap *tap) { return &tap->port; }
struct nm_sim *nm_tap_sim(struct nm_tap *tap) { return tap->sim; }
struct nm_netdev *nm_tap_netdev(struct nm_tap *tap) { return nm_sim_netdev(tap->sim); }
int nm_tap_fd(struct nm_tap *tap) { return tap->fd; }

void nm_tap_get_stats(struct nm_tap *tap, struct nm_tap_stats *st)
{
	st->rx_frames = atomic_load(&tap->rx_frames);
	st->rx_dropped = atomic_load(&tap->rx_dropped);
	st->tx_frames = atomic_load(&tap->tx_frames);
	st->tx_errors = atomic_load(&tap->tx_errors);
	st->rx_held_no_buf = atomic_load(&tap->rx_held_no_buf);
	st->rx_no_buf_dropped = atomic_load(&tap->rx_no_buf_dropped);
	st->offload = tap->vnet;
	st->rx_gso = atomic_load(&tap->rx_gso);
	st->rx_csum_vouched = atomic_load(&tap->rx_csum_vouched);
	pthread_mutex_lock(&tap->rx_lock);
	st->impair_lost = tap->lost;
	st->impair_dup = tap->dupd;
	st->impair_reordered = tap->reord;
	st->impair_corrupted = tap->corr;
	pthread_mutex_unlock(&tap->rx_lock);
}
