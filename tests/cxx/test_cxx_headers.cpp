// SPDX-License-Identifier: MIT
// Every public header compiles as C++ (built with -Wall -Wextra -Werror), and
// the structs a C++ program shares with the C library have the same layout.
#include <netmem/atomic.h>
#include <netmem/binding.h>
#include <netmem/ctl.h>
#include <netmem/dma_domain.h>
#include <netmem/dmabuf.h>
#include <netmem/err.h>
#include <netmem/igb.h>
#include <netmem/mp.h>
#include <netmem/mp_host.h>
#include <netmem/net_iov.h>
#include <netmem/netdev.h>
#include <netmem/netmem.h>
#include <netmem/page_pool.h>
#include <netmem/pkt.h>
#include <netmem/port.h>
#include <netmem/rx_pkt.h>
#include <netmem/rxq_caps.h>
#include <netmem/sim.h>

#include <cstdio>

#include "layout.h"

#define _Alignof_pool alignof(struct nm_page_pool)
extern "C" const size_t nm_layout_c[NM_LAYOUT_COUNT];
static const size_t nm_layout_cxx[NM_LAYOUT_COUNT] = NM_LAYOUT_TABLE;

int main()
{
	int bad = 0;

	std::printf("1..2\n");
	// A call through an inline function of the headers, from C++.
	nm_err err = {};
	nm_err_set(&err, -22, "from C++ %d", 1);
	std::printf("%s 1 - headers usable from C++ (%s)\n",
		    err.code == -22 ? "ok" : "not ok", err.msg);
	for (int i = 0; i < NM_LAYOUT_COUNT; i++) {
		if (nm_layout_c[i] != nm_layout_cxx[i]) {
			std::printf("# layout entry %d: C %zu, C++ %zu\n", i,
				    nm_layout_c[i], nm_layout_cxx[i]);
			bad++;
		}
	}
	std::printf("%s 2 - %d sizes and offsets equal in C and C++\n",
		    bad ? "not ok" : "ok", NM_LAYOUT_COUNT);
	return bad || err.code != -22;
}
