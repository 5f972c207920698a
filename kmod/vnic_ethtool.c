// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ethtool on the virtual NIC: what the kernel's ncdevmem configures on a
 * devmem NIC before it binds.
 *
 *  - rings: tcp-data-split on/off (`ethtool -G nmk0 tcp-data-split on`). It
 *    is the queues' header-split flag: off clears the flag on every queue,
 *    so a bind needing it is refused before any callback (check-first), and
 *    the kernel's bind-rx, which in 6.12 checks nothing about it, is refused
 *    by this driver's mem_alloc. Turning it off while a queue has a provider
 *    is refused (-EBUSY), as mainline's ethtool core later does.
 *  - ntuple rules (`ethtool -N nmk0 flow-type tcp4 dst-port P action Q`):
 *    TCP/UDP over IPv4/IPv6, addresses and ports under masks.
 *  - RSS (`ethtool -X nmk0 equal N`): an indirection table over the queues;
 *    frames no rule matches are spread by their flow hash.
 */
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/netdev_rx_queue.h>

#include "nm_kmod.h"

static struct nm_vnic *to_vnic(struct net_device *nd)
{
	return netdev_priv(nd);
}

void nm_vnic_steer_init(struct nm_vnic *dev)
{
	u32 i;

	spin_lock_init(&dev->steer_lock);
	for (i = 0; i < NM_RSS_INDIR; i++)
		dev->indir[i] = ethtool_rxfh_indir_default(i, dev->num_rx_queues);
}

void nm_vnic_apply_hds(struct nm_vnic *dev)
{
	u32 i;

	nm_assert_locked(dev->netdev);
	for (i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq *rxq = &dev->rxqs[i];

		rxq->caps = rxq->hw_caps;
		if (!dev->tcp_data_split)
			rxq->caps &= ~NM_RXQ_CAP_HEADER_SPLIT;
	}
}

/* ---- steering ----------------------------------------------------------- */

struct flow_key {
	u32 flow_type;          /* TCP_V4_FLOW, ... */
	__be32 src4, dst4;
	__be32 src6[4], dst6[4];
	__be16 sport, dport;
};

static bool parse_flow(const struct sk_buff *skb, struct flow_key *k)
{
	unsigned int off = ETH_HLEN;
	__be16 ports[2], *p;
	u8 proto;

	memset(k, 0, sizeof(*k));
	if (skb->protocol == htons(ETH_P_IP)) {
		struct iphdr _iph;
		const struct iphdr *iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);

		if (!iph || iph->ihl < 5)
			return false;
		proto = iph->protocol;
		k->src4 = iph->saddr;
		k->dst4 = iph->daddr;
		off += iph->ihl * 4;
		k->flow_type = proto == IPPROTO_TCP ? TCP_V4_FLOW : UDP_V4_FLOW;
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		struct ipv6hdr _ip6;
		const struct ipv6hdr *ip6 = skb_header_pointer(skb, off, sizeof(_ip6), &_ip6);

		if (!ip6)
			return false;
		proto = ip6->nexthdr;
		memcpy(k->src6, &ip6->saddr, 16);
		memcpy(k->dst6, &ip6->daddr, 16);
		off += sizeof(*ip6);
		k->flow_type = proto == IPPROTO_TCP ? TCP_V6_FLOW : UDP_V6_FLOW;
	} else {
		return false;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	p = skb_header_pointer(skb, off, sizeof(ports), ports);
	if (!p)
		return false;
	k->sport = p[0];
	k->dport = p[1];
	return true;
}

static bool masked_eq(const void *a, const void *b, const void *m, size_t n)
{
	const u8 *x = a, *y = b, *z = m;
	size_t i;

	for (i = 0; i < n; i++)
		if ((x[i] ^ y[i]) & z[i])
			return false;
	return true;
}

