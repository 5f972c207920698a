/* SPDX-License-Identifier: MIT */
/*
 * What the kernel's ncdevmem configures with ethtool before it binds, done
 * through the same kernel interfaces (the SIOCETHTOOL ioctl; tcp-data-split
 * through ethtool netlink, devmem_nl.c), so no ethtool binary is needed:
 *
 *   ethtool -N IF flow-type tcp4 dst-port P action Q   nic_flow_add()
 *   ethtool -N IF delete LOC                            nic_flow_del()
 *   ethtool -X IF equal N                               nic_rss_equal()
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "kctl.h"

static int ethtool_ioctl(const char *ifname, void *data)
{
	struct ifreq ifr;
	int fd, ret = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int nic_flow_add(const char *ifname, uint16_t dport, uint32_t queue, uint32_t *loc)
{
	struct ethtool_rxnfc nfc;
	int ret;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ETHTOOL_SRXCLSRLINS;
	nfc.fs.flow_type = TCP_V4_FLOW;
	nfc.fs.h_u.tcp_ip4_spec.pdst = htons(dport);
	nfc.fs.m_u.tcp_ip4_spec.pdst = 0xffff;
	nfc.fs.ring_cookie = queue;
	nfc.fs.location = RX_CLS_LOC_ANY;
	ret = ethtool_ioctl(ifname, &nfc);
	if (!ret && loc)
		*loc = nfc.fs.location;
	return ret;
}

int nic_flow_del(const char *ifname, uint32_t loc)
{
	struct ethtool_rxnfc nfc;

	memset(&nfc, 0, sizeof(nfc));
	nfc.cmd = ETHTOOL_SRXCLSRLDEL;
	nfc.fs.location = loc;
	return ethtool_ioctl(ifname, &nfc);
}

int nic_rss_equal(const char *ifname, uint32_t n)
{
	struct ethtool_rxfh_indir *ind;
	struct ethtool_rxfh_indir get = { .cmd = ETHTOOL_GRXFHINDIR };
	int ret;

	if (!n)
		return -EINVAL;
	ret = ethtool_ioctl(ifname, &get);
	if (ret)
		return ret;
	ind = calloc(1, sizeof(*ind) + get.size * sizeof(ind->ring_index[0]));
	if (!ind)
		return -ENOMEM;
	ind->cmd = ETHTOOL_SRXFHINDIR;
	ind->size = get.size;
	for (uint32_t i = 0; i < get.size; i++)
		ind->ring_index[i] = i % n;
	ret = ethtool_ioctl(ifname, ind);
	free(ind);
	return ret;
}
