/* SPDX-License-Identifier: MIT */
/*
 * The port's identity on the wire: ARP (RFC 826), IPv6 neighbour discovery
 * (RFC 4861: answer solicitations for our addresses, including DAD probes),
 * ICMP and ICMPv6 echo, and a small neighbour table learnt from what peers
 * send, so no reply needs a static entry. Host memory only: these frames
 * arrive on the default queue and are answered and returned at once.
 */
#include <string.h>

#include "tcp_internal.h"

#define ARP_LEN       28
#define ICMP6_NS      135
#define ICMP6_NA      136
#define ICMP6_ECHO    128
#define ICMP6_ECHOREP 129
#define FRAME_MAX     2048

void neigh_learn(struct nm_stack *s, uint8_t ipver, const uint8_t *ip,
		 const uint8_t *mac)
{
	size_t alen = ipver == 4 ? 4 : 16;
	struct neigh *slot = NULL, *oldest = &s->neigh[0];
	uint64_t now = stack_now(s);

	if (mac[0] & 1)  /* never learn a multicast MAC */
		return;
	pthread_mutex_lock(&s->neigh_lock);
	for (unsigned int i = 0; i < NM_NEIGH_CAP; i++) {
		struct neigh *n = &s->neigh[i];

		if (n->ipver == ipver && !memcmp(n->ip, ip, alen)) {
			slot = n;
			break;
		}
		if (!slot && !n->ipver)
			slot = n;
		if (n->seen < oldest->seen)
			oldest = n;
	}
	if (!slot)
		slot = oldest;
	slot->ipver = ipver;
	memset(slot->ip, 0, sizeof(slot->ip));
	memcpy(slot->ip, ip, alen);
	memcpy(slot->mac, mac, 6);
	slot->seen = now;
	pthread_mutex_unlock(&s->neigh_lock);
}

bool neigh_lookup(struct nm_stack *s, uint8_t ipver, const uint8_t *ip,
		  uint8_t *mac)
{
	size_t alen = ipver == 4 ? 4 : 16;
	bool found = false;

	pthread_mutex_lock(&s->neigh_lock);
	for (unsigned int i = 0; i < NM_NEIGH_CAP && !found; i++) {
		struct neigh *n = &s->neigh[i];

		if (n->ipver == ipver && !memcmp(n->ip, ip, alen)) {
			memcpy(mac, n->mac, 6);
			found = true;
		}
	}
	pthread_mutex_unlock(&s->neigh_lock);
	return found;
}

void arp_input(struct nm_stack *s, struct rx_frame *f)
{
	const uint8_t *a = f->eth + NM_ETH_HLEN;
	uint8_t buf[60] = { 0 };
	uint8_t *r = buf + NM_ETH_HLEN;

	if (f->hlen < NM_ETH_HLEN + ARP_LEN || get16(a) != 1 ||
	    get16(a + 2) != ETH_P_IP_ || a[4] != 6 || a[5] != 4) {
		sc_inc(s, SC_MALFORMED);
		return;
	}
	/* Learn the sender (requests and replies alike; not 0.0.0.0 probes). */
	if (get32(a + 14) != 0 && stack_is_local(s, 4, a + 24))
		neigh_learn(s, 4, a + 14, a + 8);
	if (get16(a + 6) != 1 || !stack_is_local(s, 4, a + 24)) {
		sc_inc(s, SC_NOT_FOR_US);
		return;
	}
	memcpy(buf, a + 8, 6);
	memcpy(buf + 6, s->port->mac, 6);
	put16(buf + 12, ETH_P_ARP_);
	put16(r, 1);
	put16(r + 2, ETH_P_IP_);
	r[4] = 6;
	r[5] = 4;
	put16(r + 6, 2);
	memcpy(r + 8, s->port->mac, 6);
	memcpy(r + 14, a + 24, 4);
	memcpy(r + 18, a + 8, 6);
	memcpy(r + 24, a + 14, 4);
	stack_tx(s, buf, sizeof(buf));
	sc_inc(s, SC_ARP_REPLIES);
}

/* The whole L4 message of @f in host bytes (headers and payload), or NULL
 * when part of it sits where the CPU must not read. */
static const uint8_t *l4_linear(struct rx_frame *f, uint8_t *tmp, size_t cap)
{
	const uint8_t *pl;
	uint32_t in_hdr = f->l4hlen;

	if (f->pbuf == f->pkt.payload && !f->pkt.hdr)
		return f->l4;  /* one host buffer holds it all */
	if (!f->plen)
		return f->l4;
	if (nm_netmem_is_net_iov(f->pbuf) || f->l4len > cap)
		return NULL;
	pl = (const uint8_t *)nm_netmem_address(f->pbuf) + f->poff;
	memcpy(tmp, f->l4, in_hdr);
	memcpy(tmp + in_hdr, pl, f->plen);
	return tmp;
}

