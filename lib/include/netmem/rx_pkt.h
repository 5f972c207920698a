/* SPDX-License-Identifier: MIT */
/*
 * What a poll-mode driver hands the application for each received frame.
 * With header split, headers sit in a readable host buffer and the payload in
 * a pool buffer that may be a net_iov (device memory). Without it, the whole
 * frame is in @payload and @hdr is 0. The receiver owns both buffers and puts
 * them back with nm_netmem_put() (from any thread).
 */
#ifndef NETMEM_RX_PKT_H
#define NETMEM_RX_PKT_H

#include <stdint.h>

#include <netmem/net_iov.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_RX_PKT_SPLIT        (1u << 0)  /* headers and payload apart */
/* Checksum verdicts of a queue with NM_RXQ_CAP_RX_CSUM. Neither GOOD nor
 * BAD set: the NIC did not check (not TCP/UDP, or no offload), and only
 * software that may read the bytes can. */
#define NM_RX_PKT_L4_CSUM_GOOD (1u << 1)  /* TCP/UDP checksum verified */
#define NM_RX_PKT_L4_CSUM_BAD  (1u << 2)  /* TCP/UDP checksum wrong */
#define NM_RX_PKT_IP_CSUM_BAD  (1u << 3)  /* IPv4 header checksum wrong */
#define NM_RX_PKT_RSS_HASH     (1u << 4)  /* @rss_hash is the NIC's RSS hash */
#define NM_RX_PKT_PTYPE        (1u << 5)  /* @ptype is what the NIC parsed */

/* Packet type bits (@ptype): the protocols the NIC recognised. */
#define NM_RX_PTYPE_IPV4       (1u << 0)
#define NM_RX_PTYPE_IPV6       (1u << 1)
#define NM_RX_PTYPE_IP_EXT     (1u << 2)  /* IPv4 options, IPv6 extension headers */
#define NM_RX_PTYPE_TCP        (1u << 3)
#define NM_RX_PTYPE_UDP        (1u << 4)
#define NM_RX_PTYPE_SCTP       (1u << 5)

struct nm_rx_pkt {
	nm_netmem_ref hdr;      /* host buffer with the headers, or 0 */
	nm_netmem_ref payload;  /* payload (or whole frame); 0 if none */
	uint32_t hdr_len;
	uint32_t payload_len;
	uint32_t flags;         /* NM_RX_PKT_* */
	uint32_t queue;
	uint32_t rss_hash;      /* with NM_RX_PKT_RSS_HASH */
	uint32_t ptype;         /* NM_RX_PTYPE_*, with NM_RX_PKT_PTYPE */
};

#ifdef __cplusplus
}
#endif
#endif
