/* SPDX-License-Identifier: MIT */
/*
 * netmem-kctl: the user side of netmem_kmod.
 *
 *   netmem-kctl info                     module, NIC and live objects
 *   netmem-kctl queues                   every RX queue: flags, provider, counters
 *   netmem-kctl up | down                set the virtual NIC's link
 *   netmem-kctl bind -q Q [-s MiB] [-b BYTES] [-c MODE] [-t SECONDS]
 *                                        bind a new udmabuf through the module
 *   netmem-kctl bind-rx -q Q [-s MiB] [-t SECONDS] [--rx-page-size BYTES] [--huge]
 *                                        the same through the kernel (netlink);
 *                                        7.3: buffers of BYTES (a udmabuf on
 *                                        hugetlb pages with --huge)
 *   netmem-kctl check alloc|refuse|bad-input|devmem|all [-s MiB] [-b BYTES]
 *   netmem-kctl bench [-s MiB] [-b BYTES] [-r REPS]
 *   netmem-kctl hds on|off               ethtool -G nmk0 tcp-data-split on|off
 *   netmem-kctl flow -p PORT -q Q        ethtool -N nmk0 flow-type tcp4 dst-port PORT action Q
 *   netmem-kctl flow-del -l LOC          ethtool -N nmk0 delete LOC
 *   netmem-kctl rss-equal N              ethtool -X nmk0 equal N
 *   netmem-kctl rxstats                  every RX queue's datapath counters
 *   netmem-kctl txstats                  nmk0's transmit: payload read from DMA addresses
 *   netmem-kctl pools                    the kernel's page pools on nmk0 (page-pool-get)
 *   netmem-kctl rx -p PORT -n BYTES [-q Q] [-s MiB] [--host] [--keep-tokens N] [--batch N] [-w S]
 *                  [--rx-page-size BYTES] [--huge]
 *   netmem-kctl zcrx -p PORT -n BYTES [-q Q] [-s MiB] [--host] [--rx-page-size BYTES] [--huge] [-w S]
 *                                        the same stream through io_uring zcrx (7.3):
 *                                        a udmabuf area (host memory with --host)
 *                                        receive a tcp_send.py stream: devmem TCP
 *                                        (bind-rx of a udmabuf to Q) or host memory
 *   netmem-kctl tx -a ADDR -p PORT -n BYTES [-s MiB] [--chunk BYTES] [--host] [--dev IF] [-w S]
 *                                        send that stream: devmem TX (bind-tx of a
 *                                        udmabuf, MSG_ZEROCOPY) or host memory
 *
 * MODE: check-first (default), check-after-alloc, check-after-restart.
 * A binding lives while the command runs (-t keeps it that long).
 * Exit status of check/bench: 0 passed, 1 failed, 77 module or udmabuf absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

static void usage(FILE *f)
{
	fputs("usage: netmem-kctl info | queues | up | down\n"
	      "       netmem-kctl bind -q QUEUE [-s MiB] [-b BYTES] [-c MODE] [-t SECONDS]\n"
	      "       netmem-kctl bind-rx -q QUEUE [-s MiB] [-t SECONDS] [--rx-page-size BYTES] [--huge]\n"
	      "       netmem-kctl check alloc|refuse|bad-input|devmem|all [-s MiB] [-b BYTES]\n"
	      "       netmem-kctl bench [-s MiB] [-b BYTES] [-r REPS]\n"
	      "       netmem-kctl hds on|off | flow -p PORT -q QUEUE | flow-del -l LOC | rss-equal N | rxstats | txstats | pools\n"
	      "       netmem-kctl rx -p PORT -n BYTES [-q QUEUE] [-s MiB] [--host] [--keep-tokens N] [--batch N] [-w SECONDS]\n"
	      "                      [--rx-page-size BYTES] [--huge]\n"
	      "       netmem-kctl zcrx -p PORT -n BYTES [-q QUEUE] [-s MiB] [--host] [--rx-page-size BYTES] [--huge] [-w SECONDS]\n"
	      "       netmem-kctl tx -a ADDR -p PORT -n BYTES [-s MiB] [--chunk BYTES] [--host] [--dev IF] [-w SECONDS]\n"
	      "MODE: check-first | check-after-alloc | check-after-restart\n", f);
}

static void print_info(const struct kdev *kd)
{
	const struct nmk_info *in = &kd->info;

	printf("module ABI %u: %s (ifindex %u), %u RX queues, ring %u, pool %u, page %u\n",
	       in->abi_version, in->ifname, in->ifindex, in->num_rx_queues, in->ring_size,
	       in->pool_size, in->page_size);
	printf("descriptor: %u bytes (kernel struct net_iov: %u)\n", in->sizeof_net_iov,
	       in->sizeof_kernel_net_iov);
	printf("peer: %s (ifindex %u at creation), tcp-data-split %s, dma identity: %s\n",
	       in->peer_ifname, in->peer_ifindex, in->tcp_data_split ? "on" : "off",
	       in->dma_identity ? "yes" : "no (payload into net_iovs is dropped)");
	printf("live: %llu bindings, %llu kmod pools, %llu net_iovs out, %llu kernel devmem pools; "
	       "%llu bindings freed, %llu net_iovs found not back\n",
	       (unsigned long long)in->live_bindings, (unsigned long long)in->live_pools,
	       (unsigned long long)in->bufs_out, (unsigned long long)in->kernel_devmem_pools,
	       (unsigned long long)in->bindings_freed, (unsigned long long)in->free_errors);
}

/* Like `ynl --family netdev --dump queue-get`, with the flags. */
static void print_queues(struct kdev *kd)
{
	char caps[48];

	printf("%-5s %-31s %-14s %-7s %6s %8s %7s %7s %9s  %s\n", "queue", "flags", "provider",
	       "binding", "ring", "restarts", "refused", "rollbk", "callbacks", "memory");
	for (uint32_t i = 0; i < kd->info.num_rx_queues; i++) {
		struct nmk_queue q;

		if (kdev_queue(kd, i, &q))
			continue;
		printf("%-5u %-31s %-14s %-7u %6u %8llu %7llu %7llu %9llu  %s\n", i,
		       caps_str(q.caps, caps, sizeof(caps)), provider_str(q.provider),
		       q.binding_id, q.ring_fill, (unsigned long long)q.counters.restarts,
		       (unsigned long long)q.counters.refused,
		       (unsigned long long)q.counters.rollbacks,
		       (unsigned long long)callbacks(&q.counters), q.provider_desc);
	}
}

