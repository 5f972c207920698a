/* SPDX-License-Identifier: MIT */
/*
 * The igb driver's steering (igb_rss.c) on the host, BAR0 in memory: the
 * redirection table as the device would read it from the RETA registers,
 * after many connections come and go (steers that fail, flows in entry 0,
 * unsteers of flows never steered) and with a UDP listener's port rule.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "igb_internal.h"
#include "nm_test.h"

#define BAR_LEN (128u << 10)

static struct nm_igb *fake_igb(void)
{
	struct nm_igb *igb = calloc(1, sizeof(*igb));

	igb->bar0 = aligned_alloc(4096, BAR_LEN);
	memset((void *)igb->bar0, 0, BAR_LEN);
	snprintf(igb->dev.name, sizeof(igb->dev.name), "fake-igb");
	igb->dev.num_rx_queues = 4;
	pthread_mutex_init(&igb->rss_lock, NULL);
	igb_rss_init(igb);
	return igb;
}

static void fake_free(struct nm_igb *igb)
{
	igb_rss_fini(igb);
	pthread_mutex_destroy(&igb->rss_lock);
	free((void *)igb->bar0);
	free(igb);
}

/* Entry @i as the device reads it. */
static uint32_t reta_hw(struct nm_igb *igb, uint32_t i)
{
	return (igb_rd32(igb->bar0, IGB_RETA(i / 4)) >> (8 * (i % 4))) & 0xff;
}

static struct nm_flow flow4(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct nm_flow f = { .ipver = 4, .l4proto = proto, .src_port = sport, .dst_port = dport };

	inet_pton(AF_INET, "169.254.10.1", f.src_ip);
	inet_pton(AF_INET, "169.254.10.2", f.dst_ip);
	return f;
}

static uint32_t slot_of(const struct nm_flow *f)
{
	return nm_igb_rss_hash(f) & 127;
}

/*
 * 3000 connections, 64 open at a time, to queues 0-3 in turn: every one is
 * unsteered when it ends, also those whose steer failed (an entry owned by
 * another queue, or entry 0), as a stack that unsteers unconditionally
 * would. While they run, each open flow's entry points at its queue; at the
 * end every entry is back on queue 0, no reference is left, and a new
 * table is taken.
 */
static void connections_come_and_go(void)
{
	struct nm_igb *igb = fake_igb();
	struct nm_flow open[64];
	int ok[64];
	uint32_t q[64];
	uint8_t table[128];
	uint16_t refs[128];
	unsigned int refused = 0, in_entry0 = 0;
	struct nm_err err = { 0 };

	for (unsigned int i = 0; i < 3000; i++) {
		unsigned int k = i % 64;

		if (i >= 64)
			nm_igb_unsteer(igb, &open[k]);
		open[k] = flow4(6, (uint16_t)(20000 + i), 5201);
		q[k] = i % 4;
		ok[k] = nm_igb_steer(igb, &open[k], q[k], NULL) == 0;
		refused += !ok[k];
		in_entry0 += ok[k] && slot_of(&open[k]) == 0;
		for (unsigned int j = 0; j < 64 && i >= 64; j++)
			if (ok[j])
				CHECK_EQ(reta_hw(igb, slot_of(&open[j])), q[j]);
	}
	CHECK(refused > 0);          /* collisions happened */
	CHECK(in_entry0 > 0);        /* and flows to queue 0 in entry 0 */
	for (unsigned int k = 0; k < 64; k++)
		nm_igb_unsteer(igb, &open[k]);
	nm_igb_reta_get(igb, table, refs);
	for (unsigned int i = 0; i < 128; i++) {
		CHECK_EQ(refs[i], 0);
		CHECK_EQ(table[i], 0);
		CHECK_EQ(reta_hw(igb, i), 0);
	}
	for (unsigned int i = 0; i < 128; i++)
		table[i] = (uint8_t)(i % 4);
	CHECK_MSG(nm_igb_set_reta(igb, table, &err) == 0, "%s", err.msg);
	CHECK_EQ(reta_hw(igb, 77), 1);
	fake_free(igb);
}

/* The same flow steered twice needs two unsteers; the entry it shares with
 * another flow stays until both are gone; an unsteer of a flow never
 * steered changes nothing. */
