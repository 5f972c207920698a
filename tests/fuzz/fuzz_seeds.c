/* SPDX-License-Identifier: MIT */
/*
 * The seed corpus of the TCP fuzz target (tests/fuzz/corpus/), written by
 * `fuzz_tcp_replay --gen DIR`: each seed is one scenario (an in-order
 * stream, holes and overlaps, a full window, the refill ring, a stream
 * across sequence wrap-around, RSTs, two peers and a SYN flood, raw
 * frames, PAWS, a FIN beyond a hole, no options, an orphan, junk options,
 * a half-open peer, odd window scales, 1-byte segments) in each of three configurations
 * (8 buffers IPv4, 16 buffers IPv6, 512 buffers IPv4).
 */
#include <stdio.h>
#include <string.h>

#include "../lib/tcp_frames.h"
#include "fuzz_tcp.h"

#define MSS 1448

struct gb {
	uint8_t b[16384];
	size_t n;
};

static void put(struct gb *g, uint8_t v)
{
	if (g->n < sizeof(g->b))
		g->b[g->n++] = v;
}

static void put32(struct gb *g, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		put(g, (uint8_t)(v >> (8 * i)));
}

#define O_MSS 1
#define O_WS 2
#define O_SACK 4
#define O_TS 8
#define O_HALF 16
#define O_WRAP 32
#define O_LINUX (O_MSS | O_WS | O_SACK | O_TS)

static void syn(struct gb *g, int slot, uint8_t opt, uint32_t iss)
{
	put(g, FZ_SYN);
	put(g, (uint8_t)slot);
	put(g, opt);
	put32(g, iss);
}

/* mode 0 next new byte, 1 at the last ACK, 2 last ACK + arg, 3 seq arg. */
#define F_FIN 1
#define F_RST 2
#define F_SYN 4
#define F_NOACK 8
#define X_NOTS 1
#define X_BADACK 2
#define X_BADCSUM 4

static void seg_x(struct gb *g, int slot, int mode, int flags, uint32_t len, int8_t tsd,
		  uint8_t extra, uint32_t arg, const uint8_t *junk, unsigned int njunk)
{
	put(g, FZ_SEG);
	put(g, (uint8_t)(slot | mode << 2 | flags << 4));
	put(g, (uint8_t)len);
	put(g, (uint8_t)(len >> 8));
	put(g, (uint8_t)tsd);
	put(g, (uint8_t)(extra | njunk << 3));
	put32(g, arg);
	for (unsigned int i = 0; i < njunk; i++)
		put(g, junk[i]);
}

static void seg(struct gb *g, int slot, int mode, int flags, uint32_t len, uint32_t arg)
{
	seg_x(g, slot, mode, flags, len, 1, 0, arg, NULL, 0);
}

static void recv1(struct gb *g, int slot, unsigned int max)
{
	put(g, FZ_RECV);
	put(g, (uint8_t)(slot | (max - 1) << 2));
}

static void release(struct gb *g, int slot, int mode)
{
	put(g, FZ_RELEASE);
	put(g, (uint8_t)(slot | mode << 2));
}

static void refill(struct gb *g, int slot, unsigned int n, int bad)
{
	put(g, FZ_REFILL);
	put(g, (uint8_t)(slot | n << 2 | (bad ? 0x80 : 0)));
}

static void clk(struct gb *g, uint8_t e)
{
	put(g, FZ_CLOCK);
	put(g, e);
}

static void close1(struct gb *g, int slot, int abort_it)
{
	put(g, FZ_CLOSE);
	put(g, (uint8_t)(slot | (abort_it ? 4 : 0)));
}

static void raw(struct gb *g, const uint8_t *f, uint8_t len)
{
	put(g, FZ_RAW);
	put(g, len);
	for (unsigned int i = 0; i < len; i++)
		put(g, f[i]);
}