static int cmd_bind(struct kdev *kd, bool kernel, uint32_t queue, uint32_t check,
		    const struct kctl_opts *o, const struct rx_opts *rxo, unsigned int hold)
{
	int fd = udmabuf_create_huge(o->size, NULL, rxo->huge), ret;

	if (fd < 0) {
		fprintf(stderr, "netmem-kctl: udmabuf: %s\n", strerror(-fd));
		return 1;
	}
	if (kernel) {
		struct devmem_nl nl;
		uint32_t id = 0;

		ret = devmem_nl_open(&nl);
		if (!ret)
			ret = devmem_nl_bind_rx_page(&nl, kd->info.ifindex, fd, queue,
						     rxo->rx_page_size, &id);
		if (ret) {
			fprintf(stderr, "netmem-kctl: bind-rx: %s%s%s\n", strerror(-ret),
				nl.ext_msg[0] ? ": " : "", nl.ext_msg);
			return 1;
		}
		printf("kernel devmem binding %u on %s queue %u, rx-page-size %u\n", id,
		       kd->info.ifname, queue, rxo->rx_page_size ? rxo->rx_page_size : 4096);
		print_queues(kd);
		sleep(hold);
		devmem_nl_close(&nl);
	} else {
		struct nmk_bind b = { .dmabuf_fd = fd, .queue = queue,
				      .buf_size = o->buf_size, .check = check };

		ret = kdev_bind(kd, &b);
		if (ret) {
			fprintf(stderr, "netmem-kctl: bind: %s: %s\n", strerror(-ret), b.reason);
			print_queues(kd);
			return 1;
		}
		printf("binding %u on %s queue %u: %u buffers, %u DMA segments in %u runs, %.1f us\n",
		       b.id, kd->info.ifname, queue, b.num_bufs, b.sg_nents, b.dma_runs,
		       b.elapsed_ns / 1e3);
		print_queues(kd);
		sleep(hold);
	}
	close(fd);
	return 0;
}

