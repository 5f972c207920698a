/* SPDX-License-Identifier: MIT */
/*
 * netmem-rx: our ncdevmem. Binds a dmabuf to one RX queue, receives a flow,
 * checks every payload byte where it landed in the dmabuf (through a CPU
 * mapping used only for the check), and prints throughput, split counts and
 * the queue table.
 *
 * With no NIC it runs on the software NIC, which also plays the sender; with
 * no /dev/udmabuf the dmabuf is a memfd standing in for one, and it says so.
 * With --dev igb:BDF it drives an Intel 82576 through VFIO and the flow
 * comes from the wire (e.g. tests/igb/igb_send.c on the other port).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netmem/igb.h>
#include <netmem/netmem.h>
#include <netmem/sim.h>

struct options {
	const char *dmabuf;
	const char *flow;
	uint32_t queues, queue, payload, buf_size;
	int lesser_queue;
	uint16_t port;
	uint64_t bytes;
	bool quiet;
	bool ctl;               /* serve a control socket */
	const char *ctl_sock;   /* at this path (NULL: default) */
	uint32_t hold;          /* seconds to keep serving after the run */
	const char *dev;        /* "igb:BDF": a real NIC; NULL: software NIC */
	uint32_t ack_every;     /* igb: progress frame to the sender every N */
	uint32_t timeout;       /* igb: seconds without a frame before giving up */
};