static bool rule_match(const struct ethtool_rx_flow_spec *fs, const struct flow_key *k)
{
	u32 type = fs->flow_type & ~(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);

	if (type != k->flow_type)
		return false;
	if (type == TCP_V4_FLOW || type == UDP_V4_FLOW) {
		const struct ethtool_tcpip4_spec *v = &fs->h_u.tcp_ip4_spec;
		const struct ethtool_tcpip4_spec *m = &fs->m_u.tcp_ip4_spec;

		return masked_eq(&v->ip4src, &k->src4, &m->ip4src, 4) &&
		       masked_eq(&v->ip4dst, &k->dst4, &m->ip4dst, 4) &&
		       masked_eq(&v->psrc, &k->sport, &m->psrc, 2) &&
		       masked_eq(&v->pdst, &k->dport, &m->pdst, 2);
	} else {
		const struct ethtool_tcpip6_spec *v = &fs->h_u.tcp_ip6_spec;
		const struct ethtool_tcpip6_spec *m = &fs->m_u.tcp_ip6_spec;

		return masked_eq(v->ip6src, k->src6, m->ip6src, 16) &&
		       masked_eq(v->ip6dst, k->dst6, m->ip6dst, 16) &&
		       masked_eq(&v->psrc, &k->sport, &m->psrc, 2) &&
		       masked_eq(&v->pdst, &k->dport, &m->pdst, 2);
	}
}

int nm_vnic_steer_rule(struct nm_vnic *dev, const struct sk_buff *skb)
{
	struct flow_key k;
	int q = -1;
	u32 i;

	if (!(dev->netdev->features & NETIF_F_NTUPLE) || !parse_flow(skb, &k))
		return -1;
	spin_lock(&dev->steer_lock);
	for (i = 0; i < NM_MAX_RULES; i++) {
		if (dev->rules[i].used && rule_match(&dev->rules[i].fs, &k)) {
			q = dev->rules[i].fs.ring_cookie;
			break;
		}
	}
	spin_unlock(&dev->steer_lock);
	return q;
}

/* ---- ethtool_ops -------------------------------------------------------- */

static void nm_get_drvinfo(struct net_device *nd, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, "netmem_kmod", sizeof(info->driver));
	strscpy(info->bus_info, "platform", sizeof(info->bus_info));
}

static void nm_get_ringparam(struct net_device *nd, struct ethtool_ringparam *ring,
			     struct kernel_ethtool_ringparam *kring,
			     struct netlink_ext_ack *extack)
{
	struct nm_vnic *dev = to_vnic(nd);

	ring->rx_max_pending = NM_MAX_RING;
	ring->rx_pending = dev->ring_size;
	kring->tcp_data_split = dev->tcp_data_split ? ETHTOOL_TCP_DATA_SPLIT_ENABLED :
						     ETHTOOL_TCP_DATA_SPLIT_DISABLED;
}

static bool queue_bound(struct nm_vnic *dev, u32 i);

static bool any_provider(struct nm_vnic *dev)
{
	u32 i;

	for (i = 0; i < dev->num_rx_queues; i++)
		if (queue_bound(dev, i))
			return true;
	return false;
}

/* Queue @i has memory of a provider: ours (the module's bind) or the kernel's. */
static bool queue_bound(struct nm_vnic *dev, u32 i)
{
	return dev->rxqs[i].mp.ops ||
	       __netif_get_rx_queue(dev->netdev, i)->mp_params.mp_ops;
}

static void nm_get_channels(struct net_device *nd, struct ethtool_channels *ch)
{
	struct nm_vnic *dev = to_vnic(nd);

	ch->max_rx = dev->num_rx_queues;
	ch->max_tx = nd->num_tx_queues;
	ch->rx_count = nd->real_num_rx_queues;
	ch->tx_count = nd->real_num_tx_queues;
}

/*
 * The queues that remain are 0..rx_count-1. A queue that would go away while
 * a memory provider is bound to it is refused first, whatever else the
 * request asks, and nothing changes (the check ncdevmem makes). Other
 * changes of the RX count need the link down: the queues are built on open.
 */
static int nm_set_channels(struct net_device *nd, struct ethtool_channels *ch)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 i;
	int ret;

	if (ch->combined_count || ch->other_count || !ch->rx_count || !ch->tx_count)
		return -EINVAL;
	for (i = ch->rx_count; i < nd->real_num_rx_queues; i++) {
		if (queue_bound(dev, i)) {
			netdev_warn(nd, "channels: queue %u has a memory provider bound: unbind it first\n", i);
			return -EBUSY;
		}
	}
	if (ch->rx_count != nd->real_num_rx_queues && netif_running(nd)) {
		netdev_warn(nd, "channels: the RX count changes with the link down only\n");
		return -EBUSY;
	}
	ret = netif_set_real_num_tx_queues(nd, ch->tx_count);
	if (ret)
		return ret;
	ret = netif_set_real_num_rx_queues(nd, ch->rx_count);
	if (ret)
		return ret;
	/* An indirection table nobody set spreads over the queues there are. */
	if (!netif_is_rxfh_configured(nd)) {
		spin_lock_bh(&dev->steer_lock);
		for (i = 0; i < NM_RSS_INDIR; i++)
			dev->indir[i] = ethtool_rxfh_indir_default(i, ch->rx_count);
		spin_unlock_bh(&dev->steer_lock);
	}
	return 0;
}

