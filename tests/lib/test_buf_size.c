/* SPDX-License-Identifier: MIT */
/*
 * Buffer sizes as a checked capability (the kernel's rx_buf_len): a queue
 * says which sizes it takes, the common restart path refuses a provider
 * whose buffers are outside them before any driver callback (0 restarts,
 * the queue keeps receiving), and the size in effect is reported back.
 */
#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

struct rig {
	struct nm_sim *sim;
	struct nm_netdev *dev;
	struct nm_dmabuf *buf;
	struct test_flow tf;
	struct test_ops ops;
};

static int rig_up(struct rig *r, uint32_t queue, uint32_t payload)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64,
				    .no_hugepages = true };

	memset(r, 0, sizeof(*r));
	if (nm_sim_create(&sp, &r->sim, NULL))
		return -1;
	r->dev = nm_sim_netdev(r->sim);
	if (nm_dmabuf_create_memfd(4 << 20, &r->buf, NULL))
		return -1;
	test_flow_init(&r->tf, "udp4", 5201, payload);
	return nm_sim_steer(r->sim, &r->tf.flow, queue);
}

static void rig_down(struct rig *r)
{
	nm_sim_destroy(r->sim);
	nm_dmabuf_put(r->buf);
}

static int binding(struct rig *r, uint32_t size, struct nm_dmabuf_binding **b)
{
	struct nm_binding_params bp = { .buf_size = size };

	return nm_dmabuf_binding_create(r->dev->dma, r->buf, &bp, b, NULL);
}

static const struct nm_rxq_buf_sizes narrow = { .min = 2048, .max = 8192, .step = 1024 };

static void test_default_sizes_declared_and_reported(void)
{
	struct rig r;
	struct nm_rxq_info info;

	CHECK_EQ(rig_up(&r, 1, 1000), 0);
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 1, &info), 0);
	CHECK_EQ(info.buf_sizes.min, 256);
	CHECK_EQ(info.buf_sizes.max, 65536);
	CHECK_EQ(info.buf_sizes.step, 256);
	/* On the driver's default memory: its 2 KiB buffers are in effect. */
	CHECK_EQ(info.buf_size, 2048);
	rig_down(&r);
}

static void test_unsupported_size_refused_before_any_callback(void)
{
	struct rig r;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_err err = { 0 };
	struct nm_sim_rxq_stats st;
	struct nm_rxq_info info;

	CHECK_EQ(rig_up(&r, 2, 1400), 0);
	CHECK_EQ(nm_sim_set_queue_buf_sizes(r.sim, 2, &narrow), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 20, NULL), 0);
	CHECK_EQ(binding(&r, 16384, &b), 0);
	test_ops_snap(r.sim, &r.ops);

	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, r.dev, 2, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "buffers are 16384 B") &&
		  strstr(err.msg, "2048-8192 B in steps of 1024") &&
		  strstr(err.msg, "refused before touching the queue"), "reason: %s", err.msg);
	printf("# refused as expected: %s\n", err.msg);
	CHECK_EQ(test_ops_total_since(r.sim, &r.ops), 0);
	CHECK(r.dev->rxqs[2].mp.ops == NULL);
	CHECK_EQ(r.dev->rxqs[2].counters.refused, 1);
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 0);
	CHECK_EQ(r.dev->rxqs[2].counters.rollbacks, 0);
	CHECK_EQ(b->num_bound, 0);
	/* The queue never stopped: traffic goes on, nothing dropped, and it
	 * still says it runs on its 2 KiB default buffers. */
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 20, NULL), 0);
	nm_sim_rxq_stats(r.sim, 2, &st);
	CHECK_EQ(st.packets, 40);
	CHECK_EQ(st.drop_stopped + st.drop_no_buf + st.drop_too_big, 0);
	CHECK_EQ(r.tf.net_iov_pkts, 0);
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 2, &info), 0);
	CHECK_EQ(info.buf_size, 2048);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	rig_down(&r);
}

