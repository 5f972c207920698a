/* SPDX-License-Identifier: MIT */
/* DPDK's app/test commands.c names the PMD perf test's setters; that test
 * (test_pmd_perf.c, ethdev and ring PMDs) is not part of this build. */
#include <errno.h>

#include <cmdline_parse_string.h>

int test_set_rxtx_conf(cmdline_fixed_string_t mode);
int test_set_rxtx_anchor(cmdline_fixed_string_t type);
int test_set_rxtx_sc(cmdline_fixed_string_t type);

int test_set_rxtx_conf(cmdline_fixed_string_t mode)
{
	(void)mode;
	return -ENOTSUP;
}

int test_set_rxtx_anchor(cmdline_fixed_string_t type)
{
	(void)type;
	return -ENOTSUP;
}

int test_set_rxtx_sc(cmdline_fixed_string_t type)
{
	(void)type;
	return -ENOTSUP;
}
