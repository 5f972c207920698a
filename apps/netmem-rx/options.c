/* SPDX-License-Identifier: MIT */
/* netmem-rx's command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem_rx.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: netmem-rx [options]\n"
		"Receive a flow into a dmabuf bound to one RX queue and check every byte.\n\n"
		"  --dmabuf SPEC      udmabuf:SIZE | vgem:SIZE | heap:SIZE | drm:/dev/dri/X:SIZE |\n"
		"                     fd:N | memfd:SIZE | auto:SIZE  (default auto:16M; see\n"
		"                     docs/dmabuf-paths.md for what reaches a VFIO-owned NIC)\n"
		"  --queues N         RX queues on the software NIC (default 4)\n"
		"  --queue Q          queue the dmabuf is bound to (default 1)\n"
		"  --lesser-queue Q   queue given no 'unreadable' flag, to show a refused bind\n"
		"                     (default: the last queue; -1: none)\n"
		"  --flow NAME        udp4 | tcp4 | udp6 | tcp6 (default tcp4)\n"
		"  --port P           destination port of the flow (default 5201)\n"
		"  --bytes SIZE       payload bytes to receive (default 256M)\n"
		"  --payload N        payload bytes per frame (default 1448)\n"
		"  --buf-size N       bytes per dmabuf buffer (default 4096); a power of two the\n"
		"                     queue takes (queue-get shows which): checked before the\n"
		"                     queue is touched, refused with the reason otherwise\n"
		"  --ctl              serve a control socket for netmem-ctl (in $NETMEM_RUN_DIR,\n"
		"                     default /run/netmem)\n"
		"  --ctl-sock PATH    serve it at PATH\n"
		"  --hold SECONDS     keep serving it this long after the run\n"
		"  --mtu N            (igb) IP MTU, 68..9000 (default 1500); jumbo frames need\n"
		"                     buffers that hold a whole frame (--buf-size 16384 at 9000)\n"
		"\nListen mode (a TCP or UDP receiver for any sender: nc, socat, curl, dd):\n"
		"  --listen PORT      accept TCP connections on PORT (UDP with --udp)\n"
		"  --dev igb:BDF      the port: an Intel 82576 at PCI address BDF (on vfio-pci)\n"
		"  --dev tap:IFNAME   the port: a TAP device, the host kernel is the peer (it must\n"
		"                     exist: ip tuntap add dev IFNAME mode tap; tap:IFNAME,create\n"
		"                     makes it; ,no-offload reads plain frames: no TSO frames, every\n"
		"                     checksum checked here)\n"
		"  --addr4 A/P        IPv4 address of the port (answers ARP, ping)\n"
		"  --addr6 A/P        an IPv6 address besides the fe80:: one from the MAC\n"
		"  --listen-queues L  queues the dmabuf is bound to, e.g. 1,2 (default --queue)\n"
		"  --connections N    accept N connections, refuse (RST) any more, end when all\n"
		"                     have ended (default 1); 0: serve any number until SIGINT or\n"
		"                     SIGTERM (like nc -lk). Each connection gets our FIN as soon\n"
		"                     as it has ended; one still open at exit gets a RST\n"
		"  --keepalive MS     probe a peer silent for MS ms, reset it after\n"
		"  --keepalive-probes N  unanswered probes (defaults: 7200000 ms, 9)\n"
		"  --pollers N        N threads poll the queues, spread round robin (default:\n"
		"                     one per listen queue, one more for the rest); 1 leaves\n"
		"                     cores to the rest of a small machine\n"
		"  --out FILE         write the received stream to FILE (FILE.I for I > 0)\n"
		"  -v N, --validate N check ncdevmem's pattern: bytes 1..N-1, then '\\n'\n"
		"  --hold-tokens N    keep N tokens out (a consumer that returns late)\n"
		"  --consume-rate R   take at most R bytes/s (K, M, G), the rest waits\n"
		"  --sw-csum          the dmabuf is CPU-readable: verify sums in software\n"
		"  --release-tokens   return tokens by call, not through the refill ring\n"
		"  --try-buf-size N   (igb) first try binding N-byte buffers to queue 0 (which\n"
		"                     stays on host memory) and show the verdict; a refusal\n"
		"                     touches nothing\n"
		"  --tap-impair SPEC  the TAP NIC loses/dups/reorders/corrupts frames itself,\n"
		"                     e.g. loss=2,dup=2,reorder=5,corrupt=1 (where netem is missing)\n"
		"  --timeout S        give up after S seconds without progress (default 30); with\n"
		"                     --connections 0, reset a connection that long without progress\n"
		"  --quiet            summary only\n"
		"  --help\n\n"
		"Exit status: 0 when every byte arrived intact, 1 on a mismatch or loss, a reset\n"
		"or stalled connection, fewer UDP bytes than --bytes, or a run cut short by a\n"
		"signal (--connections 0: a signal while a connection is open), 2 on bad options\n"
		"or setup errors (all found before listening).\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	/* Decimal only: no sign, no 0x, no leading 0 read as octal. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* What an option takes, for the error message. */