static void test_size_off_the_step_refused(void)
{
	struct rig r;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_err err = { 0 };
	const struct nm_rxq_buf_sizes kib = { .min = 1024, .max = 65536, .step = 1024 };

	CHECK_EQ(rig_up(&r, 1, 400), 0);
	CHECK_EQ(nm_sim_set_queue_buf_sizes(r.sim, 1, &kib), 0);
	CHECK_EQ(binding(&r, 512, &b), 0);
	test_ops_snap(r.sim, &r.ops);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(b, r.dev, 1, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "512 B") != NULL, "reason: %s", err.msg);
	CHECK_EQ(test_ops_total_since(r.sim, &r.ops), 0);
	CHECK_EQ(r.dev->rxqs[1].counters.restarts, 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, NULL), 0);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	rig_down(&r);
}

/* A provider that states no size, on a queue that declares sizes: refused
 * as well, with the reason, 0 callbacks and 0 restarts (it used to pass
 * the check and leave the driver to find out in mem_alloc). */
static void test_provider_without_size_refused(void)
{
	struct rig r;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_err err = { 0 };
	struct nm_mp_params mp;

	CHECK_EQ(rig_up(&r, 2, 600), 0);
	CHECK_EQ(nm_sim_set_queue_buf_sizes(r.sim, 2, &narrow), 0);
	CHECK_EQ(binding(&r, 4096, &b), 0);
	mp = nm_dmabuf_binding_mp(b);
	mp.buf_size = 0;
	test_ops_snap(r.sim, &r.ops);
	CHECK_EQ(nm_rxq_bind_mp(r.dev, 2, &mp, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "states no buffer size") &&
		  strstr(err.msg, "2048-8192 B in steps of 1024"), "reason: %s", err.msg);
	CHECK_EQ(test_ops_total_since(r.sim, &r.ops), 0);
	CHECK(r.dev->rxqs[2].mp.ops == NULL);
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 10, NULL), 0);
	/* Stated, the same provider is taken. */
	mp.buf_size = 4096;
	CHECK_EQ(nm_rxq_bind_mp(r.dev, 2, &mp, &err), 0);
	CHECK_EQ(nm_rxq_unbind_mp(r.dev, 2, &err), 0);
	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	rig_down(&r);
}

/* A size the queue takes: bound with one restart, 8000-byte payloads land
 * whole in 8 KiB buffers of the dmabuf, the size in effect is reported
 * (also in queue-get's JSON), and unbind puts the default size back. */
static void test_supported_size_bound_and_reported(void)
{
	struct rig r;
	struct nm_dmabuf_binding *b = NULL;
	struct nm_netdev *devs[1];
	struct nm_err err = { 0 };
	struct nm_rxq_info info;
	char *json = NULL;
	size_t json_len = 0;
	FILE *out;

	CHECK_EQ(rig_up(&r, 2, 8000), 0);
	devs[0] = r.dev;
	CHECK_EQ(nm_sim_set_queue_buf_sizes(r.sim, 2, &narrow), 0);
	CHECK_EQ(binding(&r, 8192, &b), 0);
	test_ops_snap(r.sim, &r.ops);
	CHECK_MSG(nm_dmabuf_binding_bind_rxq(b, r.dev, 2, &err) == 0, "%s", err.msg);
	CHECK_EQ(test_ops_total_since(r.sim, &r.ops), 4);   /* mem_alloc, stop, start, mem_free */
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 1);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 30, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 30);
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 2, &info), 0);
	CHECK_EQ(info.buf_size, 8192);
	CHECK_EQ(info.buf_sizes.max, 8192);

	out = open_memstream(&json, &json_len);
	CHECK(out != NULL);
	CHECK_EQ(nm_ctl_answer(devs, 1, "queue-get", out), 0);
	fclose(out);
	CHECK_MSG(strstr(json, "\"index\":2,") && strstr(json, "\"buf-size\":8192,"
		  "\"buf-sizes\":{\"min\":2048,\"max\":8192,\"step\":1024"), "%s", json);
	free(json);

	CHECK_EQ(nm_dmabuf_binding_unbind(b), 0);
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 2, &info), 0);
	CHECK_EQ(info.buf_size, 2048);
	rig_down(&r);
}

