// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The common restart path (libnetmem's nm_rxq_restart(); the kernel's
 * netdev_rx_queue_restart()), with the queue's capability flags checked
 * before the first driver callback, as the seed review asks. Every provider
 * goes through it; the driver callbacks are the device's own
 * netdev_queue_mgmt_ops, the very ones the kernel calls for netlink bind-rx.
 *
 * For comparison the check can also run where the kernel runs it:
 *   NMK_CHECK_AFTER_ALLOC    6.12 as merged: after ndo_queue_mem_alloc,
 *                            look for a pool on the binding;
 *   NMK_CHECK_AFTER_RESTART  the seed's v19: after the whole restart, then
 *                            restart back when the pool is missing.
 * Both infer from side effects what the driver did (a pool listed on the
 * device with the binding and the queue index); the flags say it directly.
 */
#include <linux/mm.h>
#include <linux/rtnetlink.h>
#include <net/netdev_queues.h>

#include "nm_kmod.h"

static const struct nm_mp_params nm_mp_none;

int nm_rxq_check_idx(struct nm_vnic *dev, u32 idx, struct nm_err *err)
{
	if (idx >= dev->num_rx_queues)
		return nm_err_set(err, -EINVAL,
				  "queue %u out of range: %s has %u RX queues (0-%u)",
				  idx, dev->netdev->name, dev->num_rx_queues,
				  dev->num_rx_queues - 1);
	return 0;
}

void nm_rxq_set_mp(struct nm_rxq *rxq, const struct nm_mp_params *mp)
{
	struct nm_mp_params old = rxq->mp;

	rxq->mp = *mp;
	if (old.ops && (old.ops != mp->ops || old.priv != mp->priv) &&
	    old.ops->uninstall)
		old.ops->uninstall(old.priv, rxq);
}

static const char *mp_name(const struct nm_mp_params *mp)
{
	return mp->ops ? mp->ops->name : "host (driver default)";
}

/* The check that runs before anything else: flags against needs. */
static int rxq_check_caps(struct nm_vnic *dev, struct nm_rxq *rxq,
			  const struct nm_mp_params *mp, struct nm_err *err)
{
	u32 need = mp->ops ? mp->ops->required_caps : 0;
	char missing[48], has[48];

	if (netif_running(dev->netdev))
		need |= NM_RXQ_CAP_RESTART;
	if (!(need & ~rxq->caps))
		return 0;
	rxq->counters.refused++;
	return nm_err_set(err, -EOPNOTSUPP,
			  "%s queue %u cannot take provider '%s': it lacks %s (it has: %s); refused before touching the queue",
			  dev->netdev->name, rxq->index, mp_name(mp),
			  nm_rxq_caps_str(need & ~rxq->caps, missing, sizeof(missing)),
			  nm_rxq_caps_str(rxq->caps, has, sizeof(has)));
}

int nm_check_memory_provider(struct nm_vnic *dev, u32 idx,
			     const struct nm_mp_params *mp)
{
	struct nm_page_pool *pool;
	int ret = -ENODATA;

	if (!mp->priv)
		return 0;
	spin_lock_bh(&dev->pools_lock);
	list_for_each_entry(pool, &dev->pools, dev_node) {
		if (pool->mp_priv == mp->priv && pool->p.queue_idx == idx &&
		    !READ_ONCE(pool->destroyed)) {
			ret = 0;
			break;
		}
	}
	spin_unlock_bh(&dev->pools_lock);
	return ret;
}

/*
 * One restart onto @mp: mem_alloc, [check], stop, start, mem_free, and back
 * to the old memory when a driver step fails.
 */
static int rxq_restart_once(struct nm_vnic *dev, struct nm_rxq *rxq,
			    const struct nm_mp_params *mp, bool check_after_alloc,
			    struct nm_err *err)
{
	const struct netdev_queue_mgmt_ops *qops = dev->netdev->queue_mgmt_ops;
	struct net_device *nd = dev->netdev;
	struct nm_mp_params old = rxq->mp;
	u32 idx = rxq->index;
	void *new_mem, *old_mem;
	int ret;
#if NM_HAVE_QCFG
	/* This path changes only the memory, never the queue's configuration. */
	struct netdev_queue_config qcfg;
#define QCFG &qcfg,
	netdev_queue_config(nd, idx, &qcfg);
#else
#define QCFG
#endif

