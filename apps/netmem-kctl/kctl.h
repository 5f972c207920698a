/* SPDX-License-Identifier: MIT */
/*
 * netmem-kctl: control, checks and benchmarks for netmem_kmod
 * (kmod/include/uapi/netmem_kmod.h) and for the kernel's own devmem path on
 * the module's virtual NIC (netdev netlink bind-rx).
 */
#ifndef NETMEM_KCTL_H
#define NETMEM_KCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netmem_kmod.h>

/* ---- kdev.c: the module's device and the things a test needs ------------- */

struct kdev {
	int fd;                  /* /dev/netmem-kmod */
	struct nmk_info info;
};

/* Open the control device; -errno (with a message on stderr) when absent. */
int kdev_open(struct kdev *kd);
void kdev_close(struct kdev *kd);
int kdev_info(struct kdev *kd);
int kdev_queue(struct kdev *kd, uint32_t idx, struct nmk_queue *q);
/* Each returns 0 or -errno; the argument holds the reason on failure. */
int kdev_bind(struct kdev *kd, struct nmk_bind *b);
int kdev_unbind(struct kdev *kd, struct nmk_unbind *u);
int kdev_bench(struct kdev *kd, struct nmk_bench *b);

/* Set or clear IFF_UP on @ifname. */
int link_set_up(const char *ifname, bool up);

/* A udmabuf of @bytes over a sealed memfd, pages faulted in; returns the
 * dmabuf fd or -errno. *memfd_out (may be NULL) gets the memfd. */
int udmabuf_create(uint64_t bytes, int *memfd_out);
/* The same over @huge 2 MiB hugetlb pages (physically contiguous runs, which
 * buffers larger than a page need); @bytes rounded up to 2 MiB. */
int udmabuf_create_huge(uint64_t bytes, int *memfd_out, bool huge);
/* Free memory in bytes: MemFree plus the pages on per-cpu lists. */
uint64_t mem_free_bytes(void);
/* /sys/module/netmem_kmod/refcnt, or -1. */
long module_refcnt(void);

double now_us(void);
/* CPU seconds of this process (getrusage), of every CPU (/proc/stat busy). */
double cpu_self_s(void);
double cpu_all_s(void);

/* tcp_send.py's stream: byte i is block[i % PATTERN_LEN]; word k of the block
 * is splitmix64's k-th output, little-endian. PATTERN_LEN is no multiple of
 * a page, so a fragment placed at the wrong page cannot pass. */
#define PATTERN_WORDS 131071u
#define PATTERN_LEN   (PATTERN_WORDS * 8u)
void pattern_fill(uint8_t *blk);
/* A receiver's check of that stream: mismatches from stream offset off. */
struct stream_check {
	uint8_t *blk;            /* pattern_fill()ed, PATTERN_LEN bytes */
	uint64_t off, mismatches, first_bad;
};
void stream_check(struct stream_check *sc, const uint8_t *p, uint64_t len);
const char *caps_str(uint32_t caps, char *buf, size_t len);
const char *provider_str(uint32_t provider);
const char *check_str(uint32_t check);
int check_parse(const char *s, uint32_t *check);

/* ---- devmem_nl.c: the kernel's netdev netlink family ---------------------- */

struct devmem_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
	char ext_msg[256];       /* the kernel's extack message of the last error */
};

/* Open a socket and resolve the "netdev" family; -errno. */
int devmem_nl_open(struct devmem_nl *nl);
void devmem_nl_close(struct devmem_nl *nl);
/* bind-rx: @dmabuf_fd to RX queue @queue of @ifindex. The binding lives as
 * long as this socket. Returns 0 and *id, or -errno (ext_msg says why). */
int devmem_nl_bind_rx(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd,
		      uint32_t queue, uint32_t *id);
/* The same with rx-page-size @rx_page_size (7.3; 0: the attribute left out). */
int devmem_nl_bind_rx_page(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd,
			   uint32_t queue, uint32_t rx_page_size, uint32_t *id);
