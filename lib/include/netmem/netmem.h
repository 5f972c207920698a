/* SPDX-License-Identifier: MIT */
/* Everything a netmem user needs, in one include. */
#ifndef NETMEM_NETMEM_H
#define NETMEM_NETMEM_H

#include <netmem/binding.h>
#include <netmem/ctl.h>
#include <netmem/dma_domain.h>
#include <netmem/dmabuf.h>
#include <netmem/err.h>
#include <netmem/mp.h>
#include <netmem/mp_host.h>
#include <netmem/net_iov.h>
#include <netmem/netdev.h>
#include <netmem/netif.h>
#include <netmem/page_pool.h>
#include <netmem/pkt.h>
#include <netmem/rx_pkt.h>
#include <netmem/rxq_caps.h>
#include <netmem/tcp.h>

#endif