/* Every kernel page pool of nmk0 with what it still has out (page-pool-get). */
static int print_pools(struct kdev *kd)
{
	struct devmem_pool pools[64];
	struct devmem_nl nl;
	int n, ret;

	ret = devmem_nl_open(&nl);
	if (ret) {
		fprintf(stderr, "netmem-kctl: netdev netlink: %s\n", strerror(-ret));
		return 1;
	}
	n = devmem_nl_pools(&nl, kd->info.ifindex, pools, 64);
	devmem_nl_close(&nl);
	if (n < 0) {
		fprintf(stderr, "netmem-kctl: page-pool-get: %s\n", strerror(-n));
		return 1;
	}
	printf("%d page pools on %s\n", n, kd->info.ifname);
	for (int i = 0; i < n; i++)
		printf("pool %llu: %s, %llu in flight\n", (unsigned long long)pools[i].id,
		       pools[i].dmabuf ? "dmabuf" : "host pages",
		       (unsigned long long)pools[i].inflight);
	return 0;
}

static void print_rxstats(struct kdev *kd)
{
	printf("%-5s %9s %11s %9s %11s %11s %11s %8s %8s %8s %10s %9s\n", "queue", "packets",
	       "bytes", "split", "payload-dm", "payload-hst", "payload-kmd", "kmod-drp", "no-buf",
	       "backlog", "ring-alloc", "ns/alloc");
	for (uint32_t i = 0; i < kd->info.num_rx_queues; i++) {
		struct nmk_rxq_stats st = { .index = i };

		if (ioctl(kd->fd, NMK_IOC_RXQ_STATS, &st) < 0)
			continue;
		printf("%-5u %9llu %11llu %9llu %11llu %11llu %11llu %8llu %8llu %8llu %10llu %9.0f\n",
		       i, (unsigned long long)st.packets, (unsigned long long)st.bytes,
		       (unsigned long long)st.split, (unsigned long long)st.payload_devmem,
		       (unsigned long long)st.payload_host, (unsigned long long)st.payload_kmod,
		       (unsigned long long)st.kmod_dropped, (unsigned long long)st.drop_no_buf,
		       (unsigned long long)st.drop_backlog, (unsigned long long)st.ring_allocs,
		       st.ring_allocs ? (double)st.ring_alloc_ns / (double)st.ring_allocs : 0.0);
	}
}