	new_mem = kvzalloc(qops->ndo_queue_mem_size, GFP_KERNEL);
	old_mem = kvzalloc(qops->ndo_queue_mem_size, GFP_KERNEL);
	if (!new_mem || !old_mem) {
		ret = nm_err_set(err, -ENOMEM, "out of memory for queue memory");
		goto out_free;
	}

	/* What mem_alloc builds on, as the kernel sets rxq->mp_params. */
	rxq->mp = *mp;
	ret = qops->ndo_queue_mem_alloc(nd, QCFG new_mem, idx);
	if (ret) {
		nm_err_set(err, ret, "%s queue %u: mem_alloc on '%s' failed",
			   nd->name, idx, mp_name(mp));
		goto err_rollback;
	}
	if (check_after_alloc) {
		ret = nm_check_memory_provider(dev, idx, mp);
		if (ret) {
			rxq->counters.check_failed++;
			nm_err_set(err, ret,
				   "%s queue %u: after mem_alloc no page pool runs on '%s' (the driver ignored it); new memory freed",
				   nd->name, idx, mp_name(mp));
			qops->ndo_queue_mem_free(nd, new_mem);
			rxq->mp = old;
			goto out_free;
		}
	}
	ret = qops->ndo_queue_stop(nd, old_mem, idx);
	if (ret) {
		nm_err_set(err, ret, "%s queue %u: the driver could not stop it",
			   nd->name, idx);
		goto err_free_new;
	}
	ret = qops->ndo_queue_start(nd, QCFG new_mem, idx);
	if (ret)
		goto err_start_old;
	qops->ndo_queue_mem_free(nd, old_mem);

	rxq->mp = old;
	nm_rxq_set_mp(rxq, mp);
	rxq->counters.restarts++;
	goto out_free;

err_start_old:
	/* The queue is stopped: put it back on the memory it had. */
	rxq->mp = old;
	if (qops->ndo_queue_start(nd, QCFG old_mem, idx)) {
		qops->ndo_queue_mem_free(nd, old_mem);
		nm_err_set(err, ret,
			   "%s queue %u is down: start on new memory failed and the old memory could not be restarted",
			   nd->name, idx);
	} else {
		nm_err_set(err, ret,
			   "%s queue %u: start on '%s' failed; back on its old memory",
			   nd->name, idx, mp_name(mp));
	}
err_free_new:
	qops->ndo_queue_mem_free(nd, new_mem);
err_rollback:
	rxq->mp = old;
	rxq->counters.rollbacks++;
out_free:
	kvfree(old_mem);
	kvfree(new_mem);
	return ret;
}
#undef QCFG

int nm_rxq_restart(struct nm_vnic *dev, u32 idx, const struct nm_mp_params *mp,
		   enum nmk_check check, struct nm_err *err)
{
	struct nm_mp_params old;
	struct nm_rxq *rxq;
	int ret;

	ASSERT_RTNL();
	ret = nm_rxq_check_idx(dev, idx, err);
	if (ret)
		return ret;
	rxq = &dev->rxqs[idx];
	if (!mp)
		mp = &nm_mp_none;
	if (check > NMK_CHECK_MAX)
		return nm_err_set(err, -EINVAL, "unknown check mode %u", check);

	if (check == NMK_CHECK_FIRST) {
		ret = rxq_check_caps(dev, rxq, mp, err);
		if (ret)
			return ret;
	}
	if (!netif_running(dev->netdev)) {
		/* Nothing runs: the provider is used at the next open. */
		nm_rxq_set_mp(rxq, mp);
		return 0;
	}

	old = rxq->mp;
	ret = rxq_restart_once(dev, rxq, mp, check == NMK_CHECK_AFTER_ALLOC, err);
	if (ret || check != NMK_CHECK_AFTER_RESTART)
		return ret;

	/* The seed's v19 order: the queue already runs on new memory. */
	ret = nm_check_memory_provider(dev, idx, mp);
	if (!ret)
		return 0;
	rxq->counters.check_failed++;
	if (rxq_restart_once(dev, rxq, &old, false, NULL))
		return nm_err_set(err, -ENODATA,
				  "%s queue %u: after the restart no page pool runs on '%s', and restarting back failed",
				  dev->netdev->name, idx, mp_name(mp));
	return nm_err_set(err, -ENODATA,
			  "%s queue %u: after the restart no page pool runs on '%s' (the driver ignored it); restarted back",
			  dev->netdev->name, idx, mp_name(mp));
}