static int nm_set_ringparam(struct net_device *nd, struct ethtool_ringparam *ring,
			    struct kernel_ethtool_ringparam *kring,
			    struct netlink_ext_ack *extack)
{
	struct nm_vnic *dev = to_vnic(nd);
	bool hds;

	if (ring->rx_pending != dev->ring_size || ring->tx_pending ||
	    ring->rx_mini_pending || ring->rx_jumbo_pending) {
		NL_SET_ERR_MSG(extack, "ring sizes are fixed at load (module parameter ring_size)");
		return -EINVAL;
	}
	hds = kring->tcp_data_split != ETHTOOL_TCP_DATA_SPLIT_DISABLED;
	if (hds == dev->tcp_data_split)
		return 0;
	if (!hds && any_provider(dev)) {
		NL_SET_ERR_MSG(extack, "a queue has a memory provider bound: unbind it before turning tcp-data-split off");
		return -EBUSY;
	}
	dev->tcp_data_split = hds;
	nm_vnic_apply_hds(dev);
	return 0;
}

static int nm_get_rxnfc(struct net_device *nd, struct ethtool_rxnfc *info,
			u32 *rule_locs)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 i, n = 0;
	int ret = 0;

	spin_lock_bh(&dev->steer_lock);
	switch (info->cmd) {
	case ETHTOOL_GRXRINGS:
		info->data = nd->real_num_rx_queues;
		break;
	case ETHTOOL_GRXCLSRLCNT:
		for (i = 0; i < NM_MAX_RULES; i++)
			n += dev->rules[i].used;
		info->rule_cnt = n;
		info->data = NM_MAX_RULES | RX_CLS_LOC_SPECIAL;
		break;
	case ETHTOOL_GRXCLSRULE:
		i = info->fs.location;
		if (i >= NM_MAX_RULES || !dev->rules[i].used) {
			ret = -ENOENT;
			break;
		}
		info->fs = dev->rules[i].fs;
		break;
	case ETHTOOL_GRXCLSRLALL:
		for (i = 0; i < NM_MAX_RULES; i++) {
			if (!dev->rules[i].used)
				continue;
			if (n == info->rule_cnt) {
				ret = -EMSGSIZE;
				break;
			}
			rule_locs[n++] = i;
		}
		info->rule_cnt = n;
		info->data = NM_MAX_RULES;
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	spin_unlock_bh(&dev->steer_lock);
	return ret;
}

static int rule_check(struct nm_vnic *dev, const struct ethtool_rx_flow_spec *fs)
{
	u32 type = fs->flow_type & ~(FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS);

	if (fs->flow_type & (FLOW_EXT | FLOW_MAC_EXT | FLOW_RSS))
		return -EOPNOTSUPP;     /* VLAN, MAC and RSS-context matches */
	if (type != TCP_V4_FLOW && type != UDP_V4_FLOW &&
	    type != TCP_V6_FLOW && type != UDP_V6_FLOW)
		return -EOPNOTSUPP;
	if (fs->ring_cookie == RX_CLS_FLOW_DISC || fs->ring_cookie == RX_CLS_FLOW_WAKE)
		return -EOPNOTSUPP;     /* only "to a queue" */
	if (ethtool_get_flow_spec_ring_vf(fs->ring_cookie) ||
	    fs->ring_cookie >= dev->netdev->real_num_rx_queues)
		return -EINVAL;
	if (type == TCP_V4_FLOW || type == UDP_V4_FLOW)
		return fs->m_u.tcp_ip4_spec.tos ? -EOPNOTSUPP : 0;
	return fs->m_u.tcp_ip6_spec.tclass ? -EOPNOTSUPP : 0;
}

