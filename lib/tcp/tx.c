/* SPDX-License-Identifier: MIT */
/* Headers of the frames the stack sends, and the RST for strangers. */
#include <string.h>

#include "tcp_internal.h"

size_t tx_ip_header(struct nm_stack *s, uint8_t *buf, const uint8_t *dst_mac,
		    uint8_t ipver, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, uint32_t l4len, uint8_t hop_limit)
{
	uint8_t *ip = buf + NM_ETH_HLEN;

	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, s->port->mac, 6);
	put16(buf + 12, ipver == 4 ? ETH_P_IP_ : ETH_P_IP6_);
	if (ipver == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, (uint16_t)atomic_fetch_add_explicit(&s->ip_id, 1,
							       memory_order_relaxed));
		put16(ip + 6, 0x4000);  /* DF */
		ip[8] = hop_limit;
		ip[9] = proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, nm_csum_fold(nm_csum_add(0, ip, 20)));
		return NM_ETH_HLEN + 20;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = proto;
	ip[7] = hop_limit;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	return NM_ETH_HLEN + 40;
}

/* RFC 793 "reset generation": answer a segment that belongs nowhere. */
void tx_rst_reply(struct nm_stack *s, struct rx_frame *f)
{
	const uint8_t *th = f->l4;
	uint8_t flags = th[13];
	uint8_t buf[NM_TX_FRAME_MAX];
	uint32_t seq = 0, ack = 0;
	uint8_t *t;
	size_t off;
	uint32_t seglen;

	if (flags & TH_RST)
		return;
	seglen = f->l4len - f->l4hlen + !!(flags & TH_SYN) + !!(flags & TH_FIN);
	off = tx_ip_header(s, buf, f->eth + 6, f->ipver, f->dst_ip, f->src_ip,
			   6, 20, 64);
	t = buf + off;
	memset(t, 0, 20);
	put16(t, get16(th + 2));
	put16(t + 2, get16(th));
	if (flags & TH_ACK) {
		seq = get32(th + 8);
		t[13] = TH_RST;
	} else {
		ack = get32(th + 4) + seglen;
		t[13] = TH_RST | TH_ACK;
	}
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	put16(t + 16, nm_csum_fold(nm_csum_add(nm_csum_pseudo(f->ipver, f->dst_ip,
							      f->src_ip, 6, 20),
					      t, 20)));
	stack_tx(s, buf, (uint16_t)(off + 20));
	sc_inc(s, SC_RST_SENT);
}