struct counters {
	uint64_t frames, payload_bytes, hdr_bytes, split, net_iov, mismatches;
	uint64_t other_frames, other_mismatches;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: netmem-rx [options]\n"
		"Receive a flow into a dmabuf bound to one RX queue and check every byte.\n\n"
		"  --dmabuf SPEC      udmabuf:SIZE | memfd:SIZE | fd:N | auto:SIZE  (default auto:16M)\n"
		"  --queues N         RX queues on the software NIC (default 4)\n"
		"  --queue Q          queue the dmabuf is bound to (default 1)\n"
		"  --lesser-queue Q   queue given no 'unreadable' flag, to show a refused bind\n"
		"                     (default: the last queue; -1: none)\n"
		"  --flow NAME        udp4 | tcp4 | udp6 | tcp6 (default tcp4)\n"
		"  --port P           destination port of the flow (default 5201)\n"
		"  --bytes SIZE       payload bytes to receive (default 256M)\n"
		"  --payload N        payload bytes per frame (default 1448)\n"
		"  --buf-size N       bytes per dmabuf buffer (default 4096)\n"
		"  --ctl              serve a control socket for netmem-ctl (in $NETMEM_RUN_DIR,\n"
		"                     default /run/netmem)\n"
		"  --ctl-sock PATH    serve it at PATH\n"
		"  --hold SECONDS     keep serving it this long after the run\n"
		"  --dev igb:BDF      receive from an Intel 82576 at PCI address BDF (bound to\n"
		"                     vfio-pci) instead of the software NIC; the flow comes\n"
		"                     from the wire, from port 40000 of the flow's source\n"
		"  --ack-every N      (igb) every N frames, send the sender a progress frame\n"
		"                     (ethertype 0x88b5) so a raw sender can pace itself\n"
		"  --timeout S        (igb) give up after S seconds without a frame (default 30)\n"
		"  --quiet            summary only\n"
		"  --help\n\n"
		"Exit status: 0 when every byte arrived intact, 1 on a mismatch or loss,\n"
		"2 on bad options or setup errors.\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dmabuf", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'n' },
		{ "queue", required_argument, NULL, 'q' },
		{ "lesser-queue", required_argument, NULL, 'l' },
		{ "flow", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "payload", required_argument, NULL, 's' },
		{ "buf-size", required_argument, NULL, 'B' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "ctl", no_argument, NULL, 'c' },
		{ "ctl-sock", required_argument, NULL, 'C' },
		{ "hold", required_argument, NULL, 'H' },
		{ "dev", required_argument, NULL, 'D' },
		{ "ack-every", required_argument, NULL, 'A' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint32_t v;
	int c;

	*o = (struct options){ .dmabuf = "auto:16M", .flow = "tcp4", .queues = 4,
			       .queue = 1, .payload = 1448, .buf_size = 4096,
			       .lesser_queue = -2, .port = 5201, .bytes = 256ull << 20,
			       .timeout = 30 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dmabuf = optarg; break;
		case 'f': o->flow = optarg; break;
		case 'Q': o->quiet = true; break;
		case 'c': o->ctl = true; break;
		case 'C': o->ctl = true; o->ctl_sock = optarg; break;
		case 'D': o->dev = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'b':
			if (nm_parse_size(optarg, &o->bytes))
				goto bad;
			break;
		case 'l':
			if (!strcmp(optarg, "-1")) {
				o->lesser_queue = -1;
				break;
			}
			if (parse_u32(optarg, &v))
				goto bad;
			o->lesser_queue = (int)v;
			break;
		default:
			if (!optarg || parse_u32(optarg, &v))
				goto bad;
			if (c == 'n') o->queues = v;
			else if (c == 'q') o->queue = v;
			else if (c == 'p' && v <= 65535) o->port = (uint16_t)v;
			else if (c == 's') o->payload = v;
			else if (c == 'B') o->buf_size = v;
			else if (c == 'H') o->hold = v;
			else if (c == 'A') o->ack_every = v;
			else if (c == 'T' && v) o->timeout = v;
			else goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netmem-rx: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->lesser_queue == -2)
		o->lesser_queue = o->queues > 1 ? (int)o->queues - 1 : -1;
	if (o->lesser_queue == (int)o->queue) {
		fprintf(stderr, "netmem-rx: --lesser-queue must differ from --queue\n");
		return -EINVAL;
	}
	if (o->dev && strncmp(o->dev, "igb:", 4)) {
		fprintf(stderr, "netmem-rx: --dev %s: the one NIC driver is igb (igb:BDF)\n", o->dev);
		return -EINVAL;
	}
	if (!o->payload || o->payload > 8900) {
		fprintf(stderr, "netmem-rx: --payload must be 1..8900\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "netmem-rx: bad value for --%s: '%s' (see --help)\n",
		longopts[0].name ? argv[optind - 1] + 2 : "?", optarg ? optarg : "");
	return -EINVAL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --ctl: serve a control socket for netmem-ctl on @dev. */
static int start_ctl(const struct options *o, struct nm_netdev *dev,
		     struct nm_ctl_server **ctl)
{
	struct nm_err err = { 0 };

	if (!o->ctl)
		return 0;
	if (nm_ctl_server_create(o->ctl_sock, ctl, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return -1;
	}
	nm_ctl_server_add_netdev(*ctl, dev);
	printf("control socket: %s (netmem-ctl --sock %s queue-get)\n",
	       nm_ctl_server_path(*ctl), nm_ctl_server_path(*ctl));
	return 0;
}

/* --hold: keep serving the control socket after the run. */
static void hold_ctl(const struct options *o, struct nm_ctl_server *ctl)
{
	double until = now_s() + o->hold;

	if (!ctl || !o->hold)
		return;
	printf("\nserving %s for %u s\n", nm_ctl_server_path(ctl), o->hold);
	fflush(stdout);
	while (now_s() < until)
		nm_ctl_server_poll(ctl, 100);
}

/* Inject frames of @f from stream offset *@off; returns frames accepted. */
static unsigned int send_frames(struct nm_sim *sim, const struct nm_flow *f,
				uint32_t seed, uint64_t *off, uint32_t payload,
				unsigned int n, uint64_t limit)
{
	static uint8_t pl[9000], frame[9100];
	unsigned int sent = 0;

	while (sent < n && *off < limit) {
		uint32_t len = limit - *off < payload ? (uint32_t)(limit - *off) : payload;
		int flen;

		nm_pattern_fill(pl, len, *off, seed);
		flen = nm_pkt_build(frame, sizeof(frame), f, (uint32_t)*off, pl, len);
		if (flen < 0 || nm_sim_inject(sim, frame, (size_t)flen) < 0)
			break; /* ring full: let the receiver catch up */
		*off += len;
		sent++;
	}
	return sent;
}

/* --- a real NIC: the igb driver over VFIO (--dev igb:BDF) ---------------- */

/* A progress frame to the sender: "NMRX", payload bytes and frames taken. */
static void send_progress(struct nm_igb *igb, const uint8_t *to, uint64_t bytes,
			  uint64_t frames)
{
	uint8_t f[60] = { 0 };
	const void *fp = f;
	uint16_t len = sizeof(f);

	memcpy(f, to, 6);
	nm_igb_mac_addr(igb, f + 6);
	f[12] = 0x88;
	f[13] = 0xb5;   /* IEEE 802 local experimental ethertype */
	memcpy(f + 14, "NMRX", 4);
	for (int i = 0; i < 8; i++) {
		f[18 + i] = (uint8_t)(bytes >> (56 - 8 * i));
		f[26 + i] = (uint8_t)(frames >> (56 - 8 * i));
	}
	nm_igb_tx_burst(igb, &fp, &len, 1);
}

static int run_igb(const struct options *o, const struct nm_flow *flow,
		   struct nm_dmabuf *buf)
{
	struct nm_igb_params ip = { .bdf = o->dev + 4, .num_rx_queues = o->queues };
	struct nm_err err = { 0 };
	struct nm_igb *igb = NULL;
	struct nm_netdev *dev;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_ctl_server *ctl = NULL;
	struct nm_binding_params bp = { .buf_size = o->buf_size };
	struct counters c = { 0 };
	struct nm_igb_rxq_stats st;
	uint64_t recv_off = 0, acked = 0, lost = 0, iter = 0;
	uint32_t seed = o->port, next_report = 1;
	uint8_t mac[6], peer[6] = { 0 }, *cpu;
	double t0 = 0, last = 0, elapsed;
	int ret = 2;

	if (o->queue >= o->queues || (o->lesser_queue >= 0 && (uint32_t)o->lesser_queue >= o->queues)) {
		fprintf(stderr, "netmem-rx: queue out of range: the device has %u queues (0-%u)\n",
			o->queues, o->queues - 1);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines as they happen */
	if (o->lesser_queue >= 0)
		ip.no_split_mask = 1u << o->lesser_queue;
	if (nm_igb_open(&ip, &igb, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	dev = nm_igb_netdev(igb);
	nm_igb_mac_addr(igb, mac);
	printf("device: igb %s over VFIO (%s), MAC %02x:%02x:%02x:%02x:%02x:%02x, link up, "
	       "%u RX queues\n", ip.bdf, dev->dma->ops->kind, mac[0], mac[1], mac[2], mac[3],
	       mac[4], mac[5], o->queues);
	if (start_ctl(o, dev, &ctl))
		goto out;
	if (nm_dmabuf_binding_create(dev, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (o->lesser_queue >= 0) {
		uint64_t before = nm_igb_op_count(igb, NM_IGB_OP_MEM_ALLOC) +
				  nm_igb_op_count(igb, NM_IGB_OP_STOP);
		int r = nm_dmabuf_binding_bind_rxq(b, dev, (uint32_t)o->lesser_queue, &err);

		printf("bind to queue %d (header split off): %s\n  -> %s (driver callbacks run: %llu)\n",
		       o->lesser_queue, r ? "refused, as it should be" : "ACCEPTED (unexpected)",
		       r ? err.msg : "", (unsigned long long)(nm_igb_op_count(igb, NM_IGB_OP_MEM_ALLOC) +
				nm_igb_op_count(igb, NM_IGB_OP_STOP) - before));
	}
	if (nm_dmabuf_binding_bind_rxq(b, dev, o->queue, &err) ||
	    nm_igb_steer(igb, flow, o->queue, &err) ||
	    nm_dmabuf_cpu_map(buf, (void **)&cpu, &err)) {
		fprintf(stderr, "netmem-rx: queue %u: %s\n", o->queue, err.msg);
		goto out;
	}
	printf("bound %s to queue %u; %s to port %u steered there (RSS entry %u); "
	       "receiving %llu MiB\n", o->dmabuf, o->queue, o->flow, o->port,
	       nm_igb_rss_hash(flow) & 127, (unsigned long long)(o->bytes >> 20));
	printf("ready: start the sender\n");
	fflush(stdout);

	last = now_s();
	while (recv_off < o->bytes) {
		struct nm_rx_pkt pkts[64];
		unsigned int n;

		if (ctl && (++iter & 255) == 0)
			nm_ctl_server_poll(ctl, 0);
		nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
		n = nm_igb_rx_burst(igb, o->queue, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];
			const uint8_t *h = p->hdr ? nm_netmem_address(p->hdr) : NULL;
			struct nm_pkt_info pi;

			if (!h || nm_pkt_parse(h, p->hdr_len, &pi) || pi.dst_port != o->port ||
			    pi.l4proto != flow->l4proto) {
				c.other_frames++;   /* another flow that hashed here */
				continue;
			}
			if (!c.frames++) {
				memcpy(peer, h + 6, 6);
				t0 = now_s();
			}
			c.split += (p->flags & NM_RX_PKT_SPLIT) != 0;
			c.hdr_bytes += p->hdr_len;
			c.payload_bytes += p->payload_len;
			if (flow->l4proto == 6 && pi.tcp_seq != (uint32_t)recv_off) {
				lost++;     /* a gap: count it and go on from there */
				recv_off += (uint32_t)(pi.tcp_seq - (uint32_t)recv_off);
			}
			if (p->payload_len && nm_netmem_is_net_iov(p->payload)) {
				struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);

				c.net_iov++;
				/* The CPU reads the dmabuf only here, to check. */
				if (nm_pattern_check(cpu + nm_net_iov_offset(niov), p->payload_len,
						     recv_off, seed) != -1)
					c.mismatches++;
			} else if (p->payload_len) {
				c.mismatches++;   /* payload must not be in host memory */
			}
			recv_off += p->payload_len;
		}
		nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
		nm_igb_rx_recycle(igb, o->queue, pkts, n);
		for (uint32_t q = 0; q < o->queues; q++) {
			unsigned int m = q == o->queue ? 0 : nm_igb_rx_burst(igb, q, pkts, 64);

			c.other_frames += m;
			nm_igb_rx_recycle(igb, q, pkts, m);
		}
		if (n)
			last = now_s();
		if (o->ack_every && c.frames &&
		    (c.frames - acked >= o->ack_every || (!n && now_s() - last > 0.05))) {
			send_progress(igb, peer, recv_off, c.frames);
			acked = c.frames;
		}
		if (!n && now_s() - last > o->timeout) {
			fprintf(stderr, "netmem-rx: no frame for %u s: stopped at %llu of %llu bytes\n",
				o->timeout, (unsigned long long)recv_off, (unsigned long long)o->bytes);
			break;
		}
		if (!o->quiet && recv_off * 4 >= (uint64_t)next_report * o->bytes && next_report < 4) {
			printf("  %3u%%  %llu MiB\n", next_report * 25,
			       (unsigned long long)(recv_off >> 20));
			next_report++;
		}
	}
	elapsed = c.frames ? now_s() - t0 : 0;
	if (o->ack_every && c.frames)
		send_progress(igb, peer, recv_off, c.frames);
	nm_igb_rxq_stats(igb, o->queue, &st);
	printf("\nreceived %llu frames, %llu payload bytes in %.3f s: %.3f Gbit/s, %.4f Mframes/s "
	       "(igb over VFIO: paced by the sender; byte-by-byte check)\n",
	       (unsigned long long)c.frames, (unsigned long long)c.payload_bytes, elapsed,
	       elapsed ? (double)c.payload_bytes * 8 / elapsed / 1e9 : 0,
	       elapsed ? (double)c.frames / elapsed / 1e6 : 0);
	printf("header split: %llu of %llu frames; %llu header bytes in host memory, "
	       "%llu payload bytes in the dmabuf (%llu net_iov buffers); %llu unsplit dropped\n",
	       (unsigned long long)c.split, (unsigned long long)c.frames,
	       (unsigned long long)c.hdr_bytes, (unsigned long long)c.payload_bytes,
	       (unsigned long long)c.net_iov, (unsigned long long)st.drop_unsplit);
	printf("payload check: %s (%llu mismatched frames, %llu gaps)\n",
	       c.mismatches || lost || recv_off != o->bytes ? "FAILED" : "every byte verified",
	       (unsigned long long)c.mismatches, (unsigned long long)lost);
	printf("other queues meanwhile: %llu frames\n\n", (unsigned long long)c.other_frames);
	nm_netdev_print_queues(dev, stdout);
	ret = c.mismatches || lost || recv_off != o->bytes ? 1 : 0;
	hold_ctl(o, ctl);
out:
	nm_ctl_server_destroy(ctl);
	if (b)
		nm_dmabuf_binding_unbind(b);
	nm_igb_close(igb);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	struct nm_err err = { 0 };
	struct nm_dmabuf *buf = NULL;
	struct nm_sim *sim = NULL;
	struct nm_sim_params sp = { 0 };
	struct nm_netdev *dev;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_ctl_server *ctl = NULL;
	struct nm_binding_params bp;
	uint64_t iter = 0;
	struct nm_flow flow, other;
	struct counters c = { 0 };
	uint64_t sent_off = 0, recv_off = 0, other_off = 0, other_recv = 0;
	uint32_t seed, next_report = 1;
	uint8_t *cpu;
	double t0, elapsed;
	int ret = 2;

	if (parse_options(argc, argv, &o))
		return 2;
	if (nm_flow_from_name(o.flow, o.port, &flow)) {
		fprintf(stderr, "netmem-rx: unknown flow '%s' (udp4, tcp4, udp6, tcp6)\n", o.flow);
		return 2;
	}
	nm_flow_from_name("udp6", 6000, &other);
	seed = o.port;

	if (nm_dmabuf_open_spec(o.dmabuf, &buf, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		return 2;
	}
	printf("dmabuf: %s, %llu MiB%s\n", buf->exporter,
	       (unsigned long long)(buf->size >> 20),
	       buf->emulated ? " -- no /dev/udmabuf here: a memfd stands in for the dmabuf "
			       "(same code path; the guest test bed runs a real udmabuf)" : "");
	if (o.dev) {
		ret = run_igb(&o, &flow, buf);
		nm_dmabuf_put(buf);
		return ret;
	}
	printf("device: software NIC (no NIC given), %u RX queues\n", o.queues);

	sp.num_rx_queues = o.queues;
	if (nm_sim_create(&sp, &sim, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (nm_sim_host_mem(sim)->note[0])
		printf("warning: %s\n", nm_sim_host_mem(sim)->note);
	dev = nm_sim_netdev(sim);
	if (o.queue >= o.queues || (o.lesser_queue >= 0 && (uint32_t)o.lesser_queue >= o.queues)) {
		fprintf(stderr, "netmem-rx: queue out of range: the device has %u queues (0-%u)\n",
			o.queues, o.queues - 1);
		goto out;
	}
	if (o.lesser_queue >= 0) {
		nm_sim_set_queue_caps(sim, (uint32_t)o.lesser_queue,
				      NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART);
		nm_rxq_restart(dev, (uint32_t)o.lesser_queue, NULL, NULL);
	}

	if (start_ctl(&o, dev, &ctl))
		goto out;

	bp.buf_size = o.buf_size;
	if (nm_dmabuf_binding_create(dev, buf, &bp, &b, &err)) {
		fprintf(stderr, "netmem-rx: %s\n", err.msg);
		goto out;
	}
	if (o.lesser_queue >= 0) {
		uint64_t before = nm_sim_op_count(sim, NM_SIM_OP_MEM_ALLOC) +
				  nm_sim_op_count(sim, NM_SIM_OP_STOP);
		int r = nm_dmabuf_binding_bind_rxq(b, dev, (uint32_t)o.lesser_queue, &err);

		printf("bind to queue %d: %s\n  -> %s (driver callbacks run: %llu)\n",
		       o.lesser_queue, r ? "refused, as it should be" : "ACCEPTED (unexpected)",
		       r ? err.msg : "", (unsigned long long)(nm_sim_op_count(sim, NM_SIM_OP_MEM_ALLOC) +
							       nm_sim_op_count(sim, NM_SIM_OP_STOP) - before));
	}
	if (nm_dmabuf_binding_bind_rxq(b, dev, o.queue, &err)) {
		fprintf(stderr, "netmem-rx: bind to queue %u: %s\n", o.queue, err.msg);
		goto out;
	}
	printf("bound %s to queue %u; receiving %llu MiB of %s to port %u\n",
	       o.dmabuf, o.queue, (unsigned long long)(o.bytes >> 20), o.flow, o.port);
	nm_sim_steer(sim, &flow, o.queue);
	nm_sim_steer(sim, &other, 0);
	if (nm_dmabuf_cpu_map(buf, (void **)&cpu, &err)) {
		fprintf(stderr, "netmem-rx: cannot check the payload: %s\n", err.msg);
		goto out;
	}

	t0 = now_s();
	while (recv_off < o.bytes) {
		struct nm_rx_pkt pkts[64];
		unsigned int n, sent;

		if (ctl && (++iter & 255) == 0)
			nm_ctl_server_poll(ctl, 0);
		sent = send_frames(sim, &flow, seed, &sent_off, o.payload, 64, o.bytes);
		/* A little traffic on queue 0 proves the other queues run on. */
		send_frames(sim, &other, 1, &other_off, 512, sent / 8 + 1, UINT64_MAX);

		nm_dmabuf_begin_cpu_access(buf, NM_DMABUF_READ);
		n = nm_sim_rx_burst(sim, o.queue, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];
			struct nm_net_iov *niov = nm_netmem_to_net_iov(p->payload);

			c.frames++;
			c.split += (p->flags & NM_RX_PKT_SPLIT) != 0;
			c.hdr_bytes += p->hdr_len;
			c.payload_bytes += p->payload_len;
			if (nm_netmem_is_net_iov(p->payload)) {
				c.net_iov++;
				/* The CPU reads the dmabuf only here, to check. */
				if (nm_pattern_check(cpu + nm_net_iov_offset(niov),
						     p->payload_len, recv_off, seed) != -1)
					c.mismatches++;
			} else {
				c.mismatches++; /* payload must not be in host memory */
			}
			recv_off += p->payload_len;
			nm_netmem_put(p->payload);
			if (p->hdr)
				nm_netmem_put(p->hdr);
		}
		nm_dmabuf_end_cpu_access(buf, NM_DMABUF_READ);
		n = nm_sim_rx_burst(sim, 0, pkts, 64);
		for (unsigned int i = 0; i < n; i++) {
			struct nm_rx_pkt *p = &pkts[i];

			c.other_frames++;
			if (nm_pattern_check(nm_netmem_address(p->payload), p->payload_len,
					     other_recv, 1) != -1)
				c.other_mismatches++;
			other_recv += p->payload_len;
			nm_netmem_put(p->payload);
			if (p->hdr)
				nm_netmem_put(p->hdr);
		}
		if (!sent && !n && sent_off == recv_off && recv_off < o.bytes) {
			fprintf(stderr, "netmem-rx: the flow stalled at %llu bytes\n",
				(unsigned long long)recv_off);
			break;
		}
		if (!o.quiet && recv_off * 4 >= (uint64_t)next_report * o.bytes && next_report < 4) {
			printf("  %3u%%  %llu MiB\n", next_report * 25,
			       (unsigned long long)(recv_off >> 20));
			next_report++;
		}
	}
	elapsed = now_s() - t0;

	printf("\nreceived %llu frames, %llu payload bytes in %.3f s: %.2f Gbit/s, %.2f Mframes/s "
	       "(software NIC: memcpy + byte-by-byte check)\n",
	       (unsigned long long)c.frames, (unsigned long long)c.payload_bytes, elapsed,
	       (double)c.payload_bytes * 8 / elapsed / 1e9, (double)c.frames / elapsed / 1e6);
	printf("header split: %llu of %llu frames; %llu header bytes in host memory, "
	       "%llu payload bytes in the dmabuf (%llu net_iov buffers)\n",
	       (unsigned long long)c.split, (unsigned long long)c.frames,
	       (unsigned long long)c.hdr_bytes, (unsigned long long)c.payload_bytes,
	       (unsigned long long)c.net_iov);
	printf("payload check: %s (%llu mismatched frames)\n",
	       c.mismatches || recv_off != o.bytes ? "FAILED" : "every byte verified",
	       (unsigned long long)c.mismatches);
	printf("queue 0 meanwhile: %llu frames, %llu mismatched\n\n",
	       (unsigned long long)c.other_frames, (unsigned long long)c.other_mismatches);
	nm_netdev_print_queues(dev, stdout);
	ret = c.mismatches || c.other_mismatches || recv_off != o.bytes ? 1 : 0;
	hold_ctl(&o, ctl);
out:
	nm_ctl_server_destroy(ctl);
	if (b)
		nm_dmabuf_binding_unbind(b);
	nm_sim_destroy(sim);
	nm_dmabuf_put(buf);
	return ret;
}