static void live(struct gb *g, int slot, uint32_t len)
{
	put(g, FZ_LIVE);
	put(g, (uint8_t)slot);
	put(g, (uint8_t)(len - 1));
	put(g, (uint8_t)((len - 1) >> 8));
}

static void flood(struct gb *g, unsigned int n)
{
	put(g, FZ_FLOOD);
	put(g, (uint8_t)n);
}

static void read_all(struct gb *g, int slot)
{
	for (int i = 0; i < 4; i++)
		recv1(g, slot, 16);
	release(g, slot, 0);
}

static void sc_stream(struct gb *g)
{
	syn(g, 0, O_LINUX, 1000);
	for (int i = 0; i < 24; i++) {
		seg(g, 0, 0, 0, MSS, 0);
		if (i % 4 == 3) {
			read_all(g, 0);
			live(g, 0, MSS);
		}
	}
	seg(g, 0, 0, F_FIN, 0, 0);
	read_all(g, 0);
	recv1(g, 0, 1);
	close1(g, 0, 0);
	clk(g, 28);
}

static void sc_holes(struct gb *g)
{
	syn(g, 0, O_LINUX, 0x12345678);
	seg(g, 0, 2, 0, MSS, 2 * MSS);
	seg(g, 0, 2, 0, MSS, 4 * MSS);
	seg(g, 0, 2, 0, MSS, 4 * MSS);          /* duplicate */
	seg(g, 0, 2, 0, MSS, 3 * MSS + MSS / 2); /* overlaps 3 and 4 */
	seg(g, 0, 1, 0, MSS, 0);                 /* fills the first hole */
	seg(g, 0, 2, 0, MSS, (uint32_t)-700);    /* old and new bytes */
	seg(g, 0, 2, 0, 300, 100);
	read_all(g, 0);
	live(g, 0, 1000);
	seg(g, 0, 0, 0, MSS, 0);
	read_all(g, 0);
	clk(g, 26);
}

static void sc_fill(struct gb *g)
{
	syn(g, 0, O_LINUX, 77);
	for (int i = 0; i < 48; i++)
		seg(g, 0, 0, 0, MSS, 0);
	live(g, 0, MSS);
	clk(g, 20);
	seg(g, 0, 1, 0, 0, 0);                   /* zero-window probe */
	read_all(g, 0);
	clk(g, 21);
	live(g, 0, MSS);
	for (int i = 0; i < 8; i++)
		seg(g, 0, 0, 0, MSS, 0);
	read_all(g, 0);
}

static void sc_refill(struct gb *g)
{
	syn(g, 0, O_LINUX, 5);
	for (int i = 0; i < 8; i++)
		seg(g, 0, 0, 0, MSS, 0);
	recv1(g, 0, 16);
	refill(g, 0, 3, 0);
	clk(g, 21);
	refill(g, 0, 2, 1);
	clk(g, 21);
	release(g, 0, 3);                        /* names an unknown token: refused */
	release(g, 0, 4);                        /* one token twice: refused */
	release(g, 0, 2);
	live(g, 0, MSS);
	read_all(g, 0);
}

static void sc_wrap(struct gb *g)
{
	syn(g, 0, O_LINUX | O_WRAP, 0x4000);     /* ISS 2^32 - 1 - 0x4000 */
	for (int i = 0; i < 40; i++) {
		if (i % 7 == 3)
			seg(g, 0, 2, 0, MSS, 2 * MSS);
		seg(g, 0, 0, 0, MSS, 0);
		if (i % 5 == 4)
			read_all(g, 0);
	}
	seg(g, 0, 1, 0, MSS, 0);
	live(g, 0, 999);
	read_all(g, 0);
}

