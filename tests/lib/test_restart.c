/* SPDX-License-Identifier: MIT */
/*
 * The common restart path, on the software NIC: check-first refusals run no
 * driver callback and leave the queue receiving; failing driver steps roll
 * back to the old memory.
 */
#include <netmem/netmem.h>
#include <netmem/sim.h>

#include "nm_test.h"
#include "sim_flow.h"

struct rig {
	struct nm_sim *sim;
	struct nm_netdev *dev;
	struct nm_dmabuf *buf;
	struct nm_dmabuf_binding *b;
	struct test_flow tf;
};

static int rig_up(struct rig *r, uint32_t queue, uint32_t caps)
{
	struct nm_sim_params sp = { .num_rx_queues = 4, .ring_size = 64,
				    .no_hugepages = true };

	memset(r, 0, sizeof(*r));
	if (nm_sim_create(&sp, &r->sim, NULL))
		return -1;
	r->dev = nm_sim_netdev(r->sim);
	nm_sim_set_queue_caps(r->sim, queue, caps);
	if (nm_dmabuf_create_memfd(1 << 20, &r->buf, NULL) ||
	    nm_dmabuf_binding_create(r->dev->dma, r->buf, NULL, &r->b, NULL))
		return -1;
	test_flow_init(&r->tf, "udp4", 5201, 1400);
	return nm_sim_steer(r->sim, &r->tf.flow, queue);
}

static void rig_down(struct rig *r)
{
	/* A queue without the restart flag cannot leave the binding while
	 * the device runs: unbind says so; once the device is gone it only
	 * drops the reference. */
	int unbound = r->b ? nm_dmabuf_binding_unbind(r->b) : 0;

	nm_sim_destroy(r->sim);
	if (unbound)
		nm_dmabuf_binding_unbind(r->b);
	nm_dmabuf_put(r->buf);
}

static void test_refused_bind_runs_no_callback(void)
{
	struct rig r;
	struct test_ops before;
	struct nm_err err = { 0 };
	struct nm_sim_rxq_stats st;

	CHECK_EQ(rig_up(&r, 2, NM_RXQ_CAP_HEADER_SPLIT | NM_RXQ_CAP_RESTART), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 20, NULL), 0);
	test_ops_snap(r.sim, &before);

	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 2, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "lacks unreadable") != NULL, "reason: %s", err.msg);
	printf("# refused as expected: %s\n", err.msg);
	for (int op = 0; op < NM_SIM_OP_COUNT; op++)
		CHECK_EQ(test_ops_since(r.sim, &before, (enum nm_sim_op)op), 0);
	CHECK(r.dev->rxqs[2].mp.ops == NULL);
	CHECK_EQ(r.dev->rxqs[2].counters.refused, 1);
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 0);
	CHECK_EQ(r.b->num_bound, 0);
	/* The queue never stopped: traffic goes on, nothing dropped. */
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 20, NULL), 0);
	nm_sim_rxq_stats(r.sim, 2, &st);
	CHECK_EQ(st.packets, 40);
	CHECK_EQ(st.drop_stopped + st.drop_no_buf, 0);
	rig_down(&r);
}

static void test_running_queue_without_restart_flag_is_refused(void)
{
	struct rig r;
	struct test_ops before;
	struct nm_err err = { 0 };

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT), 0);
	test_ops_snap(r.sim, &before);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, &err), -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "restart") != NULL, "reason: %s", err.msg);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_ALLOC), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, NULL), 0);
	rig_down(&r);
}

static void test_failing_mem_alloc_keeps_old_memory(void)
{
	struct rig r;
	struct test_ops before;
	struct nm_err err = { 0 };

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	void *old_qmem = r.dev->rxqs[1].qmem;

	test_ops_snap(r.sim, &before);
	nm_sim_fail_next(r.sim, NM_SIM_OP_MEM_ALLOC, -ENOMEM);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, &err), -ENOMEM);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_ALLOC), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_STOP), 0);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_START), 0);
	CHECK(r.dev->rxqs[1].qmem == old_qmem);
	CHECK(r.dev->rxqs[1].mp.ops == NULL);
	CHECK_EQ(r.dev->rxqs[1].counters.rollbacks, 1);
	CHECK_EQ(atomic_load(&r.b->refs), 1);          /* no pool kept it */
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 20, NULL), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 0);                 /* still host memory */
	rig_down(&r);
}