static void references_are_per_flow(void)
{
	struct nm_igb *igb = fake_igb();
	struct nm_flow a = flow4(6, 40002, 5201), b, never;
	uint16_t refs[128];
	uint32_t s = slot_of(&a), p;

	/* Another flow in the same entry, and one in another. */
	for (p = 1; p < 65535; p++) {
		b = flow4(6, (uint16_t)p, 5201);
		if (p != 40002 && slot_of(&b) == s)
			break;
	}
	for (p = 1; p < 65535; p++) {
		never = flow4(6, (uint16_t)p, 5201);
		if (slot_of(&never) != s && slot_of(&never))
			break;
	}
	CHECK(s != 0);
	CHECK_EQ(nm_igb_steer(igb, &a, 2, NULL), 0);
	CHECK_EQ(nm_igb_steer(igb, &a, 2, NULL), 0);
	CHECK_EQ(nm_igb_steer(igb, &b, 2, NULL), 0);
	CHECK_EQ(nm_igb_steer(igb, &b, 3, NULL), -EEXIST);
	nm_igb_unsteer(igb, &never);
	nm_igb_unsteer(igb, &a);
	nm_igb_unsteer(igb, &b);
	nm_igb_unsteer(igb, &b);      /* its second steer failed: nothing */
	CHECK_EQ(reta_hw(igb, s), 2);
	nm_igb_reta_get(igb, NULL, refs);
	CHECK_EQ(refs[s], 1);
	nm_igb_unsteer(igb, &a);
	CHECK_EQ(reta_hw(igb, s), 0);
	nm_igb_reta_get(igb, NULL, refs);
	CHECK_EQ(refs[s], 0);
	fake_free(igb);
}

/*
 * A UDP listener on port 5301, queue 1: datagrams to it from any source
 * whose hash is not in entry 0 reach queue 1 from the first. A TCP flow
 * steered to queue 2 keeps its entry while it lives, which then returns
 * to the rule's queue; with the rules gone every entry is on queue 0.
 */
static void udp_port_rule(void)
{
	struct nm_igb *igb = fake_igb();
	struct nm_flow t = flow4(6, 40002, 5201);
	uint8_t table[128] = { 0 };
	struct nm_err err = { 0 };
	unsigned int to_q1 = 0, in_entry0 = 0;

	CHECK_EQ(nm_igb_steer_port(igb, 4, 6, 5201, 1, &err), -EOPNOTSUPP);
	CHECK_MSG(nm_igb_steer_port(igb, 4, 17, 5301, 1, &err) == 0, "%s", err.msg);
	CHECK_MSG(nm_igb_steer_port(igb, 6, 17, 5301, 1, &err) == 0, "%s", err.msg);
	CHECK_EQ(nm_igb_steer_port(igb, 4, 17, 5302, 2, &err), -EEXIST);
	CHECK_EQ(reta_hw(igb, 0), 0);
	for (unsigned int i = 1; i < 128; i++)
		CHECK_EQ(reta_hw(igb, i), 1);
	for (unsigned int sport = 30000; sport < 31000; sport++) {
		struct nm_flow d = flow4(17, (uint16_t)sport, 5301);
		uint32_t s = slot_of(&d);

		in_entry0 += s == 0;
		to_q1 += reta_hw(igb, s) == 1;
	}
	CHECK_EQ(to_q1 + in_entry0, 1000);
	CHECK_EQ(nm_igb_set_reta(igb, table, &err), -EBUSY);
	CHECK_EQ(nm_igb_steer(igb, &t, 2, NULL), 0);
	CHECK_EQ(reta_hw(igb, slot_of(&t)), 2);
	nm_igb_unsteer(igb, &t);
	CHECK_EQ(reta_hw(igb, slot_of(&t)), 1);
	nm_igb_unsteer_port(igb, 4, 17, 5301);
	CHECK_EQ(reta_hw(igb, 5), 1);  /* the IPv6 rule still holds */
	nm_igb_unsteer_port(igb, 6, 17, 5301);
	for (unsigned int i = 0; i < 128; i++)
		CHECK_EQ(reta_hw(igb, i), 0);
	CHECK_MSG(nm_igb_set_reta(igb, table, &err) == 0, "%s", err.msg);
	fake_free(igb);
}

NM_TEST_MAIN(
	NM_TEST(connections_come_and_go),
	NM_TEST(references_are_per_flow),
	NM_TEST(udp_port_rule),
)
