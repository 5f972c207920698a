/* SPDX-License-Identifier: MIT */
/* Force-included into every DPDK app/test unit tests/dpdk/app-test.sh
 * builds: DPDK's build config, less the libraries whose secondary-process
 * tests (timer, pdump) test.c would call and this build leaves out. */
#include <rte_config.h>
#undef RTE_LIB_TIMER
#undef RTE_LIB_PDUMP