static int nm_set_rxnfc(struct net_device *nd, struct ethtool_rxnfc *info)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 loc = info->fs.location, i;
	int ret = 0;

	switch (info->cmd) {
	case ETHTOOL_SRXCLSRLINS:
		ret = rule_check(dev, &info->fs);
		if (ret)
			return ret;
		spin_lock_bh(&dev->steer_lock);
		if (loc == RX_CLS_LOC_ANY) {
			for (i = 0; i < NM_MAX_RULES && dev->rules[i].used; i++)
				;
			loc = i;
		}
		if (loc >= NM_MAX_RULES) {
			ret = -ENOSPC;
		} else {
			info->fs.location = loc;
			dev->rules[loc].fs = info->fs;
			dev->rules[loc].used = true;
		}
		spin_unlock_bh(&dev->steer_lock);
		return ret;
	case ETHTOOL_SRXCLSRLDEL:
		spin_lock_bh(&dev->steer_lock);
		if (loc >= NM_MAX_RULES || !dev->rules[loc].used)
			ret = -ENOENT;
		else
			dev->rules[loc].used = false;
		spin_unlock_bh(&dev->steer_lock);
		return ret;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * ndo_set_features: turning ntuple off drops every flow rule, as gve and
 * bnxt do; a tool that turns it off and on (upstream's ncdevmem) expects an
 * empty table, not one that fills up run after run.
 */
int nm_vnic_set_features(struct net_device *nd, netdev_features_t features)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 i;

	if ((nd->features & NETIF_F_NTUPLE) && !(features & NETIF_F_NTUPLE)) {
		spin_lock_bh(&dev->steer_lock);
		for (i = 0; i < NM_MAX_RULES; i++)
			dev->rules[i].used = false;
		spin_unlock_bh(&dev->steer_lock);
	}
	return 0;
}

#if NM_HAVE_GET_RX_RING_COUNT
static u32 nm_get_rx_ring_count(struct net_device *nd)
{
	return nd->real_num_rx_queues;
}
#endif

static u32 nm_get_rxfh_indir_size(struct net_device *nd)
{
	return NM_RSS_INDIR;
}

static int nm_get_rxfh(struct net_device *nd, struct ethtool_rxfh_param *rxfh)
{
	struct nm_vnic *dev = to_vnic(nd);

	rxfh->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->indir) {
		spin_lock_bh(&dev->steer_lock);
		memcpy(rxfh->indir, dev->indir, sizeof(dev->indir));
		spin_unlock_bh(&dev->steer_lock);
	}
	return 0;
}

static int nm_set_rxfh(struct net_device *nd, struct ethtool_rxfh_param *rxfh,
		       struct netlink_ext_ack *extack)
{
	struct nm_vnic *dev = to_vnic(nd);
	u32 i;

	if (rxfh->key || (rxfh->hfunc != ETH_RSS_HASH_NO_CHANGE &&
			  rxfh->hfunc != ETH_RSS_HASH_TOP)) {
		NL_SET_ERR_MSG(extack, "only the indirection table can be set");
		return -EOPNOTSUPP;
	}
	if (!rxfh->indir)
		return 0;
	for (i = 0; i < NM_RSS_INDIR; i++)
		if (rxfh->indir[i] >= nd->real_num_rx_queues)
			return -EINVAL;
	spin_lock_bh(&dev->steer_lock);
	memcpy(dev->indir, rxfh->indir, sizeof(dev->indir));
	spin_unlock_bh(&dev->steer_lock);
	return 0;
}

const struct ethtool_ops nm_vnic_ethtool_ops = {
	.supported_ring_params = ETHTOOL_RING_USE_TCP_DATA_SPLIT,
	.get_drvinfo = nm_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_ringparam = nm_get_ringparam,
	.set_ringparam = nm_set_ringparam,
#if NM_HAVE_GET_RX_RING_COUNT
	.get_rx_ring_count = nm_get_rx_ring_count,
#endif
	.get_channels = nm_get_channels,
	.set_channels = nm_set_channels,
	.get_rxnfc = nm_get_rxnfc,
	.set_rxnfc = nm_set_rxnfc,
	.get_rxfh_indir_size = nm_get_rxfh_indir_size,
	.get_rxfh = nm_get_rxfh,
	.set_rxfh = nm_set_rxfh,
};
