/* SPDX-License-Identifier: MIT */
/*
 * The first step on the guest's port B: claim it through VFIO, reset it,
 * bring the link up, read back what the device says, and close it leaving
 * no DMA mapping behind. Prints every check; exit 0 when all held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/igb.h>

#define CHECK(cond, ...) do { \
	if (!(cond)) { printf("igb-probe: FAIL: " __VA_ARGS__); printf("\n"); return 1; } \
	printf("igb-probe: ok: " __VA_ARGS__); printf("\n"); } while (0)

int main(int argc, char **argv)
{
	struct nm_igb_params p = { .bdf = argc > 1 ? argv[1] : getenv("NETMEM_GUEST_PORT_B_BDF") };
	struct nm_err err = { 0 };
	struct nm_igb *igb;
	struct nm_netdev *dev;
	struct nm_dma_domain *dom;
	struct nm_igb_ring_regs r;
	uint8_t mac[6];
	char caps[64];
	int ret;

	ret = nm_igb_open(&p, &igb, &err);
	CHECK(ret == 0, "open %s through VFIO, reset, link up%s%s", p.bdf ? p.bdf : "(none)",
	      ret ? ": " : "", ret ? err.msg : "");
	dev = nm_igb_netdev(igb);
	nm_igb_mac_addr(igb, mac);
	printf("igb-probe: %s: MAC %02x:%02x:%02x:%02x:%02x:%02x, %u RX queues, DMA domain %s\n",
	       dev->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], dev->num_rx_queues,
	       dev->dma->ops->kind);
	CHECK(mac[0] == 0x52 && mac[5] == 0x0b, "MAC address read back from RAL0/RAH0");
	for (uint32_t q = 0; q < dev->num_rx_queues; q++) {
		nm_igb_ring_regs(igb, q, &r);
		printf("igb-probe: queue %u: flags %s, RDBA 0x%08x%08x RDLEN %u SRRCTL 0x%08x "
		       "RXDCTL 0x%08x RDH %u RDT %u\n", q,
		       nm_rxq_caps_str(dev->rxqs[q].caps, caps, sizeof(caps)), r.rdbah, r.rdbal,
		       r.rdlen, r.srrctl, r.rxdctl, r.rdh, r.rdt);
		CHECK(r.rxdctl & (1u << 25), "queue %u enabled with %u descriptors posted", q, r.rdt);
	}
	CHECK(nm_igb_host_mem(igb)->hugepages, "host memory for headers, default payload and TX: "
	      "%llu MiB on 2 MiB hugepages, DMA-mapped at IOVA 0x%llx",
	      (unsigned long long)(nm_igb_host_mem(igb)->size >> 20),
	      (unsigned long long)nm_igb_host_mem(igb)->iova);
	dom = dev->dma;
	nm_dma_domain_get(dom);
	printf("igb-probe: DMA maps %llu, %llu bytes mapped while open\n",
	       (unsigned long long)dom->stats.maps, (unsigned long long)dom->stats.mapped_bytes);
	nm_igb_close(igb);
	CHECK(dom->stats.maps == dom->stats.unmaps && dom->stats.mapped_bytes == 0,
	      "after close: %llu maps, %llu unmaps, %llu bytes still mapped",
	      (unsigned long long)dom->stats.maps, (unsigned long long)dom->stats.unmaps,
	      (unsigned long long)dom->stats.mapped_bytes);
	nm_dma_domain_put(dom);
	return 0;
}
