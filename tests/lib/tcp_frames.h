/* SPDX-License-Identifier: MIT */
/*
 * The peer's side of frame-level TCP tests: build the frames a Linux
 * sender would (SYN with options, data, FIN, RST, ARP, NS, echo) and read
 * the fields of what the stack sends back. Written for the tests, from the
 * RFCs, independent of lib/tcp.
 */
#ifndef TCP_FRAMES_H
#define TCP_FRAMES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t tf_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tf_get32(const uint8_t *p)
{
	return (uint32_t)tf_get16(p) << 16 | tf_get16(p + 2);
}
static inline void tf_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tf_put32(uint8_t *p, uint32_t v)
{
	tf_put16(p, (uint16_t)(v >> 16));
	tf_put16(p + 2, (uint16_t)v);
}

static inline uint32_t tf_sum(uint32_t s, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		s += tf_get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

static inline uint16_t tf_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct tf_peer {
	int ipver;
	uint8_t mac[6], our_mac[6];
	uint8_t ip[16], our_ip[16];
};

static inline void tf_peer_init(struct tf_peer *p, int ipver, const uint8_t *our_mac)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };

	memset(p, 0, sizeof(*p));
	p->ipver = ipver;
	memcpy(p->mac, mac, 6);
	memcpy(p->our_mac, our_mac, 6);
	if (ipver == 4) {
		inet_pton(AF_INET, "169.254.0.10", p->ip);
		inet_pton(AF_INET, "169.254.0.11", p->our_ip);
	} else {
		inet_pton(AF_INET6, "fe80::5054:ff:fe00:a", p->ip);
		inet_pton(AF_INET6, "fe80::11", p->our_ip);
	}
}

/* A payload pattern keyed on the absolute sequence number: a byte taken
 * from the wrong place (a trim off by any amount, a segment from another
 * connection or an old buffer) shows, whatever the ISS. */
static inline uint8_t tf_seq_byte(uint32_t seq)
{
	return (uint8_t)((seq * 2654435761u) >> 24);
}

static inline void tf_seq_fill(uint8_t *p, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		p[i] = tf_seq_byte(seq + (uint32_t)i);
}

/* Ethernet + IP for @l4len bytes of @proto; returns the L4 offset. */
static inline size_t tf_ip(const struct tf_peer *p, uint8_t *f, uint8_t proto,
			   size_t l4len, uint8_t hops, const uint8_t *dst_ip,
			   const uint8_t *dst_mac)
{
	uint8_t *ip = f + 14;

	memcpy(f, dst_mac ? dst_mac : p->our_mac, 6);
	memcpy(f + 6, p->mac, 6);
	tf_put16(f + 12, p->ipver == 4 ? 0x0800 : 0x86dd);
	if (p->ipver == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		tf_put16(ip + 2, (uint16_t)(20 + l4len));
		ip[8] = hops;
		ip[9] = proto;
		memcpy(ip + 12, p->ip, 4);
		memcpy(ip + 16, dst_ip ? dst_ip : p->our_ip, 4);
		tf_put16(ip + 10, tf_fold(tf_sum(0, ip, 20)));
		return 34;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	tf_put16(ip + 4, (uint16_t)l4len);
	ip[6] = proto;
	ip[7] = hops;
	memcpy(ip + 8, p->ip, 16);
	memcpy(ip + 24, dst_ip ? dst_ip : p->our_ip, 16);
	return 54;
}

static inline uint32_t tf_pseudo(const uint8_t *f, int ipver, uint8_t proto,
				 size_t l4len)
{
	const uint8_t *ip = f + 14;
	uint32_t s = ipver == 4 ? tf_sum(0, ip + 12, 8) : tf_sum(0, ip + 8, 32);

	return s + proto + (uint32_t)l4len;
}

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

/* A TCP segment from the peer; returns the frame length. */
static inline size_t tf_tcp(const struct tf_peer *p, uint8_t *f, uint16_t sport,
			    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
			    uint16_t win, const uint8_t *opt, size_t olen,
			    const void *pl, size_t plen)
{
	size_t thl = 20 + olen, off = tf_ip(p, f, 6, thl + plen, 64, NULL, NULL);
	uint8_t *t = f + off;

	memset(t, 0, 20);
	tf_put16(t, sport);
	tf_put16(t + 2, dport);
	tf_put32(t + 4, seq);
	tf_put32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	tf_put16(t + 14, win);
	if (olen)   /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(t + 20, opt, olen);
	if (plen)
		memcpy(t + thl, pl, plen);
	tf_put16(t + 16, tf_fold(tf_sum(tf_pseudo(f, p->ipver, 6, thl + plen), t,
					thl + plen)));
	return off + thl + plen;
}

/* Linux's SYN options: MSS 1460, SACK_PERM, TS, NOP, WS 7. */
static inline size_t tf_syn_opts(uint8_t *o, uint32_t tsval)
{
	static const uint8_t tmpl[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0,
					  0, 0, 0, 0, 1, 3, 3, 7 };

	memcpy(o, tmpl, 20);
	tf_put32(o + 8, tsval);
	return 20;
}

static inline size_t tf_ts_opts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	tf_put32(o + 4, tsval);
	tf_put32(o + 8, tsecr);
	return 12;
}

/* What the stack sent: a parsed TCP segment. */
struct tf_seg {
	bool ok;            /* a TCP frame with a valid checksum */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;
	int wscale;
	bool sack_perm, ts;
	uint32_t tsval, tsecr;
	unsigned int nsack;
	uint32_t sack[4][2];
};

static inline struct tf_seg tf_parse(const uint8_t *f, size_t len)
{
	struct tf_seg s = { .wscale = -1 };
	size_t off, thl, l4len;
	const uint8_t *t, *o;
	int ipver;

	if (len < 54)
		return s;
	ipver = tf_get16(f + 12) == 0x0800 ? 4 : tf_get16(f + 12) == 0x86dd ? 6 : 0;
	if (ipver == 4 && f[23] == 6) {
		off = 34;
		l4len = tf_get16(f + 16) - 20u;
	} else if (ipver == 6 && f[20] == 6) {
		off = 54;
		l4len = tf_get16(f + 18);
	} else {
		return s;
	}
	t = f + off;
	thl = (size_t)(t[12] >> 4) * 4;
	if (off + l4len > len || thl < 20 || thl > l4len)
		return s;
	if (tf_fold(tf_sum(tf_pseudo(f, ipver, 6, l4len), t, l4len)) != 0)
		return s;
	s.ok = true;
	s.sport = tf_get16(t);
	s.dport = tf_get16(t + 2);
	s.seq = tf_get32(t + 4);
	s.ack = tf_get32(t + 8);
	s.flags = t[13];
	s.win = tf_get16(t + 14);
	for (o = t + 20; o < t + thl;) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			o++;
			continue;
		}
		if (o[0] == 2)
			s.mss = tf_get16(o + 2);
		else if (o[0] == 3)
			s.wscale = o[2];
		else if (o[0] == 4)
			s.sack_perm = true;
		else if (o[0] == 8) {
			s.ts = true;
			s.tsval = tf_get32(o + 2);
			s.tsecr = tf_get32(o + 6);
		} else if (o[0] == 5) {
			s.nsack = (o[1] - 2u) / 8;
			for (unsigned int i = 0; i < s.nsack && i < 4; i++) {
				s.sack[i][0] = tf_get32(o + 2 + 8 * i);
				s.sack[i][1] = tf_get32(o + 6 + 8 * i);
			}
		}
		o += o[1];
	}
	return s;
}

#endif
