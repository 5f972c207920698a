/* SPDX-License-Identifier: MIT */
/*
 * net_netmem_igb on the host, where no 82576 is: bad devargs and a device
 * that cannot be opened are refused at probe with a clear reason, and
 * nothing is left behind (no port, the next probe still works the same).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "dpdk_test.h"
#include "nm_test.h"

static char *log_buf;
static size_t log_len;
static FILE *log_mem;

/* Probe @devargs through EAL's hot-plug; returns its result, the log in log_buf. */
static int probe(const char *devargs)
{
	int ret;

	fflush(log_mem);
	rewind(log_mem);
	memset(log_buf, 0, log_len);
	ret = rte_dev_probe(devargs);
	fflush(log_mem);
	printf("# %s -> %d\n", devargs, ret);
	for (char *l = log_buf, *e; l && *l; l = e + 1) {
		e = strchrnul(l, '\n');
		printf("#   %.*s\n", (int)(e - l), l);
		if (!*e)
			break;
	}
	return ret;
}

static void expect_refused(const char *devargs, const char *reason)
{
	CHECK(probe(devargs) < 0);
	CHECK_MSG(log_buf && strstr(log_buf, reason), "no '%s' in the log", reason);
	CHECK_EQ(rte_eth_dev_count_avail(), 0);
}

static void test_no_bdf(void)
{
	expect_refused("net_netmem_igb0", "no bdf= devarg");
}

static void test_bad_number(void)
{
	expect_refused("net_netmem_igb1,bdf=0000:00:06.0,queues=two", "bad devargs");
}

static void test_mtu_out_of_range(void)
{
	expect_refused("net_netmem_igb5,bdf=0000:00:06.0,mtu=9001", "takes an MTU of 68 to 9000");
	expect_refused("net_netmem_igb6,bdf=0000:00:06.0,mtu=67", "takes an MTU of 68 to 9000");
}

static void test_unknown_key(void)
{
	expect_refused("net_netmem_igb2,bdf=0000:00:06.0,speed=10", "bad devargs");
}

static void test_no_such_device(void)
{
	expect_refused("net_netmem_igb3,bdf=0000:99:1f.7", "cannot be opened through EAL's VFIO");
	/* The same again: nothing of the first attempt is in the way. */
	expect_refused("net_netmem_igb4,bdf=0000:99:1f.7", "cannot be opened through EAL's VFIO");
}

int main(int argc, char **argv)
{
	static const struct nm_test tests[] = {
		NM_TEST(test_no_bdf),
		NM_TEST(test_bad_number),
		NM_TEST(test_mtu_out_of_range),
		NM_TEST(test_unknown_key),
		NM_TEST(test_no_such_device),
	};
	int ret;

	(void)argc;
	setenv("NETMEM_CTL", "0", 1);
	if (nm_dpdk_test_eal_init(argv[0], NULL))
		return 0;
	log_mem = open_memstream(&log_buf, &log_len);
	rte_openlog_stream(log_mem);
	ret = nm_test_run(tests, sizeof(tests) / sizeof(tests[0]));
	rte_openlog_stream(stderr);
	rte_eal_cleanup();
	return ret;
}