static const char *range_of(int c)
{
	switch (c) {
	case 'n': return "1 to 1024 queues";
	case 'q': return "a queue index below 1024";
	case 'l': return "a queue index below 1024, or -1 for none";
	case 'B': return "a power of two from 256 to 65536";
	case 'p': return "a decimal port, 0 to 65535";
	case 'L': return "a decimal port, 1 to 65535";
	case 'N': return "0 (no limit) to 1000000 connections";
	case 'T': return "seconds, 1 to 86400";
	case 'H': return "seconds, 0 to 86400";
	case 's': return "1 to 8900 bytes";
	case 'v': return "2 to 256";
	case 'K': return "0 to 1048576 tokens";
	case 'k': return "1 to 86400000 ms";
	case 'j': return "1 to 1000 probes";
	case 'X': return "up to 8 queue indexes below 1024, e.g. 1,2";
	case 'R': return "a rate such as 4M (bytes per second)";
	case 'b': return "a size such as 64M";
	case 'P': return "1 to 8 threads";
	case 'M': return "an MTU from 68 to 9000";
	case 'Y': return "a power of two from 256 to 65536";
	default: return "a whole number";
	}
}

int parse_options(int argc, char **argv, struct options *o)
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
		{ "timeout", required_argument, NULL, 'T' },
		{ "listen", required_argument, NULL, 'L' },
		{ "udp", no_argument, NULL, 'U' },
		{ "addr4", required_argument, NULL, '4' },
		{ "addr6", required_argument, NULL, '6' },
		{ "out", required_argument, NULL, 'o' },
		{ "validate", required_argument, NULL, 'v' },
		{ "connections", required_argument, NULL, 'N' },
		{ "listen-queues", required_argument, NULL, 'X' },
		{ "hold-tokens", required_argument, NULL, 'K' },
		{ "consume-rate", required_argument, NULL, 'R' },
		{ "sw-csum", no_argument, NULL, 'S' },
		{ "release-tokens", no_argument, NULL, 'r' },
		{ "tap-impair", required_argument, NULL, 'I' },
		{ "pollers", required_argument, NULL, 'P' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "keepalive-probes", required_argument, NULL, 'j' },
		{ "try-buf-size", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint32_t v;
	int c, li = -1;

	*o = (struct options){ .dmabuf = "auto:16M", .flow = "tcp4", .queues = 4,
			       .queue = 1, .payload = 1448, .buf_size = 4096,
			       .lesser_queue = -2, .port = 5201, .bytes = 256ull << 20,
			       .timeout = 30 };
	o->connections = 1;
	while ((li = -1, c = getopt_long(argc, argv, "hv:", longopts, &li)) != -1) {
		switch (c) {
		case 'U': o->udp = true; break;
		case '4': o->addr4 = optarg; break;
		case '6': o->addr6 = optarg; break;
		case 'o': o->out = optarg; break;
		case 'S': o->sw_csum = true; break;
		case 'r': o->release_syscall = true; break;
		case 'I': o->tap_impair = optarg; break;
		case 'R':
			if (nm_parse_size(optarg, &o->consume_rate))
				goto bad;
			break;
		case 'X': {
			char *save = NULL, *tok, list[64];

			if (strlen(optarg) >= sizeof(list))
				goto bad;
			strcpy(list, optarg);
			o->num_listen_queues = 0;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o->num_listen_queues == 8 || parse_u32(tok, &v) || v >= 1024)
					goto bad;
				o->listen_queues[o->num_listen_queues++] = v;
			}
			if (!o->num_listen_queues)
				goto bad;
			break;
		}
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
			if (parse_u32(optarg, &v) || v >= 1024)
				goto bad;  /* a queue index: no device has more */
			o->lesser_queue = (int)v;
			break;
		default:
			if (!optarg || parse_u32(optarg, &v))
				goto bad;
			if (c == 'n' && v >= 1 && v <= 1024) o->queues = v;
			else if (c == 'q' && v < 1024) o->queue = v;
			else if (c == 'p' && v <= 65535) o->port = (uint16_t)v;
			else if (c == 's' && v && v <= 8900) o->payload = v;
			else if (c == 'B' && v >= 256 && v <= 65536 && !(v & (v - 1)))
				o->buf_size = v;
			else if (c == 'H' && v <= 86400) o->hold = v;
			else if (c == 'T' && v && v <= 86400) o->timeout = v;
			else if (c == 'L' && v && v <= 65535) o->listen = (uint16_t)v;
			else if (c == 'v' && v >= 2 && v <= 256) o->validate = v;
			else if (c == 'N' && v <= 1000000) o->connections = v;
			else if (c == 'P' && v && v <= 8) o->pollers = v;
			else if (c == 'K' && v <= 1048576) o->hold_tokens = v;
			else if (c == 'k' && v && v <= 86400000) o->keepalive_ms = v;
			else if (c == 'j' && v && v <= 1000) o->keepalive_probes = v;
			else if (c == 'M' && v >= 68 && v <= 9000) o->mtu = v;
			else if (c == 'Y' && v >= 256 && v <= 65536 && !(v & (v - 1)))
				o->try_buf_size = v;
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
	if (o->dev && strncmp(o->dev, "igb:", 4) && strncmp(o->dev, "tap:", 4)) {
		fprintf(stderr, "netmem-rx: --dev %s: igb:BDF (Intel 82576) or tap:IFNAME[,create][,no-offload]\n",
			o->dev);
		return -EINVAL;
	}
	if (o->dev && !strncmp(o->dev, "tap:", 4)) {
		const char *comma = strchr(o->dev + 4, ',');
		size_t nlen = comma ? (size_t)(comma - o->dev - 4) : strlen(o->dev + 4);
		bool flags_ok = !comma || !strcmp(comma, ",create") ||
				!strcmp(comma, ",no-offload") ||
				!strcmp(comma, ",create,no-offload");

		if (!flags_ok || !nlen || nlen > 15) {
			fprintf(stderr, "netmem-rx: --dev %s: tap:IFNAME[,create][,no-offload], "
				"IFNAME of 1 to 15 characters\n", o->dev);
			return -EINVAL;
		}
	}
	if ((o->keepalive_ms || o->keepalive_probes) && !o->listen) {
		fprintf(stderr, "netmem-rx: --keepalive%s needs --listen PORT\n",
			o->keepalive_ms ? "" : "-probes");
		return -EINVAL;
	}
	if (o->dev && !o->listen) {
		fprintf(stderr, "netmem-rx: --dev %s needs --listen PORT (without --listen "
			"the software NIC is the sender)\n", o->dev);
		return -EINVAL;
	}
	if ((o->mtu || o->try_buf_size) && (!o->dev || strncmp(o->dev, "igb:", 4))) {
		fprintf(stderr, "netmem-rx: --%s is for --dev igb:BDF\n",
			o->mtu ? "mtu" : "try-buf-size");
		return -EINVAL;
	}
	if (o->try_buf_size && !o->listen) {
		fprintf(stderr, "netmem-rx: --try-buf-size needs --listen PORT\n");
		return -EINVAL;
	}
	if (!o->num_listen_queues) {
		o->listen_queues[0] = o->queue;
		o->num_listen_queues = 1;
	}
	if (!o->payload || o->payload > 8900) {
		fprintf(stderr, "netmem-rx: --payload must be 1..8900\n");
		return -EINVAL;
	}
	/* A payload lands in one dmabuf buffer: a bigger one is dropped,
	 * every frame of the run. (A listener's peers send what its MSS,
	 * clamped to the buffer size, allows.) */
	if (!o->listen && o->payload > o->buf_size) {
		fprintf(stderr, "netmem-rx: --payload %u does not fit one %u-byte buffer "
			"(--buf-size): every frame would be dropped\n", o->payload, o->buf_size);
		return -EINVAL;
	}
	return 0;
bad:
	/* getopt_long names the option it matched: never guess from argv,
	 * whose last word may be the value ("--queue=9" or "--queue 9"). */
	fprintf(stderr, "netmem-rx: bad value for --%s: '%s' (%s; see --help)\n",
		li >= 0 ? longopts[li].name : "?", optarg ? optarg : "", range_of(c));
	return -EINVAL;
}