static void test_failing_start_rolls_back(void)
{
	struct rig r;
	struct test_ops before;
	struct nm_err err = { 0 };

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, NULL), 0);
	test_ops_snap(r.sim, &before);
	nm_sim_fail_next(r.sim, NM_SIM_OP_START, -EIO);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, &err), -EIO);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_ALLOC), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_STOP), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_START), 2); /* new failed, old again */
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_FREE), 1);
	CHECK(r.dev->rxqs[1].qmem != NULL);
	CHECK(r.dev->rxqs[1].mp.ops == NULL);
	CHECK_EQ(nm_net_iov_area_in_use(&r.b->area), 0);
	CHECK_EQ(atomic_load(&r.b->refs), 1);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 20, NULL), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 0);
	rig_down(&r);
}

static void test_failing_stop_keeps_queue_running(void)
{
	struct rig r;
	struct test_ops before;

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	test_ops_snap(r.sim, &before);
	nm_sim_fail_next(r.sim, NM_SIM_OP_STOP, -EBUSY);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, NULL), -EBUSY);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_START), 0);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_FREE), 1);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 20, NULL), 0);
	rig_down(&r);
}

static void test_restart_runs_each_step_once(void)
{
	struct rig r;
	struct test_ops before;

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	test_ops_snap(r.sim, &before);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, NULL), 0);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_ALLOC), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_STOP), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_START), 1);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_FREE), 1);
	CHECK_EQ(r.dev->rxqs[1].counters.restarts, 1);
	CHECK(r.dev->rxqs[1].mp.ops == &nm_mp_dmabuf_ops);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 20, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 20);
	rig_down(&r);
}

static void test_other_queues_untouched_by_restart(void)
{
	struct rig r;
	struct test_flow other;
	struct nm_sim_rxq_stats st;
	void *q0;

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	test_flow_init(&other, "tcp6", 6000, 1000);
	CHECK_EQ(nm_sim_steer(r.sim, &other.flow, 0), 0);
	q0 = r.dev->rxqs[0].qmem;
	CHECK_EQ(test_flow_send(r.sim, &other, 30), 30);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, NULL), 0);
	CHECK_EQ(test_flow_send(r.sim, &other, 30), 30);
	CHECK(r.dev->rxqs[0].qmem == q0);
	/* Frames that arrived before and during queue 1's restart are all
	 * there, in order, intact. */
	CHECK_EQ(test_flow_recv(r.sim, 0, &other, NULL, NULL, 0), 60);
	CHECK_EQ(other.mismatches + other.hdr_mismatches, 0);
	nm_sim_rxq_stats(r.sim, 0, &st);
	CHECK_EQ(st.drop_stopped + st.drop_no_buf, 0);
	rig_down(&r);
}

static void test_bind_while_down_applies_at_open(void)
{
	struct rig r;
	struct test_ops before;

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_UNREADABLE | NM_RXQ_CAP_HEADER_SPLIT), 0);
	nm_netdev_close(r.dev);
	test_ops_snap(r.sim, &before);
	/* No restart needed while down, so no restart flag needed. */
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, NULL), 0);
	CHECK_EQ(test_ops_since(r.sim, &before, NM_SIM_OP_MEM_ALLOC), 0);
	CHECK_EQ(nm_netdev_open(r.dev, NULL), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 10);
	/* Up again, the queue cannot restart: unbind refuses and says why. */
	CHECK_EQ(nm_dmabuf_binding_unbind(r.b), -EOPNOTSUPP);
	CHECK(r.dev->rxqs[1].mp.ops == &nm_mp_dmabuf_ops);
	rig_down(&r);
}

/* A user's extra need (rx-csum, as a TCP listener on unreadable memory has)
 * is checked in the same place: refused with zero callbacks, zero restarts,
 * the queue still receiving; a queue with the flag takes the same bind. */
static void test_extra_caps_refused_first(void)
{
	struct rig r;
	struct test_ops before;
	struct nm_err err = { 0 };

	CHECK_EQ(rig_up(&r, 2, NM_RXQ_CAP_ALL & ~NM_RXQ_CAP_RX_CSUM), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 10, NULL), 0);
	test_ops_snap(r.sim, &before);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq_caps(r.b, r.dev, 2, NM_RXQ_CAP_RX_CSUM, &err),
		 -EOPNOTSUPP);
	CHECK_MSG(strstr(err.msg, "lacks rx-csum") != NULL, "reason: %s", err.msg);
	for (int op = 0; op < NM_SIM_OP_COUNT; op++)
		CHECK_EQ(test_ops_since(r.sim, &before, (enum nm_sim_op)op), 0);
	CHECK_EQ(r.dev->rxqs[2].counters.refused, 1);
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 0);
	CHECK(r.dev->rxqs[2].mp.ops == NULL);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 2, 10, NULL), 0);
	/* Without the extra need the same queue takes it. */
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 2, &err), 0);
	CHECK_EQ(r.dev->rxqs[2].counters.restarts, 1);
	rig_down(&r);
}

