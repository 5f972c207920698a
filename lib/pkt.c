/* SPDX-License-Identifier: MIT */
/*
 * Ethernet + IPv4/IPv6 + UDP/TCP: build with real checksums, parse far
 * enough for header split and steering. Addresses default to link-local
 * (fe80::/64, 169.254/16) so test traffic never names a routable host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <netmem/pkt.h>
#include <netmem/rx_pkt.h>

#include "inet_csum.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* a + b with the carry out added back in (ones'-complement addition). */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/* @a plus the 64 bytes at @p, eight at a time, carries added back. */
static inline uint64_t add_64_bytes(uint64_t a, const uint8_t *p)
{
#if defined(__x86_64__)
	/* One adc chain, one instruction per word: GCC 12 makes the C
	 * below two (add, adc $0) to five per word. */
	__asm__("addq 0(%[p]), %[a]\n\t"
		"adcq 8(%[p]), %[a]\n\t"
		"adcq 16(%[p]), %[a]\n\t"
		"adcq 24(%[p]), %[a]\n\t"
		"adcq 32(%[p]), %[a]\n\t"
		"adcq 40(%[p]), %[a]\n\t"
		"adcq 48(%[p]), %[a]\n\t"
		"adcq 56(%[p]), %[a]\n\t"
		"adcq $0, %[a]"
		: [a] "+r"(a)
		: [p] "r"(p), "m"(*(const uint8_t (*)[64])p)
		: "cc");
	return a;
#else
	for (int i = 0; i < 64; i += 8)
		a = add_carry(a, load64(p + i));
	return a;
#endif
}

/*
 * Eight bytes per add, in host order: the ones'-complement sum does not
 * depend on byte order (RFC 1071 2.B), so words are summed as they lie in
 * memory, each carry out added back in (2^64 = 1 modulo 0xffff), and the
 * 16-bit result is swapped once at the end on a little-endian host.
 */
