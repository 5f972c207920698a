/* SPDX-License-Identifier: MIT */
/* Library-internal: the restart path with dev->lock already held, for
 * callers (bindings) that must update their own state under the same lock. */
#ifndef NETMEM_NETDEV_INTERNAL_H
#define NETMEM_NETDEV_INTERNAL_H

#include <netmem/netdev.h>

int nm_rxq_check_idx(struct nm_netdev *dev, uint32_t idx, struct nm_err *err);
int nm_rxq_restart_locked(struct nm_netdev *dev, uint32_t idx,
			  const struct nm_mp_params *mp, struct nm_err *err);
int nm_rxq_bind_mp_locked(struct nm_netdev *dev, uint32_t idx,
			  const struct nm_mp_params *mp, struct nm_err *err);

#endif