void icmp_input(struct nm_stack *s, struct rx_frame *f)
{
	uint8_t tmp[FRAME_MAX], buf[FRAME_MAX];
	const uint8_t *m = l4_linear(f, tmp, sizeof(tmp));
	uint32_t len = f->l4len;
	size_t off;

	if (!m || len < 8 || len + NM_ETH_HLEN + 20 > sizeof(buf) ||
	    nm_csum_fold(nm_csum_add(0, m, len)) != 0) {
		sc_inc(s, m ? SC_BAD_CSUM : SC_MALFORMED);
		return;
	}
	if (m[0] != 8 || m[1] != 0) {
		sc_inc(s, SC_NOT_FOR_US);
		return;
	}
	neigh_learn(s, 4, f->src_ip, f->eth + 6);
	off = tx_ip_header(s, buf, f->eth + 6, 4, f->dst_ip, f->src_ip, 1, len, 64);
	memcpy(buf + off, m, len);
	buf[off] = 0;
	put16(buf + off + 2, 0);
	put16(buf + off + 2, nm_csum_fold(nm_csum_add(0, buf + off, len)));
	stack_tx(s, buf, (uint16_t)(off + len));
	sc_inc(s, SC_ECHO);
}

static void icmp6_csum(uint8_t *m, uint32_t len, const uint8_t *src,
		       const uint8_t *dst)
{
	put16(m + 2, 0);
	put16(m + 2, nm_csum_fold(nm_csum_add(nm_csum_pseudo(6, src, dst, 58, len),
					      m, len)));
}

/* Link-layer address option @type (1 source, 2 target) in an ND message. */
static const uint8_t *nd_lladdr(const uint8_t *m, uint32_t len, uint32_t off,
				uint8_t type)
{
	while (off + 8 <= len) {
		uint32_t olen = (uint32_t)m[off + 1] * 8;

		if (!olen || off + olen > len)
			return NULL;
		if (m[off] == type && olen == 8)
			return m + off + 2;
		off += olen;
	}
	return NULL;
}

static void ns_input(struct nm_stack *s, struct rx_frame *f, const uint8_t *m,
		     uint32_t len)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t unspec[16];
	const uint8_t *target = m + 8, *sll;
	uint8_t buf[NM_ETH_HLEN + 40 + 32], dmac[6];
	const uint8_t *dst;
	bool dad;
	size_t off;
	uint8_t *na;

	if (len < 24 || !stack_is_local(s, 6, target)) {
		sc_inc(s, SC_NOT_FOR_US);
		return;
	}
	sll = nd_lladdr(m, len, 24, 1);
	dad = !memcmp(f->src_ip, unspec, 16);
	if (dad) {
		/* Someone probes for our address (RFC 4862 5.4.3): tell all
		 * nodes it is taken; no solicited flag, no neighbour learnt. */
		dst = all_nodes;
		memcpy(dmac, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	} else {
		dst = f->src_ip;
		memcpy(dmac, sll ? sll : f->eth + 6, 6);
		neigh_learn(s, 6, f->src_ip, dmac);
	}
	off = tx_ip_header(s, buf, dmac, 6, target, dst, 58, 32, 255);
	na = buf + off;
	memset(na, 0, 32);
	na[0] = ICMP6_NA;
	na[4] = dad ? 0x20 : 0x60;  /* Override, plus Solicited when asked */
	memcpy(na + 8, target, 16);
	na[24] = 2;                 /* target link-layer address */
	na[25] = 1;
	memcpy(na + 26, s->port->mac, 6);
	icmp6_csum(na, 32, target, dst);
	stack_tx(s, buf, (uint16_t)(off + 32));
	sc_inc(s, SC_NS_ANSWERED);
}

void icmp6_input(struct nm_stack *s, struct rx_frame *f)
{
	uint8_t tmp[FRAME_MAX], buf[FRAME_MAX];
	const uint8_t *m = l4_linear(f, tmp, sizeof(tmp));
	uint32_t len = f->l4len;
	size_t off;

	if (!m || len < 8) {
		sc_inc(s, SC_MALFORMED);
		return;
	}
	if (nm_csum_fold(nm_csum_add(nm_csum_pseudo(6, f->src_ip, f->dst_ip, 58, len),
				     m, len)) != 0) {
		sc_inc(s, SC_BAD_CSUM);
		return;
	}
	switch (m[0]) {
	case ICMP6_NS:
		if (f->ip[7] != 255 || m[1] != 0)
			break;
		ns_input(s, f, m, len);
		return;
	case ICMP6_NA: {
		const uint8_t *tll = len >= 24 ? nd_lladdr(m, len, 24, 2) : NULL;

		if (f->ip[7] == 255 && tll)
			neigh_learn(s, 6, m + 8, tll);
		sc_inc(s, SC_NOT_FOR_US);
		return;
	}
	case ICMP6_ECHO:
		if (!stack_is_local(s, 6, f->dst_ip) ||
		    len + NM_ETH_HLEN + 40 > sizeof(buf))
			break;
		off = tx_ip_header(s, buf, f->eth + 6, 6, f->dst_ip, f->src_ip, 58,
				   len, 64);
		memcpy(buf + off, m, len);
		buf[off] = ICMP6_ECHOREP;
		icmp6_csum(buf + off, len, f->dst_ip, f->src_ip);
		stack_tx(s, buf, (uint16_t)(off + len));
		sc_inc(s, SC_ECHO6);
		return;
	default:
		break;
	}
	sc_inc(s, SC_NOT_FOR_US);
}