/*
 * Unbind whose restart back to host memory fails: the failure comes back,
 * and the queue says where it truly is: still on the dmabuf, still
 * receiving there. A second unbind, with the driver healthy, completes.
 */
static void test_failed_unbind_tells_the_truth(void)
{
	struct rig r;
	struct nm_rxq_info info;
	struct nm_err err = { 0 };
	struct nm_dmabuf_binding *again;

	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, NULL), 0);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 10);

	nm_sim_fail_next(r.sim, NM_SIM_OP_MEM_ALLOC, -ENOMEM);
	CHECK_EQ(nm_dmabuf_binding_unbind_err(r.b, &err), -ENOMEM);
	CHECK_MSG(strstr(err.msg, "binding") && strstr(err.msg, "restart failed"),
		  "%s", err.msg);
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 1, &info), 0);
	CHECK_MSG(!strcmp(info.provider, "dmabuf"), "%s", info.provider);
	CHECK(info.running);
	CHECK(r.dev->rxqs[1].mp.ops == &nm_mp_dmabuf_ops);
	CHECK_EQ(r.b->num_bound, 1);
	/* Still receiving into the dmabuf, as queue-get says. */
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 20);
	/* Unbinding has begun: no new queue joins. */
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 2, &err), -ENOENT);

	/* A start that fails (the old memory restarts): the same truth. */
	nm_sim_fail_next(r.sim, NM_SIM_OP_START, -EIO);
	CHECK_EQ(nm_dmabuf_binding_unbind_err(r.b, &err), -EIO);
	CHECK(r.dev->rxqs[1].mp.ops == &nm_mp_dmabuf_ops);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 5, r.buf), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 25);

	CHECK_EQ(nm_dmabuf_binding_unbind_err(r.b, &err), 0);
	r.b = NULL;
	CHECK_EQ(nm_netdev_rxq_info(r.dev, 1, &info), 0);
	CHECK_MSG(!strcmp(info.provider, "host"), "%s", info.provider);
	CHECK_EQ(test_flow_round_trip(r.sim, &r.tf, 1, 10, NULL), 0);
	CHECK_EQ(r.tf.net_iov_pkts, 25);
	/* The dmabuf is free to bind again. */
	CHECK_EQ(nm_dmabuf_binding_create(r.dev->dma, r.buf, NULL, &again, &err), 0);
	nm_dmabuf_binding_unbind(again);
	CHECK_EQ(atomic_load(&r.buf->refs), 1);  /* only ours: nothing leaked */
	rig_down(&r);
}

/* A reused struct nm_err (an old failure still in it) gets the new reason,
 * not the old one. */
static void test_restart_reason_with_reused_err(void)
{
	struct rig r;
	struct nm_err err = { .code = -EBUSY };

	snprintf(err.msg, sizeof(err.msg), "stale reason");
	CHECK_EQ(rig_up(&r, 1, NM_RXQ_CAP_ALL), 0);
	nm_sim_fail_next(r.sim, NM_SIM_OP_STOP, -EIO);
	CHECK_EQ(nm_dmabuf_binding_bind_rxq(r.b, r.dev, 1, &err), -EIO);
	CHECK_EQ(err.code, -EIO);
	CHECK_MSG(strstr(err.msg, "restart failed") != NULL, "%s", err.msg);
	CHECK_MSG(strstr(err.msg, "stale") == NULL, "%s", err.msg);
	rig_down(&r);
}

NM_TEST_MAIN(
	NM_TEST(test_refused_bind_runs_no_callback),
	NM_TEST(test_running_queue_without_restart_flag_is_refused),
	NM_TEST(test_failing_mem_alloc_keeps_old_memory),
	NM_TEST(test_failing_start_rolls_back),
	NM_TEST(test_failing_stop_keeps_queue_running),
	NM_TEST(test_restart_runs_each_step_once),
	NM_TEST(test_other_queues_untouched_by_restart),
	NM_TEST(test_bind_while_down_applies_at_open),
	NM_TEST(test_extra_caps_refused_first),
	NM_TEST(test_failed_unbind_tells_the_truth),
	NM_TEST(test_restart_reason_with_reused_err),
)
