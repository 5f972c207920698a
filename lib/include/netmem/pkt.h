/* SPDX-License-Identifier: MIT */
/*
 * Frames for tests, the software NIC and the apps: build Ethernet +
 * IPv4/IPv6 + UDP/TCP frames with correct checksums, and parse one far
 * enough to know where the headers end (for header split and steering).
 */
#ifndef NETMEM_PKT_H
#define NETMEM_PKT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_ETH_HLEN 14

struct nm_flow {
	uint8_t ipver;        /* 4 or 6 */
	uint8_t l4proto;      /* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[16], dst_ip[16];  /* IPv4 uses the first 4 bytes */
	uint16_t src_port, dst_port;     /* host byte order */
};

struct nm_pkt_info {
	uint8_t ipver, l4proto;
	uint16_t src_port, dst_port;
	uint32_t tcp_seq;
	uint32_t hdr_len;      /* L2+L3+L4 header bytes */
	uint32_t payload_len;
	uint32_t flow_hash;    /* of the 5-tuple, for RSS-like spreading */
};

/* "udp4", "tcp4", "udp6", "tcp6" -> a flow with link-local addresses. */
int nm_flow_from_name(const char *name, uint16_t dst_port, struct nm_flow *f);

/* Header bytes nm_pkt_build() puts before the payload for @f. */
size_t nm_pkt_hdr_len(const struct nm_flow *f);

/*
 * Build one frame of @f into @buf (capacity @cap) carrying @payload of
 * @plen bytes; @seq is the TCP sequence number (ignored for UDP).
 * Returns the frame length or -EMSGSIZE.
 */
int nm_pkt_build(void *buf, size_t cap, const struct nm_flow *f, uint32_t seq,
		 const void *payload, size_t plen);

/* Parse a frame; returns 0, or -EPROTONOSUPPORT for what it cannot parse
 * (info->hdr_len is then 0), -EINVAL for a truncated frame. */
int nm_pkt_parse(const void *frame, size_t len, struct nm_pkt_info *info);

/*
 * What a NIC's RX checksum engine reports for one whole frame: the
 * NM_RX_PKT_*_CSUM_* flags (rx_pkt.h), 0 when there is nothing it checks
 * (not IPv4/IPv6 + TCP/UDP, a fragment, a truncated frame). Honours the
 * IP length, so Ethernet padding is not summed. Models (the software and
 * TAP NICs) use it; real NICs report the same from their descriptors.
 */
uint32_t nm_pkt_csum_verdict(const void *frame, size_t len);

/* The test payload: byte at stream offset o of a flow seeded @seed. */
static inline uint8_t nm_pattern_byte(uint64_t o, uint32_t seed)
{
	return (uint8_t)((o ^ (o >> 8) ^ (o >> 16) ^ (o >> 24)) * 37u + seed);
}
void nm_pattern_fill(void *buf, size_t len, uint64_t offset, uint32_t seed);
/* Index of the first byte that differs from the pattern, or -1. */
long nm_pattern_check(const void *buf, size_t len, uint64_t offset,
		      uint32_t seed);

#ifdef __cplusplus
}
#endif
#endif
