/* SPDX-License-Identifier: MIT */
#include "layout.h"

#define _Alignof_pool _Alignof(struct nm_page_pool)
const size_t nm_layout_c[NM_LAYOUT_COUNT] = NM_LAYOUT_TABLE;
