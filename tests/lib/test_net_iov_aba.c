/* SPDX-License-Identifier: MIT */
/*
 * The free list's ABA case, made deterministic: this test builds
 * lib/net_iov.c with NM_NET_IOV_TEST_HOOKS, and between a pop's walk and its
 * CAS the hook takes the top two buffers and gives the first back, so the
 * top is the same buffer again but its next is not. The pop must see the
 * change (its CAS fails on the change count) and walk again; a pop that
 * trusted the top alone would hand out a buffer that is already out.
 */
#include <stdatomic.h>

#include <netmem/net_iov.h>

#include "../../lib/net_iov_test.h"
#include "nm_test.h"

static struct {
	atomic_bool armed;     /* the hook acts once */
	uint32_t held;         /* what it kept */
	unsigned int calls;
} aba;

static void hook(struct nm_net_iov_area *area)
{
	uint32_t idx[2];

	aba.calls++;
	if (!atomic_exchange(&aba.armed, false))
		return;
	/* Take 0 and 1 (the top two), give 0 back: top 0 again, next 2. */
	if (nm_net_iov_area_take(area, idx, 2, true) != 2)
		return;
	aba.held = idx[1];
	nm_net_iov_area_give(area, idx, 1);
}

static void test_top_taken_and_given_back_mid_pop(void)
{
	struct nm_net_iov_area a;
	uint32_t idx[8], one[1];
	bool out[4] = { false };

	CHECK_EQ(nm_net_iov_area_init(&a, 4, 4096, 0, 0, NULL, false, NULL), 0);
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 4, true), 4);       /* 0..3 */
	/* Stack 0 -> 1 -> 2; 3 stays out. */
	for (uint32_t i = 3; i-- > 0;) {
		one[0] = i;
		nm_net_iov_area_give(&a, one, 1);
	}
	nm_net_iov_test_hook = hook;
	atomic_store(&aba.armed, true);
	CHECK_EQ(nm_net_iov_area_take(&a, one, 1, true), 1);
	nm_net_iov_test_hook = NULL;
	/* The pop's walk (1), the hook's own take (2), the pop walking again
	 * after its CAS failed (3). */
	CHECK_EQ(aba.calls, 3);
	CHECK_EQ(aba.held, 1);
	CHECK_EQ(one[0], 0);
	out[3] = out[aba.held] = out[one[0]] = true;
	/* Free now: only buffer 2; nothing that is out comes back. */
	CHECK_EQ(nm_net_iov_area_in_use(&a), 3);
	CHECK_EQ(nm_net_iov_area_take(&a, idx, 8, false), 1);
	CHECK_EQ(idx[0], 2);
	CHECK(!out[idx[0]]);
	idx[1] = 0;
	idx[2] = 1;
	idx[3] = 3;
	nm_net_iov_area_give(&a, idx, 4);
	CHECK_EQ(nm_net_iov_area_in_use(&a), 0);
	nm_net_iov_area_fini(&a);
}

NM_TEST_MAIN(
	NM_TEST(test_top_taken_and_given_back_mid_pop),
)