static void sc_rst(struct gb *g)
{
	syn(g, 0, O_LINUX, 0xfffffff0u);
	seg(g, 0, 0, 0, MSS, 0);
	seg(g, 0, 0, 0, MSS, 0);
	seg(g, 0, 2, F_RST, 0, 100);             /* in window, not at rcv_nxt */
	seg(g, 0, 1, F_SYN, 0, 0);               /* SYN on a connection */
	read_all(g, 0);
	live(g, 0, 500);
	seg(g, 0, 1, F_RST, 0, 0);               /* at rcv_nxt: reset */
	recv1(g, 0, 4);
	close1(g, 0, 0);
	clk(g, 30);
}

static void sc_two(struct gb *g)
{
	syn(g, 0, O_LINUX, 1);
	syn(g, 1, O_LINUX | O_WRAP, 9);
	for (int i = 0; i < 12; i++) {
		seg(g, i & 1, 0, 0, MSS, 0);
		if (i == 5)
			flood(g, 40);
	}
	live(g, 0, MSS);
	live(g, 1, MSS);
	read_all(g, 1);
	clk(g, 255);
	live(g, 0, MSS);
	read_all(g, 0);
	syn(g, 2, O_LINUX, 3);
	seg(g, 2, 0, 0, MSS, 0);
	read_all(g, 2);
}

static void sc_raw(struct gb *g)
{
	uint8_t f[256];
	size_t n;

	memset(f, 0xff, 6);
	memset(f + 6, 0x52, 6);
	tf_put16(f + 12, 0x0806);
	memset(f + 14, 0, 46);
	tf_put16(f + 14, 1);
	tf_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	tf_put16(f + 20, 1);
	f[38] = 169, f[39] = 254, f[40] = 0, f[41] = 11;
	raw(g, f, 60);
	syn(g, 0, O_LINUX, 4242);
	seg(g, 0, 0, 0, 200, 0);
	for (n = 0; n < 90; n++)
		f[n] = (uint8_t)(n * 37);
	raw(g, f, 90);
	tf_put16(f + 12, 0x0800);
	f[14] = 0x46;                            /* IP options, truncated */
	raw(g, f, 40);
	tf_put16(f + 12, 0x86dd);
	raw(g, f, 54);
	read_all(g, 0);
}

static void sc_paws(struct gb *g)
{
	syn(g, 0, O_LINUX, 31337);
	seg_x(g, 0, 0, 0, MSS, 5, 0, 0, NULL, 0);
	seg_x(g, 0, 0, 0, MSS, -100, 0, 0, NULL, 0);   /* older timestamp */
	seg_x(g, 0, 0, 0, MSS, 127, 0, 0, NULL, 0);
	seg_x(g, 0, 0, 0, MSS, 1, X_NOTS, 0, NULL, 0);
	seg_x(g, 0, 0, 0, MSS, 1, X_BADCSUM, 0, NULL, 0);
	seg_x(g, 0, 0, 0, MSS, 1, X_BADACK, 0, NULL, 0);
	read_all(g, 0);
	live(g, 0, MSS);
}

static void sc_fin_hole(struct gb *g)
{
	syn(g, 0, O_LINUX, 600);
	seg(g, 0, 2, F_FIN, MSS, MSS);           /* data + FIN beyond a hole */
	clk(g, 22);
	seg(g, 0, 1, 0, MSS, 0);                 /* the hole */
	read_all(g, 0);
	recv1(g, 0, 1);
	close1(g, 0, 0);
	seg(g, 0, 1, 0, 0, 0);
	clk(g, 31);
}

static void sc_noopts(struct gb *g)
{
	syn(g, 0, O_MSS, 2000);
	seg_x(g, 0, 2, 0, 1460, 0, X_NOTS, 1460, NULL, 0);
	seg_x(g, 0, 1, 0, 1460, 0, X_NOTS, 0, NULL, 0);
	seg_x(g, 0, 0, 0, 700, 0, X_NOTS, 0, NULL, 0);
	read_all(g, 0);
	live(g, 0, 1460);
}