/* bind-tx (6.16+): @dmabuf_fd mapped for nmk0's transmit; lives as long as
 * this socket. Returns 0 and *id, or -errno (ext_msg says why). */
int devmem_nl_bind_tx(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd, uint32_t *id);
/* queue-get: the dmabuf id bound to RX queue @queue (0: none). */
int devmem_nl_queue_dmabuf(struct devmem_nl *nl, uint32_t ifindex,
			   uint32_t queue, uint32_t *dmabuf_id);

struct devmem_pool {
	uint64_t id;
	uint32_t dmabuf;         /* 0: host pages */
	uint64_t inflight;
};

/* page-pool-get dump: pools of @ifindex, up to @max; returns how many. */
int devmem_nl_pools(struct devmem_nl *nl, uint32_t ifindex,
		    struct devmem_pool *out, int max);

/* ethtool netlink rings set: tcp-data-split on or off; *msg the extack. */
int ethtool_nl_set_hds(const char *ifname, bool on, char *msg, size_t len);

/* ---- nic.c: ncdevmem's ethtool steps, through SIOCETHTOOL ----------------- */

/* A TCP/IPv4 rule: dst-port @dport to RX queue @queue; *loc its location. */
int nic_flow_add(const char *ifname, uint16_t dport, uint32_t queue, uint32_t *loc);
int nic_flow_del(const char *ifname, uint32_t loc);
/* RSS over queues 0..n-1 (ethtool -X IF equal N). */
int nic_rss_equal(const char *ifname, uint32_t n);

/* ---- rx.c: a TCP receiver, devmem or host memory -------------------------- */

struct rx_opts {
	uint32_t queue;          /* devmem: the queue bind-rx binds */
	uint16_t port;
	uint64_t size;           /* udmabuf bytes */
	uint64_t expect;         /* stream bytes the sender sends */
	uint32_t hold;           /* tokens kept at the end, then unbind + close */
	uint32_t batch;          /* tokens collected before giving them back */
	uint32_t timeout_s;      /* for the connection */
	uint32_t rx_page_size;   /* devmem: bind-rx's rx-page-size (0: none) */
	bool huge;               /* devmem: the udmabuf over hugetlb pages */
	bool host;
};

int kctl_rx(struct kdev *kd, const struct rx_opts *o);

/* A TCP listener on @port (any address); fd or -errno. */
int listen_on(uint16_t port);
/* One connection on it within @timeout_s: fd, or -1 (said why). */
int accept_within(int lsock, uint32_t timeout_s, const char *who);

/* ---- zcrx.c: io_uring zero-copy receive (7.3) ----------------------------- */

/* The same stream through IORING_OP_RECV_ZC: a udmabuf area (or host memory
 * with o->host), o->rx_page_size as rx_buf_len; 77 without the 7.3 header. */
int kctl_zcrx(struct kdev *kd, const struct rx_opts *o);

/* ---- tx.c: a TCP sender, devmem TX or host memory ------------------------ */

struct tx_opts {
	const char *addr;        /* the receiver's IPv4 address */
	const char *dev;         /* send through this device (default: nmk0) */
	uint16_t port;
	uint64_t size;           /* udmabuf bytes */
	uint64_t bytes;          /* stream bytes to send */
	uint64_t chunk;          /* bytes per sendmsg */
	uint32_t timeout_s;
	bool host;
};

int kctl_tx(struct kdev *kd, const struct tx_opts *o);

/* ---- checks.c / bench.c --------------------------------------------------- */

struct kctl_opts {
	uint64_t size;           /* dmabuf bytes */
	uint32_t buf_size;
	uint32_t reps;           /* bind/unbind repetitions */
	bool csv;
};

int kctl_check(const char *what, const struct kctl_opts *o);
int kctl_bench(const struct kctl_opts *o);

#endif
