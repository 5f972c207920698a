/* SPDX-License-Identifier: MIT */
/*
 * A small client of the kernel's "netdev" generic netlink family: bind-rx,
 * bind-tx (6.16+), queue-get and page-pool-get, what `ynl --family netdev` does, so the
 * kernel's own devmem path can run on the module's virtual NIC. Raw netlink,
 * no library.
 *
 * The numbers below are the family's UAPI (include/uapi/linux/netdev.h,
 * Linux 6.12), spelled out here because the build machine's linux-libc-dev
 * may predate bind-rx.
 */
#include <errno.h>
#include <stdbool.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kctl.h"

enum {
	NETDEV_CMD_PAGE_POOL_GET_ = 5,
	NETDEV_CMD_QUEUE_GET_ = 10,
	NETDEV_CMD_BIND_RX_ = 13,
	NETDEV_CMD_BIND_TX_ = 15,   /* 6.16 */
};
enum { NETDEV_A_PAGE_POOL_ID_ = 1, NETDEV_A_PAGE_POOL_IFINDEX_ = 2,
       NETDEV_A_PAGE_POOL_INFLIGHT_ = 4, NETDEV_A_PAGE_POOL_DMABUF_ = 7 };
enum { NETDEV_A_QUEUE_ID_ = 1, NETDEV_A_QUEUE_IFINDEX_ = 2,
       NETDEV_A_QUEUE_TYPE_ = 3, NETDEV_A_QUEUE_DMABUF_ = 5 };
enum { NETDEV_A_DMABUF_IFINDEX_ = 1, NETDEV_A_DMABUF_QUEUES_ = 2,
       NETDEV_A_DMABUF_FD_ = 3, NETDEV_A_DMABUF_ID_ = 4,
       NETDEV_A_DMABUF_RX_PAGE_SIZE_ = 5 };
enum { NETDEV_QUEUE_TYPE_RX_ = 0 };

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlreq {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[512];
};

static void req_init(struct devmem_nl *nl, struct nlreq *r, uint16_t type,
		     uint8_t cmd, uint16_t flags)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = NLM_F_REQUEST | flags;
	r->n.nlmsg_seq = ++nl->seq;
	r->g.cmd = cmd;
	r->g.version = 1;
}

