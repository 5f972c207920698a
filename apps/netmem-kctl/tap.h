/* SPDX-License-Identifier: MIT */
/*
 * Assertions for the guest checks: each prints what it checked, TAP style
 * ("ok 3 - ..." / "not ok 3 - ..."), and the run ends with a count.
 */
#ifndef NETMEM_KCTL_TAP_H
#define NETMEM_KCTL_TAP_H

#include <stdbool.h>

#include "kctl.h"

struct tap {
	const char *name;
	int n, failed;
};

__attribute__((format(printf, 3, 4)))
bool tap_ok(struct tap *t, bool ok, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void tap_note(struct tap *t, const char *fmt, ...);
/* "# name: N passed, M failed"; returns 0 or 1. */
int tap_done(struct tap *t);

/* Counters of @b minus those of @a. */
struct nmk_rxq_counters counters_delta(const struct nmk_rxq_counters *a,
				       const struct nmk_rxq_counters *b);
/* mem_alloc + mem_free + stop + start. */
uint64_t callbacks(const struct nmk_rxq_counters *c);

/* Open the module, bring its NIC up, check every queue runs. */
int kctl_setup(struct kdev *kd, struct tap *t);

int check_alloc(struct kdev *kd, struct tap *t, const struct kctl_opts *o);
int check_refuse(struct kdev *kd, struct tap *t, const struct kctl_opts *o);
int check_bad_input(struct kdev *kd, struct tap *t, const struct kctl_opts *o);
int check_devmem(struct kdev *kd, struct tap *t, const struct kctl_opts *o);

#endif