uint32_t nm_inet_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t a = 0;
	uint32_t s;

	for (; len >= 64; p += 64, len -= 64)
		a = add_64_bytes(a, p);
	for (; len >= 8; p += 8, len -= 8)
		a = add_carry(a, load64(p));
	/* The tail, up to 7 bytes, into one word as memcpy would lay them. */
	if (len & 7) {
		uint64_t t = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		unsigned int sh = 0;

		if (len & 4) {
			uint32_t w;

			memcpy(&w, p, 4);
			t = w;
			p += 4;
			sh = 32;
		}
		if (len & 2) {
			uint16_t w;

			memcpy(&w, p, 2);
			t |= (uint64_t)w << sh;
			p += 2;
			sh += 16;
		}
		if (len & 1)
			t |= (uint64_t)p[0] << sh;
#else
		memcpy(&t, p, len & 7);
#endif
		a = add_carry(a, t);
	}
	s = (uint32_t)a;
	s += (uint32_t)(a >> 32);
	s += s < (uint32_t)(a >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (uint32_t)__builtin_bswap16((uint16_t)s);
#endif
	/* @sum is at most 32 bits: fold it in with one 64-bit add. */
	a = (uint64_t)sum + s;
	s = (uint32_t)a + (uint32_t)(a >> 32);
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

int nm_flow_from_name(const char *name, uint16_t dst_port, struct nm_flow *f)
{
	static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
	static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };

	memset(f, 0, sizeof(*f));
	if (!strcmp(name, "udp4") || !strcmp(name, "tcp4"))
		f->ipver = 4;
	else if (!strcmp(name, "udp6") || !strcmp(name, "tcp6"))
		f->ipver = 6;
	else
		return -EINVAL;
	f->l4proto = name[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
	memcpy(f->src_mac, mac_a, 6);
	memcpy(f->dst_mac, mac_b, 6);
	if (f->ipver == 4) {
		inet_pton(AF_INET, "169.254.0.10", f->src_ip);
		inet_pton(AF_INET, "169.254.0.11", f->dst_ip);
	} else {
		inet_pton(AF_INET6, "fe80::5054:ff:fe00:a", f->src_ip);
		inet_pton(AF_INET6, "fe80::5054:ff:fe00:b", f->dst_ip);
	}
	f->src_port = 40000;
	f->dst_port = dst_port;
	return 0;
}

size_t nm_pkt_hdr_len(const struct nm_flow *f)
{
	return NM_ETH_HLEN + (f->ipver == 4 ? IPV4_HLEN : IPV6_HLEN) +
	       (f->l4proto == IPPROTO_UDP ? UDP_HLEN : TCP_HLEN);
}

int nm_pkt_build(void *buf, size_t cap, const struct nm_flow *f, uint32_t seq,
		 const void *payload, size_t plen)
{
	size_t hlen = nm_pkt_hdr_len(f);
	size_t l3 = NM_ETH_HLEN, l4, l4len;
	uint8_t *p = buf;
	uint32_t sum;

	if (hlen + plen > cap || plen > 65000)
		return -EMSGSIZE;
	l4 = l3 + (f->ipver == 4 ? IPV4_HLEN : IPV6_HLEN);
	l4len = hlen - l4 + plen;
	memcpy(p, f->dst_mac, 6);
	memcpy(p + 6, f->src_mac, 6);
	put16(p + 12, f->ipver == 4 ? ETH_P_IPV4 : ETH_P_IPV6);

	if (f->ipver == 4) {
		uint8_t *ip = p + l3;

		memset(ip, 0, IPV4_HLEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(IPV4_HLEN + l4len));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = f->l4proto;
		memcpy(ip + 12, f->src_ip, 4);
		memcpy(ip + 16, f->dst_ip, 4);
		put16(ip + 10, nm_inet_csum_fold(nm_inet_csum_add(0, ip, IPV4_HLEN)));
		sum = nm_inet_csum_add(0, ip + 12, 8);
	} else {
		uint8_t *ip = p + l3;

		memset(ip, 0, IPV6_HLEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = f->l4proto;
		ip[7] = 64;
		memcpy(ip + 8, f->src_ip, 16);
		memcpy(ip + 24, f->dst_ip, 16);
		sum = nm_inet_csum_add(0, ip + 8, 32);
	}
	sum += f->l4proto + (uint32_t)l4len;

	if (f->l4proto == IPPROTO_UDP) {
		uint8_t *u = p + l4;

		put16(u, f->src_port);
		put16(u + 2, f->dst_port);
		put16(u + 4, (uint16_t)l4len);
		put16(u + 6, 0);
	} else {
		uint8_t *t = p + l4;

		memset(t, 0, TCP_HLEN);
		put16(t, f->src_port);
		put16(t + 2, f->dst_port);
		put32(t + 4, seq);
		put32(t + 8, 1);
		t[12] = (TCP_HLEN / 4) << 4;
		t[13] = 0x18; /* PSH|ACK */
		put16(t + 14, 65535);
	}
	if (plen)   /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(p + hlen, payload, plen);
	sum = nm_inet_csum_add(sum, p + l4, l4len);
	put16(p + l4 + (f->l4proto == IPPROTO_UDP ? 6 : 16),
	      f->l4proto == IPPROTO_UDP && nm_inet_csum_fold(sum) == 0 ? 0xffff :
								     nm_inet_csum_fold(sum));
	return (int)(hlen + plen);
}

static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

int nm_pkt_parse(const void *frame, size_t len, struct nm_pkt_info *info)
{
	const uint8_t *p = frame;
	size_t off = NM_ETH_HLEN;
	uint16_t ethertype;
	uint32_t h = 0;
	size_t l4len, ip_end;

	memset(info, 0, sizeof(*info));
	if (len < NM_ETH_HLEN)
		return -EINVAL;
	ethertype = get16(p + 12);
	if (ethertype == ETH_P_IPV4) {
		size_t ihl;

		if (len < off + IPV4_HLEN)
			return -EINVAL;
		ihl = (size_t)(p[off] & 0xf) * 4;
		if ((p[off] >> 4) != 4 || ihl < IPV4_HLEN || len < off + ihl)
			return -EINVAL;
		/* Ethernet pads short frames: the IP length says where data ends. */
		ip_end = off + get16(p + off + 2);
		info->ipver = 4;
		info->l4proto = p[off + 9];
		for (int i = 0; i < 8; i += 4)
			h = mix(h, get32(p + off + 12 + i));
		off += ihl;
	} else if (ethertype == ETH_P_IPV6) {
		if (len < off + IPV6_HLEN)
			return -EINVAL;
		ip_end = off + IPV6_HLEN + get16(p + off + 4);
		info->ipver = 6;
		info->l4proto = p[off + 6];
		for (int i = 0; i < 32; i += 4)
			h = mix(h, get32(p + off + 8 + i));
		off += IPV6_HLEN;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (info->l4proto == IPPROTO_UDP) {
		l4len = UDP_HLEN;
	} else if (info->l4proto == IPPROTO_TCP) {
		if (len < off + TCP_HLEN)
			return -EINVAL;
		l4len = (size_t)(p[off + 12] >> 4) * 4;
		info->tcp_seq = get32(p + off + 4);
	} else {
		return -EPROTONOSUPPORT;
	}
	if (len < off + l4len || l4len < UDP_HLEN)
		return -EINVAL;
	info->src_port = get16(p + off);
	info->dst_port = get16(p + off + 2);
	info->hdr_len = (uint32_t)(off + l4len);
	if (ip_end < len && ip_end >= off + l4len)
		len = ip_end;
	info->payload_len = (uint32_t)(len - off - l4len);
	h = mix(h, (uint32_t)info->src_port << 16 | info->dst_port);
	info->flow_hash = mix(h, info->l4proto);
	return 0;
}

uint32_t nm_pkt_csum_verdict(const void *frame, size_t len)
{
	const uint8_t *p = frame;
	size_t l3 = NM_ETH_HLEN, l4, end;
	uint8_t proto;
	uint32_t sum;

	if (len < NM_ETH_HLEN + IPV4_HLEN)
		return 0;
	if (get16(p + 12) == ETH_P_IPV4) {
		size_t ihl = (size_t)(p[l3] & 0xf) * 4;

		if ((p[l3] >> 4) != 4 || ihl < IPV4_HLEN || len < l3 + ihl)
			return 0;
		if (nm_inet_csum_fold(nm_inet_csum_add(0, p + l3, ihl)) != 0)
			return NM_RX_PKT_IP_CSUM_BAD;
		end = l3 + get16(p + l3 + 2);
		/* Fragments carry no whole L4 segment to check. */
		if (end > len || end < l3 + ihl || (get16(p + l3 + 6) & 0x3fff))
			return 0;
		proto = p[l3 + 9];
		l4 = l3 + ihl;
		sum = nm_inet_csum_add(0, p + l3 + 12, 8);
	} else if (get16(p + 12) == ETH_P_IPV6) {
		if (len < l3 + IPV6_HLEN)
			return 0;
		proto = p[l3 + 6];
		l4 = l3 + IPV6_HLEN;
		end = l4 + get16(p + l3 + 4);
		if (end > len)
			return 0;
		sum = nm_inet_csum_add(0, p + l3 + 8, 32);
	} else {
		return 0;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if (end - l4 < (proto == IPPROTO_TCP ? TCP_HLEN : UDP_HLEN))
		return NM_RX_PKT_L4_CSUM_BAD;
	/* UDP over IPv4 may carry no checksum at all. */
	if (proto == IPPROTO_UDP && get16(p + 12) == ETH_P_IPV4 && get16(p + l4 + 6) == 0)
		return NM_RX_PKT_L4_CSUM_GOOD;
	sum += proto + (uint32_t)(end - l4);
	sum = nm_inet_csum_add(sum, p + l4, end - l4);
	return nm_inet_csum_fold(sum) == 0 ? NM_RX_PKT_L4_CSUM_GOOD : NM_RX_PKT_L4_CSUM_BAD;
}

void nm_pattern_fill(void *buf, size_t len, uint64_t offset, uint32_t seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = nm_pattern_byte(offset + i, seed);
}

long nm_pattern_check(const void *buf, size_t len, uint64_t offset,
		      uint32_t seed)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != nm_pattern_byte(offset + i, seed))
			return (long)i;
	return -1;
}