int kctl_check(const char *what, const struct kctl_opts *o)
{
	static const char *const all[] = { "alloc", "refuse", "bad-input", "devmem" };
	struct tap t = { .name = what };
	struct kdev kd;
	int ret, fd;

	fd = open("/dev/udmabuf", 0);
	if (fd < 0) {
		fprintf(stderr, "netmem-kctl: SKIP: /dev/udmabuf: %s\n", strerror(errno));
		return 77;
	}
	close(fd);
	ret = kctl_setup(&kd, &t);
	if (ret == -ENOENT) {
		fprintf(stderr, "netmem-kctl: SKIP: netmem_kmod is not loaded\n");
		return 77;
	}
	if (ret)
		return tap_done(&t);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(what, "all") && strcmp(what, all[i]))
			continue;
		tap_note(&t, "check %s", all[i]);
		if (i == 0)
			check_alloc(&kd, &t, o);
		else if (i == 1)
			check_refuse(&kd, &t, o);
		else if (i == 2)
			check_bad_input(&kd, &t, o);
		else
			check_devmem(&kd, &t, o);
	}
	if (!t.n) {
		fprintf(stderr, "netmem-kctl: unknown check '%s'\n", what);
		return 2;
	}
	kdev_close(&kd);
	return tap_done(&t);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 's' },
		{ "buf-size", required_argument, NULL, 'b' },
		{ "check", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'n' },
		{ "loc", required_argument, NULL, 'l' },
		{ "wait", required_argument, NULL, 'w' },
		{ "host", no_argument, NULL, 'H' },
		{ "keep-tokens", required_argument, NULL, 'K' },
		{ "batch", required_argument, NULL, 'B' },
		{ "rx-page-size", required_argument, NULL, 'P' },
		{ "huge", no_argument, NULL, 'G' },
		{ "addr", required_argument, NULL, 'a' },
		{ "chunk", required_argument, NULL, 'C' },
		{ "dev", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct kctl_opts o = { .size = 16ull << 20, .buf_size = 4096, .reps = 5 };
	uint32_t queue = 0, check = NMK_CHECK_FIRST, loc = 0;
	struct rx_opts rxo = { .batch = 64, .timeout_s = 120 };
	struct tx_opts txo = { .chunk = 256 * 1024 };
	bool queue_set = false, size_set = false;
	unsigned int hold = 0;
	const char *cmd;
	struct kdev kd;
	int c, ret;

	/* Lines reach a log as they happen (tests watch for them). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	if (!strcmp(cmd, "check"))
		optind = 3;
	while ((c = getopt_long(argc, argv, "q:s:b:c:t:r:p:n:l:w:a:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'q': queue = (uint32_t)strtoul(optarg, NULL, 0); queue_set = true; break;
		case 'p': rxo.port = (uint16_t)strtoul(optarg, NULL, 0); break;
		case 'n': rxo.expect = strtoull(optarg, NULL, 0); break;
		case 'l': loc = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': rxo.timeout_s = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'H': rxo.host = true; break;
		case 'K': rxo.hold = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'B': rxo.batch = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': rxo.rx_page_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'G': rxo.huge = true; break;
		case 'a': txo.addr = optarg; break;
		case 'C': txo.chunk = strtoull(optarg, NULL, 0); break;
		case 'D': txo.dev = optarg; break;
		case 's': o.size = strtoull(optarg, NULL, 0) << 20; size_set = true; break;
		case 'b': o.buf_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'c':
			if (check_parse(optarg, &check)) {
				fprintf(stderr, "netmem-kctl: unknown check mode '%s'\n", optarg);
				return 2;
			}
			break;
		case 't': hold = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': o.reps = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.size) {
		fprintf(stderr, "netmem-kctl: -s needs at least 1 MiB\n");
		return 2;
	}

	if (!strcmp(cmd, "check")) {
		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		return kctl_check(argv[2], &o);
	}
	if (!strcmp(cmd, "bench"))
		return kctl_bench(&o);

	ret = kdev_open(&kd);
	if (ret)
		return 1;
	if (!strcmp(cmd, "info")) {
		print_info(&kd);
	} else if (!strcmp(cmd, "queues")) {
		print_queues(&kd);
	} else if (!strcmp(cmd, "up") || !strcmp(cmd, "down")) {
		ret = link_set_up(kd.info.ifname, !strcmp(cmd, "up"));
		if (ret)
			fprintf(stderr, "netmem-kctl: %s %s: %s\n", kd.info.ifname, cmd,
				strerror(-ret));
	} else if (!strcmp(cmd, "hds")) {
		char msg[256];

		if (optind >= argc || (strcmp(argv[optind], "on") && strcmp(argv[optind], "off"))) {
			usage(stderr);
			ret = 2;
		} else {
			ret = ethtool_nl_set_hds(kd.info.ifname, !strcmp(argv[optind], "on"), msg,
						 sizeof(msg));
			if (ret)
				fprintf(stderr, "netmem-kctl: %s tcp-data-split %s: %s%s%s\n",
					kd.info.ifname, argv[optind], strerror(-ret),
					msg[0] ? ": " : "", msg);
		}
	} else if (!strcmp(cmd, "flow")) {
		if (!rxo.port || !queue_set) {
			fprintf(stderr, "netmem-kctl: flow needs -p PORT and -q QUEUE\n");
			ret = 2;
		} else if ((ret = nic_flow_add(kd.info.ifname, rxo.port, queue, &loc))) {
			fprintf(stderr, "netmem-kctl: %s ntuple rule dst-port %u -> queue %u: %s\n",
				kd.info.ifname, rxo.port, queue, strerror(-ret));
		} else {
			printf("rule %u: %s tcp4 dst-port %u -> queue %u\n", loc, kd.info.ifname,
			       rxo.port, queue);
		}
	} else if (!strcmp(cmd, "flow-del")) {
		ret = nic_flow_del(kd.info.ifname, loc);
		if (ret)
			fprintf(stderr, "netmem-kctl: delete rule %u: %s\n", loc, strerror(-ret));
	} else if (!strcmp(cmd, "rss-equal")) {
		uint32_t n = optind < argc ? (uint32_t)strtoul(argv[optind], NULL, 0) : 0;

		ret = nic_rss_equal(kd.info.ifname, n);
		if (ret)
			fprintf(stderr, "netmem-kctl: %s RSS over %u queues: %s\n", kd.info.ifname,
				n, strerror(-ret));
	} else if (!strcmp(cmd, "rxstats")) {
		print_rxstats(&kd);
	} else if (!strcmp(cmd, "txstats")) {
		struct nmk_tx_stats st;

		ret = ioctl(kd.fd, NMK_IOC_TX_STATS, &st) < 0 ? -errno : 0;
		if (ret)
			fprintf(stderr, "netmem-kctl: tx stats: %s\n", strerror(-ret));
		else
			printf("tx: netmem_tx=%u packets=%llu dma_read=%llu frags_devmem=%llu "
			       "bytes_devmem=%llu frags_host=%llu bytes_host=%llu drop_nomem=%llu "
			       "drop_unmapped=%llu drop_other=%llu\n", st.netmem_tx,
			       (unsigned long long)st.packets, (unsigned long long)st.dma_read,
			       (unsigned long long)st.frags_devmem, (unsigned long long)st.bytes_devmem,
			       (unsigned long long)st.frags_host, (unsigned long long)st.bytes_host,
			       (unsigned long long)st.drop_nomem, (unsigned long long)st.drop_unmapped,
			       (unsigned long long)st.drop_other);
	} else if (!strcmp(cmd, "pools")) {
		ret = print_pools(&kd);
	} else if (!strcmp(cmd, "rx") || !strcmp(cmd, "zcrx")) {
		rxo.queue = queue;
		rxo.size = o.size;
		if (!rxo.port || !rxo.expect) {
			fprintf(stderr, "netmem-kctl: %s needs -p PORT and -n BYTES\n", cmd);
			ret = 2;
		} else {
			ret = !strcmp(cmd, "rx") ? kctl_rx(&kd, &rxo) : kctl_zcrx(&kd, &rxo);
			kdev_close(&kd);
			return ret;
		}
	} else if (!strcmp(cmd, "tx")) {
		txo.port = rxo.port;
		txo.bytes = rxo.expect;
		txo.host = rxo.host;
		txo.timeout_s = rxo.timeout_s;
		txo.size = size_set ? o.size : 4ull << 20;
		if (!txo.addr || !txo.port || !txo.bytes || !txo.chunk) {
			fprintf(stderr, "netmem-kctl: tx needs -a ADDR, -p PORT, -n BYTES (and --chunk > 0)\n");
			ret = 2;
		} else {
			ret = kctl_tx(&kd, &txo);
			kdev_close(&kd);
			return ret;
		}
	} else if (!strcmp(cmd, "bind") || !strcmp(cmd, "bind-rx")) {
		ret = cmd_bind(&kd, !strcmp(cmd, "bind-rx"), queue, check, &o, &rxo, hold);
	} else {
		usage(stderr);
		ret = 2;
	}
	kdev_close(&kd);
	return ret ? (ret == 2 ? 2 : 1) : 0;
}