static void sc_orphan(struct gb *g)
{
	syn(g, 0, O_LINUX, 7);
	seg(g, 0, 0, 0, MSS, 0);
	seg(g, 0, 0, 0, MSS, 0);
	close1(g, 0, 0);                         /* unread data: RST */
	seg(g, 0, 0, 0, MSS, 0);
	syn(g, 1, O_LINUX, 8);
	seg(g, 1, 0, 0, 10, 0);
	read_all(g, 1);
	close1(g, 1, 0);                         /* our FIN */
	seg(g, 1, 0, 0, 10, 0);                  /* data after close: RST */
	clk(g, 255);
}

static void sc_junkopts(struct gb *g)
{
	static const uint8_t j1[7] = { 5, 10, 0, 0, 0, 1, 0 };
	static const uint8_t j2[5] = { 8, 10, 1, 2, 3 };
	static const uint8_t j3[3] = { 2, 0, 1 };

	syn(g, 0, O_LINUX, 99);
	seg_x(g, 0, 0, 0, 100, 1, 0, 0, j1, 7);
	seg_x(g, 0, 0, 0, 100, 1, X_NOTS, 0, j2, 5);
	seg_x(g, 0, 0, 0, 100, 1, 0, 0, j3, 3);
	seg(g, 0, 0, F_NOACK, 100, 0);
	read_all(g, 0);
}

static void sc_halfopen(struct gb *g)
{
	syn(g, 0, O_LINUX | O_HALF, 10);
	clk(g, 255);
	clk(g, 255);
	syn(g, 1, O_LINUX | O_HALF, 11);
	seg(g, 1, 1, 0, MSS, 0);                 /* the third ACK with data */
	read_all(g, 1);
	clk(g, 255);
	clk(g, 255);
	clk(g, 255);
}

static void sc_scales(struct gb *g)
{
	syn(g, 0, O_LINUX | 0x80, 12);           /* WS 14 */
	syn(g, 1, O_LINUX | 0x40, 13);           /* WS 0 */
	syn(g, 2, O_MSS | O_TS, 14);             /* no WS, no SACK */
	for (int i = 0; i < 6; i++) {
		seg(g, i % 3, 0, 0, 1600, 0);    /* bigger than the MSS */
		seg(g, i % 3, 2, 0, MSS, 3 * MSS);
	}
	read_all(g, 0);
	read_all(g, 1);
	read_all(g, 2);
	live(g, 2, MSS);
}

/* 1-byte segments: in order, then out of order past the reassembly
 * queue's slots (with 512 buffers), then the holes. */
static void sc_tiny(struct gb *g)
{
	syn(g, 0, O_LINUX, 0xfffffd00u);
	for (int i = 0; i < 40; i++)
		seg(g, 0, 0, 0, 1, 0);
	read_all(g, 0);
	for (int i = 1; i <= 300; i++)
		seg(g, 0, 2, 0, 1, (uint32_t)(2 * i));
	live(g, 0, 1);
	read_all(g, 0);
	for (int i = 0; i < 8; i++)
		seg(g, 0, 1, 0, MSS, 0);
	read_all(g, 0);
}

/* Out-of-order runs that touch (one SACK block), a segment overlapping
 * the next one's front (trimmed at its back), one covering others, and a
 * hole filled by a segment that ends where a held one ends. */
static void sc_runs(struct gb *g)
{
	syn(g, 0, O_LINUX, 0x7ffff000u);
	seg(g, 0, 2, 0, MSS, 2 * MSS);
	seg(g, 0, 2, 0, MSS, 3 * MSS);           /* touches the run before */
	seg(g, 0, 2, 0, MSS, 5 * MSS);
	seg(g, 0, 2, 0, MSS, 4 * MSS - 100);     /* overlaps the front of 5 */
	seg(g, 0, 2, 0, 100, 7 * MSS + 10);
	seg(g, 0, 2, 0, 100, 7 * MSS + 200);
	seg(g, 0, 2, 0, 600, 7 * MSS);           /* covers both */
	seg(g, 0, 2, 0, 500, 1000);
	seg(g, 0, 1, 0, 1500, 0);                /* in order, ends where 1000+500 does */
	read_all(g, 0);
	seg(g, 0, 1, 0, MSS, 0);
	read_all(g, 0);
	live(g, 0, MSS);
}

