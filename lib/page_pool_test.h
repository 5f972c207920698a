/* SPDX-License-Identifier: MIT */
/*
 * Test builds only: the page pool built with -DNM_PP_TEST_HOOKS (a test
 * compiles lib/page_pool.c into itself; the library never has this) calls
 * nm_pp_test_hook at the points below, where a race with another thread
 * decides the outcome, so a test can put the other thread's step exactly
 * there instead of hoping a stress loop hits it.
 */
#ifndef NETMEM_PAGE_POOL_TEST_H
#define NETMEM_PAGE_POOL_TEST_H

#include <netmem/page_pool.h>

enum nm_pp_test_point {
	/* nm_page_pool_destroy(): the cache released, the ring still open */
	NM_PP_AT_DESTROY_BEGUN,
	/* nm_page_pool_destroy(): the ring closed, not yet drained */
	NM_PP_AT_RING_CLOSED,
};

extern void (*nm_pp_test_hook)(struct nm_page_pool *pool,
			       enum nm_pp_test_point at);

#endif