/* The check is the restart path's, not the dmabuf provider's: host memory
 * of the wrong size is refused the same way. */
static void test_host_provider_checked_too(void)
{
	struct rig r;
	struct nm_host_mem *hm = NULL;
	struct nm_host_mem_params hp = { .size = 1 << 20, .buf_size = 1024,
					 .numa_node = -1, .no_hugepages = true };
	struct nm_mp_params mp;
	struct nm_err err = { 0 };

	CHECK_EQ(rig_up(&r, 3, 400), 0);
	CHECK_EQ(nm_sim_set_queue_buf_sizes(r.sim, 3, &narrow), 0);
	CHECK_EQ(nm_host_mem_create(r.dev->dma, &hp, &hm, NULL), 0);
	mp = nm_host_mem_mp(hm);
	CHECK_EQ(mp.buf_size, 1024);
	test_ops_snap(r.sim, &r.ops);
	CHECK_EQ(nm_rxq_bind_mp(r.dev, 3, &mp, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "provider 'host'") && strstr(err.msg, "1024 B"),
		  "reason: %s", err.msg);
	CHECK_EQ(test_ops_total_since(r.sim, &r.ops), 0);
	CHECK_EQ(r.dev->rxqs[3].counters.restarts, 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 3, 10, NULL), 0);
	nm_host_mem_put(hm);
	rig_down(&r);
}

/* A driver's declaration is validated; a bad one changes nothing. */
static void test_bad_declaration_rejected(void)
{
	struct rig r;
	const struct nm_rxq_buf_sizes bad[] = {
		{ .min = 4096, .max = 2048, .step = 1024 },         /* empty */
		{ .min = 1500, .max = 9000, .step = 1024 },         /* min off step */
		{ .min = 0, .max = 9216, .step = 1024 },            /* no min */
		{ .min = 1024, .max = 9216, .step = 0 },            /* no step */
		{ .min = 2048, .max = 8192, .step = 1024, .dflt = 512 },
	};

	CHECK_EQ(rig_up(&r, 1, 400), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(nm_netdev_set_rxq_buf_sizes(r.dev, 1, &bad[i]), -EINVAL);
		CHECK_EQ(r.dev->rxqs[1].buf_sizes.min, 256);
		CHECK_EQ(r.dev->rxqs[1].buf_sizes.max, 65536);
	}
	CHECK_EQ(nm_netdev_set_rxq_buf_sizes(r.dev, 9, &narrow), -EINVAL);
	rig_down(&r);
}

static void test_sizes_str(void)
{
	struct nm_rxq_buf_sizes any = { 0 }, one = { .min = 4096, .max = 4096, .step = 4096 };
	char buf[64];

	CHECK(!strcmp(nm_rxq_buf_sizes_str(&any, buf, sizeof(buf)), "any"));
	CHECK(!strcmp(nm_rxq_buf_sizes_str(&one, buf, sizeof(buf)), "4096 B only"));
	CHECK(!strcmp(nm_rxq_buf_sizes_str(&narrow, buf, sizeof(buf)),
		      "2048-8192 B in steps of 1024"));
	CHECK(nm_rxq_buf_size_ok(&any, 12345));
	CHECK(nm_rxq_buf_size_ok(&narrow, 3072));
	CHECK(!nm_rxq_buf_size_ok(&narrow, 3000));
	CHECK(!nm_rxq_buf_size_ok(&narrow, 1024));
	CHECK(!nm_rxq_buf_size_ok(&narrow, 9216));
}

NM_TEST_MAIN(
	NM_TEST(test_default_sizes_declared_and_reported),
	NM_TEST(test_unsupported_size_refused_before_any_callback),
	NM_TEST(test_size_off_the_step_refused),
	NM_TEST(test_provider_without_size_refused),
	NM_TEST(test_supported_size_bound_and_reported),
	NM_TEST(test_host_provider_checked_too),
	NM_TEST(test_bad_declaration_rejected),
	NM_TEST(test_sizes_str),
)