/* Two peers on one queue: the second takes the budget while the first's
 * window is open; the first is told a smaller window only as its edge
 * allows. */
static void sc_share(struct gb *g)
{
	syn(g, 0, O_LINUX, 100);
	seg(g, 0, 0, 0, MSS, 0);
	clk(g, 26);
	syn(g, 1, O_LINUX, 200);
	for (int i = 0; i < 40; i++)
		seg(g, 1, 0, 0, MSS, 0);
	for (int i = 0; i < 4; i++)
		seg(g, 0, 0, 0, MSS, 0);
	clk(g, 26);
	live(g, 0, MSS);
	read_all(g, 1);
	clk(g, 21);
	live(g, 0, MSS);
	live(g, 1, MSS);
}

/* Both closes: we close first (our FIN acknowledged, then theirs:
 * FIN_WAIT_2, TIME_WAIT and their FIN again), and they do (LAST_ACK);
 * a half-open peer sends its SYN again. */
static void sc_closes(struct gb *g)
{
	syn(g, 0, O_LINUX, 300);
	seg(g, 0, 0, 0, 100, 0);
	read_all(g, 0);
	close1(g, 0, 0);                         /* our FIN */
	seg(g, 0, 1, 0, 0, 0);                   /* acknowledges it */
	seg(g, 0, 0, F_FIN, 0, 0);               /* theirs: TIME_WAIT */
	seg(g, 0, 1, F_FIN, 0, 0);               /* again: our ACK was lost */
	clk(g, 31);
	syn(g, 1, O_LINUX, 400);
	seg(g, 1, 0, F_FIN, 50, 0);
	read_all(g, 1);
	recv1(g, 1, 1);
	close1(g, 1, 0);                         /* LAST_ACK */
	seg(g, 1, 1, 0, 0, 0);
	syn(g, 2, O_LINUX | O_HALF, 500);
	seg(g, 2, 0, F_SYN | F_NOACK, 0, 0);     /* its SYN again */
	clk(g, 31);
	clk(g, 255);
}

int fz_gen_seeds(const char *dir)
{
	static const struct {
		const char *name;
		void (*fn)(struct gb *);
	} sc[] = {
		{ "stream", sc_stream }, { "holes", sc_holes }, { "fill", sc_fill },
		{ "refill", sc_refill }, { "wrap", sc_wrap }, { "rst", sc_rst },
		{ "two-flood", sc_two }, { "raw", sc_raw }, { "paws", sc_paws },
		{ "fin-hole", sc_fin_hole }, { "noopts", sc_noopts },
		{ "orphan", sc_orphan }, { "junkopts", sc_junkopts },
		{ "halfopen", sc_halfopen }, { "scales", sc_scales }, { "tiny", sc_tiny },
		{ "runs", sc_runs }, { "share", sc_share }, { "closes", sc_closes },
	};
	static const struct {
		const char *name;
		uint8_t cfg;
	} cf[] = { { "8buf-v4", 0 }, { "16buf-v6", 1 | 4 }, { "512buf-v4", 3 } };
	static struct gb g;
	int n = 0;

	for (size_t c = 0; c < sizeof(cf) / sizeof(cf[0]); c++)
		for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
			char path[4096];
			FILE *f;

			g.n = 0;
			put(&g, cf[c].cfg);
			sc[i].fn(&g);
			snprintf(path, sizeof(path), "%s/%s-%s", dir, sc[i].name, cf[c].name);
			f = fopen(path, "wb");
			if (!f || fwrite(g.b, 1, g.n, f) != g.n) {
				if (f)
					fclose(f);
				return -1;
			}
			fclose(f);
			n++;
		}
	return n;
}