/* GCC cannot follow the offset arithmetic into attrs[] and warns falsely;
 * clang has no such warning (and -Werror refuses the unknown option). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
static struct nlattr *put(struct nlreq *r, uint16_t type, const void *data,
			  uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)&r->n + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static void put_u32(struct nlreq *r, uint16_t type, uint32_t v)
{
	put(r, type, &v, sizeof(v));
}

static void nest_end(struct nlreq *r, struct nlattr *start)
{
	start->nla_len = (uint16_t)((char *)&r->n + r->n.nlmsg_len - (char *)start);
}

/* Call @cb for each attribute of the genetlink message @n. */
static void for_each_attr(const struct nlmsghdr *n,
			  void (*cb)(const struct nlattr *, void *), void *arg)
{
	const struct nlattr *a = (const void *)((const char *)NLMSG_DATA(n) + GENL_HDRLEN);
	int rem = (int)n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	while (rem >= (int)NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
		cb(a, arg);
		rem -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static const void *attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

/* YNL "uint": 4 or 8 bytes. */
static uint64_t attr_uint(const struct nlattr *a)
{
	uint64_t v64 = 0;
	uint32_t v32 = 0;

	if (a->nla_len - NLA_HDRLEN >= 8) {
		memcpy(&v64, attr_data(a), 8);
		return v64;
	}
	memcpy(&v32, attr_data(a), 4);
	return v32;
}

/* The extack message of an error, when the kernel sent one. */
static void read_ext_msg(struct devmem_nl *nl, const struct nlmsghdr *n)
{
	const struct nlmsgerr *e = NLMSG_DATA(n);
	const struct nlattr *a;
	int rem;

	nl->ext_msg[0] = '\0';
	if (!(n->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	a = (const void *)((const char *)e + sizeof(*e));
	if (!(n->nlmsg_flags & NLM_F_CAPPED))
		a = (const void *)((const char *)a + NLMSG_ALIGN(e->msg.nlmsg_len) -
				   sizeof(e->msg));
	rem = (int)n->nlmsg_len - (int)((const char *)a - (const char *)n);
	while (rem >= (int)NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
		if (a->nla_type == NLMSGERR_ATTR_MSG) {
			snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN), (const char *)attr_data(a));
			return;
		}
		rem -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

/*
 * Send @r and read replies until its ack or the end of a dump; @cb sees each
 * data message. Returns 0 or the kernel's -errno.
 */
static int transact(struct devmem_nl *nl, struct nlreq *r,
		    void (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	static char buf[32768];
	uint32_t seq = r->n.nlmsg_seq;

	nl->ext_msg[0] = '\0';
	if (send(nl->fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *n;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (n = (void *)buf; NLMSG_OK(n, (unsigned int)len); n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != seq)
				continue;
			if (n->nlmsg_type == NLMSG_DONE)
				return 0;
			if (n->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(n);

				if (e->error)
					read_ext_msg(nl, n);
				return e->error;
			}
			if (cb)
				cb(n, arg);
		}
	}
}

static void family_cb(const struct nlattr *a, void *arg)
{
	if (a->nla_type == CTRL_ATTR_FAMILY_ID)
		memcpy(arg, attr_data(a), sizeof(uint16_t));
}

static void family_msg(const struct nlmsghdr *n, void *arg)
{
	for_each_attr(n, family_cb, arg);
}

static int nl_open_family(struct devmem_nl *nl, const char *family)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, ret;
	struct nlreq r;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto err;
	}
	req_init(nl, &r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	put(&r, CTRL_ATTR_FAMILY_NAME, family, (uint16_t)(strlen(family) + 1));
	ret = transact(nl, &r, family_msg, &nl->family);
	if (!ret && !nl->family)
		ret = -ENOENT;
	if (ret)
		goto err;
	return 0;
err:
	close(nl->fd);
	nl->fd = -1;
	return ret;
}

int devmem_nl_open(struct devmem_nl *nl)
{
	return nl_open_family(nl, "netdev");
}

/*
 * ethtool's netlink family, for what its ioctl cannot carry: rings set with
 * tcp-data-split (`ethtool -G IF tcp-data-split on|off`). Numbers from
 * include/uapi/linux/ethtool_netlink.h (6.12).
 */
enum { ETHTOOL_MSG_RINGS_SET_ = 16 };
enum { ETHTOOL_A_HEADER_DEV_NAME_ = 2 };
enum { ETHTOOL_A_RINGS_HEADER_ = 1, ETHTOOL_A_RINGS_TCP_DATA_SPLIT_ = 11 };
enum { ETHTOOL_TCP_DATA_SPLIT_DISABLED_ = 1, ETHTOOL_TCP_DATA_SPLIT_ENABLED_ = 2 };

int ethtool_nl_set_hds(const char *ifname, bool on, char *msg, size_t len)
{
	uint8_t v = on ? ETHTOOL_TCP_DATA_SPLIT_ENABLED_ : ETHTOOL_TCP_DATA_SPLIT_DISABLED_;
	struct devmem_nl nl;
	struct nlattr *nest;
	struct nlreq r;
	int ret;

	msg[0] = '\0';
	ret = nl_open_family(&nl, "ethtool");
	if (ret) {
		snprintf(msg, len, "ethtool netlink family: %s", strerror(-ret));
		return ret;
	}
	req_init(&nl, &r, nl.family, ETHTOOL_MSG_RINGS_SET_, NLM_F_ACK);
	nest = put(&r, ETHTOOL_A_RINGS_HEADER_ | NLA_F_NESTED, NULL, 0);
	put(&r, ETHTOOL_A_HEADER_DEV_NAME_, ifname, (uint16_t)(strlen(ifname) + 1));
	nest_end(&r, nest);
	put(&r, ETHTOOL_A_RINGS_TCP_DATA_SPLIT_, &v, 1);
	ret = transact(&nl, &r, NULL, NULL);
	if (ret)
		snprintf(msg, len, "%s", nl.ext_msg);
	devmem_nl_close(&nl);
	return ret;
}

void devmem_nl_close(struct devmem_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

static void u32_cb(const struct nlattr *a, void *arg)
{
	uint32_t *want = arg;   /* [0] attribute type, [1] value */

	if (a->nla_type == want[0])
		memcpy(&want[1], attr_data(a), sizeof(uint32_t));
}

static void u32_msg(const struct nlmsghdr *n, void *arg)
{
	for_each_attr(n, u32_cb, arg);
}

int devmem_nl_bind_rx(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd,
		      uint32_t queue, uint32_t *id)
{
	return devmem_nl_bind_rx_page(nl, ifindex, dmabuf_fd, queue, 0, id);
}

int devmem_nl_bind_rx_page(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd,
			   uint32_t queue, uint32_t rx_page_size, uint32_t *id)
{
	uint32_t want[2] = { NETDEV_A_DMABUF_ID_, 0 };
	struct nlattr *nest;
	struct nlreq r;
	int ret;

	req_init(nl, &r, nl->family, NETDEV_CMD_BIND_RX_, NLM_F_ACK);
	put_u32(&r, NETDEV_A_DMABUF_IFINDEX_, ifindex);
	put_u32(&r, NETDEV_A_DMABUF_FD_, (uint32_t)dmabuf_fd);
	nest = put(&r, NETDEV_A_DMABUF_QUEUES_ | NLA_F_NESTED, NULL, 0);
	put_u32(&r, NETDEV_A_QUEUE_ID_, queue);
	put_u32(&r, NETDEV_A_QUEUE_TYPE_, NETDEV_QUEUE_TYPE_RX_);
	nest_end(&r, nest);
	if (rx_page_size)       /* 7.3: NETDEV_A_DMABUF_RX_PAGE_SIZE */
		put_u32(&r, NETDEV_A_DMABUF_RX_PAGE_SIZE_, rx_page_size);
	ret = transact(nl, &r, u32_msg, want);
	if (!ret && id)
		*id = want[1];
	return ret;
}

int devmem_nl_bind_tx(struct devmem_nl *nl, uint32_t ifindex, int dmabuf_fd, uint32_t *id)
{
	uint32_t want[2] = { NETDEV_A_DMABUF_ID_, 0 };
	struct nlreq r;
	int ret;

	req_init(nl, &r, nl->family, NETDEV_CMD_BIND_TX_, NLM_F_ACK);
	put_u32(&r, NETDEV_A_DMABUF_IFINDEX_, ifindex);
	put_u32(&r, NETDEV_A_DMABUF_FD_, (uint32_t)dmabuf_fd);
	ret = transact(nl, &r, u32_msg, want);
	if (!ret && id)
		*id = want[1];
	return ret;
}

int devmem_nl_queue_dmabuf(struct devmem_nl *nl, uint32_t ifindex,
			   uint32_t queue, uint32_t *dmabuf_id)
{
	uint32_t want[2] = { NETDEV_A_QUEUE_DMABUF_, 0 };
	struct nlreq r;
	int ret;

	req_init(nl, &r, nl->family, NETDEV_CMD_QUEUE_GET_, NLM_F_ACK);
	put_u32(&r, NETDEV_A_QUEUE_IFINDEX_, ifindex);
	put_u32(&r, NETDEV_A_QUEUE_ID_, queue);
	put_u32(&r, NETDEV_A_QUEUE_TYPE_, NETDEV_QUEUE_TYPE_RX_);
	ret = transact(nl, &r, u32_msg, want);
	if (!ret)
		*dmabuf_id = want[1];
	return ret;
}

struct pool_dump {
	uint32_t ifindex;
	struct devmem_pool *out;
	int max, n;
	struct devmem_pool cur;
	uint32_t cur_ifindex;
};

static void pool_cb(const struct nlattr *a, void *arg)
{
	struct pool_dump *d = arg;

	switch (a->nla_type) {
	case NETDEV_A_PAGE_POOL_ID_: d->cur.id = attr_uint(a); break;
	case NETDEV_A_PAGE_POOL_IFINDEX_: memcpy(&d->cur_ifindex, attr_data(a), 4); break;
	case NETDEV_A_PAGE_POOL_INFLIGHT_: d->cur.inflight = attr_uint(a); break;
	case NETDEV_A_PAGE_POOL_DMABUF_: memcpy(&d->cur.dmabuf, attr_data(a), 4); break;
	}
}

static void pool_msg(const struct nlmsghdr *n, void *arg)
{
	struct pool_dump *d = arg;

	memset(&d->cur, 0, sizeof(d->cur));
	d->cur_ifindex = 0;
	for_each_attr(n, pool_cb, d);
	if (d->cur_ifindex == d->ifindex && d->n < d->max)
		d->out[d->n++] = d->cur;
}

int devmem_nl_pools(struct devmem_nl *nl, uint32_t ifindex,
		    struct devmem_pool *out, int max)
{
	struct pool_dump d = { .ifindex = ifindex, .out = out, .max = max };
	struct nlreq r;
	int ret;

	req_init(nl, &r, nl->family, NETDEV_CMD_PAGE_POOL_GET_, NLM_F_DUMP);
	ret = transact(nl, &r, pool_msg, &d);
	return ret ? ret : d.n;
}
