/* SPDX-License-Identifier: MIT */
/*
 * The frames the guest tests put on the wire and look for afterwards:
 * UDP over IPv6 from port A's link-local address to ff02::1 (all nodes; it
 * never leaves the guests' own wire), dst MAC 33:33:00:00:00:01. The UDP
 * payload is a 16-byte header (magic, sequence number, payload length) and
 * then the netmem test pattern seeded by the sequence number, so every byte
 * of every frame can be checked wherever it lands.
 */
#ifndef NM_TEST_FRAME_H
#define NM_TEST_FRAME_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <netmem/pkt.h>

#define NM_TF_MAGIC "NMDPDK01"
#define NM_TF_HDR 16u
#define NM_TF_UDP_HDR_OFF (14u + 40u)   /* Ethernet + IPv6 */
#define NM_TF_PAYLOAD_OFF (NM_TF_UDP_HDR_OFF + 8u)

static const uint8_t nm_tf_dst_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* A udp6 flow from @src_mac to ff02::1 port @port. */
static inline void nm_tf_flow(struct nm_flow *f, const uint8_t src_mac[6], uint16_t port)
{
	nm_flow_from_name("udp6", port, f);
	memcpy(f->src_mac, src_mac, 6);
	memcpy(f->dst_mac, nm_tf_dst_mac, 6);
	inet_pton(AF_INET6, "ff02::1", f->dst_ip);
}

/* The UDP payload of frame @seq: @len bytes (>= NM_TF_HDR). */
static inline void nm_tf_payload(uint8_t *p, uint32_t len, uint32_t seq)
{
	uint32_t be_seq = htonl(seq), be_len = htonl(len);

	memcpy(p, NM_TF_MAGIC, 8);
	memcpy(p + 8, &be_seq, 4);
	memcpy(p + 12, &be_len, 4);
	nm_pattern_fill(p + NM_TF_HDR, len - NM_TF_HDR, NM_TF_HDR, seq);
}

/*
 * Is there one of our frames for UDP port @port at @f (at most @cap bytes)?
 * Returns 1 and sets *@seq and *@bad (index+1 of the first wrong payload
 * byte, 0 if all right) and *@checked (payload bytes compared); 0 if not
 * ours.
 */
static inline int nm_tf_check(const uint8_t *f, uint32_t cap, uint16_t port,
			      uint32_t *seq, uint32_t *bad, uint32_t *checked)
{
	uint32_t len, udp_len;
	long at;

	if (cap < NM_TF_PAYLOAD_OFF + NM_TF_HDR || memcmp(f, nm_tf_dst_mac, 6) ||
	    f[12] != 0x86 || f[13] != 0xdd || f[14 + 6] != 17 ||
	    ((uint32_t)f[NM_TF_UDP_HDR_OFF + 2] << 8 | f[NM_TF_UDP_HDR_OFF + 3]) != port ||
	    memcmp(f + NM_TF_PAYLOAD_OFF, NM_TF_MAGIC, 8))
		return 0;
	udp_len = (uint32_t)f[NM_TF_UDP_HDR_OFF + 4] << 8 | f[NM_TF_UDP_HDR_OFF + 5];
	memcpy(seq, f + NM_TF_PAYLOAD_OFF + 8, 4);
	memcpy(&len, f + NM_TF_PAYLOAD_OFF + 12, 4);
	*seq = ntohl(*seq);
	len = ntohl(len);
	*checked = 0;
	if (udp_len < 8 || len != udp_len - 8 || NM_TF_PAYLOAD_OFF + len > cap) {
		*bad = 1;
		return 1;
	}
	at = nm_pattern_check(f + NM_TF_PAYLOAD_OFF + NM_TF_HDR, len - NM_TF_HDR,
			      NM_TF_HDR, *seq);
	*bad = at < 0 ? 0 : (uint32_t)at + NM_TF_HDR + 1;
	*checked = len;
	return 1;
}

/*
 * The same for a UDP payload alone at @p (buffer split: the headers went
 * elsewhere). @cap bytes are readable. Returns 1 with *@seq, *@bad, *@checked
 * as nm_tf_check(); 0 if @p does not start with the magic.
 */
static inline int nm_tf_check_payload(const uint8_t *p, uint32_t cap, uint32_t *seq,
				      uint32_t *bad, uint32_t *checked)
{
	uint32_t len;
	long at;

	if (cap < NM_TF_HDR || memcmp(p, NM_TF_MAGIC, 8))
		return 0;
	memcpy(seq, p + 8, 4);
	memcpy(&len, p + 12, 4);
	*seq = ntohl(*seq);
	len = ntohl(len);
	*checked = 0;
	if (len < NM_TF_HDR || len > cap) {
		*bad = 1;
		return 1;
	}
	at = nm_pattern_check(p + NM_TF_HDR, len - NM_TF_HDR, NM_TF_HDR, *seq);
	*bad = at < 0 ? 0 : (uint32_t)at + NM_TF_HDR + 1;
	*checked = len;
	return 1;
}

#endif
