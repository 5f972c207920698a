/* SPDX-License-Identifier: MIT */
/*
 * Test builds only: lib/net_iov.c built with -DNM_NET_IOV_TEST_HOOKS (a test
 * compiles it into itself; the library never has this) calls
 * nm_net_iov_test_hook in a pop of the free list after it walked its run
 * and before its CAS, where another thread's take and give decide whether
 * the CAS may succeed: a test puts them exactly there.
 */
#ifndef NETMEM_NET_IOV_TEST_H
#define NETMEM_NET_IOV_TEST_H

#include <netmem/net_iov.h>

extern void (*nm_net_iov_test_hook)(struct nm_net_iov_area *area);

#endif
