/* SPDX-License-Identifier: MIT */
/*
 * Devices, queues and the common restart path (the kernel's
 * netdev_rx_queue_restart(), with the capability check moved in front of
 * every driver callback, as the seed review asks).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netmem/netdev.h>

#include "netdev_internal.h"

int nm_netdev_init(struct nm_netdev *dev, const char *name, uint32_t nrxq,
		   const struct nm_queue_mgmt_ops *qops,
		   struct nm_dma_domain *dma, struct nm_err *err)
{
	if (!nrxq || nrxq > 1024)
		return nm_err_set(err, -EINVAL, "a device needs 1 to 1024 RX queues, not %u", nrxq);
	if (!qops || !qops->mem_size || !qops->mem_alloc || !qops->mem_free ||
	    !qops->start || !qops->stop)
		return nm_err_set(err, -EINVAL, "driver queue ops are incomplete");
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->rxqs = calloc(nrxq, sizeof(*dev->rxqs));
	if (!dev->rxqs)
		return nm_err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < nrxq; i++) {
		dev->rxqs[i].dev = dev;
		dev->rxqs[i].index = i;
	}
	dev->num_rx_queues = nrxq;
	dev->qops = qops;
	dev->dma = dma;
	nm_dma_domain_get(dma);
	pthread_mutex_init(&dev->lock, NULL);
	return 0;
}

void nm_netdev_fini(struct nm_netdev *dev)
{
	nm_netdev_close(dev);
	pthread_mutex_lock(&dev->lock);
	dev->dying = true;
	for (uint32_t i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq *rxq = &dev->rxqs[i];

		if (rxq->mp.ops && rxq->mp.ops->uninstall)
			rxq->mp.ops->uninstall(rxq->mp.priv, rxq);
		rxq->mp = (struct nm_mp_params){ 0 };
	}
	pthread_mutex_unlock(&dev->lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev->rxqs);
	dev->rxqs = NULL;
	nm_dma_domain_put(dev->dma);
	dev->dma = NULL;
}

/* Build and start queue memory; on failure nothing is left behind and
 * *out is NULL (set on every path, so no caller reads it unset). */
static int rxq_mem_up(struct nm_netdev *dev, struct nm_rxq *rxq,
		      const struct nm_mp_params *mp, void **out,
		      struct nm_err *err)
{
	void *qmem = calloc(1, dev->qops->mem_size);
	int ret;

	*out = NULL;
	if (!qmem)
		return nm_err_set(err, -ENOMEM, "out of memory for queue memory");
	ret = dev->qops->mem_alloc(dev, qmem, rxq->index, mp, err);
	if (ret) {
		free(qmem);
		return ret;
	}
	*out = qmem;
	return 0;
}

static void rxq_mem_free(struct nm_netdev *dev, void *qmem)
{
	dev->qops->mem_free(dev, qmem);
	free(qmem);
}

int nm_netdev_open(struct nm_netdev *dev, struct nm_err *err)
{
	uint32_t i;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->up)
		goto out;
	for (i = 0; i < dev->num_rx_queues; i++) {
		struct nm_rxq *rxq = &dev->rxqs[i];
		void *qmem;

		ret = rxq_mem_up(dev, rxq, &rxq->mp, &qmem, err);
		if (ret)
			goto unwind;
		ret = dev->qops->start(dev, qmem, i, err);
		if (ret) {
			rxq_mem_free(dev, qmem);
			goto unwind;
		}
		rxq->qmem = qmem;
	}
	dev->up = true;
	goto out;
unwind:
	while (i--) {
		struct nm_rxq *rxq = &dev->rxqs[i];

		dev->qops->stop(dev, rxq->qmem, i, NULL);
		rxq_mem_free(dev, rxq->qmem);
		rxq->qmem = NULL;
	}
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

void nm_netdev_close(struct nm_netdev *dev)
{
	pthread_mutex_lock(&dev->lock);
	for (uint32_t i = 0; dev->up && i < dev->num_rx_queues; i++) {
		struct nm_rxq *rxq = &dev->rxqs[i];

		if (!rxq->qmem)
			continue;
		dev->qops->stop(dev, rxq->qmem, i, NULL);
		rxq_mem_free(dev, rxq->qmem);
		rxq->qmem = NULL;
	}
	dev->up = false;
	pthread_mutex_unlock(&dev->lock);
}

int nm_rxq_check_idx(struct nm_netdev *dev, uint32_t idx, struct nm_err *err)
{
	if (idx >= dev->num_rx_queues)
		return nm_err_set(err, -EINVAL,
				  "queue %u out of range: %s has %u RX queues (0-%u)",
				  idx, dev->name, dev->num_rx_queues,
				  dev->num_rx_queues - 1);
	return 0;
}

int nm_netdev_set_rxq_caps(struct nm_netdev *dev, uint32_t idx, uint32_t caps)
{
	if (idx >= dev->num_rx_queues || (caps & ~NM_RXQ_CAP_ALL))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->rxqs[idx].caps = caps;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int nm_netdev_set_rxq_buf_sizes(struct nm_netdev *dev, uint32_t idx,
				const struct nm_rxq_buf_sizes *sizes)
{
	const struct nm_rxq_buf_sizes *s = sizes;

	if (idx >= dev->num_rx_queues || !s)
		return -EINVAL;
	if (s->max && (!s->min || !s->step || s->min > s->max || s->min % s->step ||
		       (s->dflt && !nm_rxq_buf_size_ok(s, s->dflt))))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->rxqs[idx].buf_sizes = *s;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* Record the queue's new provider; the old one hears it lost the queue. */
static void rxq_set_mp(struct nm_rxq *rxq, const struct nm_mp_params *mp)
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
static int rxq_check_caps(struct nm_netdev *dev, struct nm_rxq *rxq,
			  const struct nm_mp_params *mp, struct nm_err *err)
{
	uint32_t need = (mp->ops ? mp->ops->required_caps : 0) | mp->extra_caps;
	char missing[64], has[64];

	if (dev->up)
		need |= NM_RXQ_CAP_RESTART;
	if (!(need & ~rxq->caps))
		return 0;
	rxq->counters.refused++;
	return nm_err_set(err, -EOPNOTSUPP,
			  "%s queue %u cannot take provider '%s'%s: it lacks %s (it has: %s); "
			  "refused before touching the queue",
			  dev->name, rxq->index, mp_name(mp),
			  (mp->extra_caps & ~rxq->caps) ? " for its user" : "",
			  nm_rxq_caps_str(need & ~rxq->caps, missing, sizeof(missing)),
			  nm_rxq_caps_str(rxq->caps, has, sizeof(has)));
}

/* The same check for the buffer size: the provider's (or the driver
 * default's) against what the queue takes. Also before anything else. */
static int rxq_check_buf_size(struct nm_netdev *dev, struct nm_rxq *rxq,
			      const struct nm_mp_params *mp, struct nm_err *err)
{
	uint32_t size = mp->ops ? mp->buf_size : rxq->buf_sizes.dflt;
	char takes[64];

	if (!rxq->buf_sizes.max || (size && nm_rxq_buf_size_ok(&rxq->buf_sizes, size)))
		return 0;
	rxq->counters.refused++;
	/* A provider that states no size cannot be checked here, and the
	 * driver would find out in mem_alloc, a callback too late. */
	if (!size)
		return nm_err_set(err, -EOPNOTSUPP,
				  "%s queue %u cannot take provider '%s': it states no buffer "
				  "size and the queue takes %s; refused before touching the queue",
				  dev->name, rxq->index, mp_name(mp),
				  nm_rxq_buf_sizes_str(&rxq->buf_sizes, takes, sizeof(takes)));
	return nm_err_set(err, -EOPNOTSUPP,
			  "%s queue %u cannot take provider '%s': its buffers are %u B and the "
			  "queue takes %s; refused before touching the queue",
			  dev->name, rxq->index, mp_name(mp), size,
			  nm_rxq_buf_sizes_str(&rxq->buf_sizes, takes, sizeof(takes)));
}

int nm_rxq_restart_locked(struct nm_netdev *dev, uint32_t idx,
			  const struct nm_mp_params *mp, struct nm_err *err)
{
	static const struct nm_mp_params none;
	const struct nm_queue_mgmt_ops *qops = dev->qops;
	/* The driver's reason, if it gives one: never the caller's struct,
	 * which may hold an old error. */
	struct nm_err step = { 0 };
	struct nm_rxq *rxq;
	void *new_mem, *old_mem;
	int ret;

	ret = nm_rxq_check_idx(dev, idx, err);
	if (ret)
		return ret;
	rxq = &dev->rxqs[idx];
	if (!mp)
		mp = &none;
	ret = rxq_check_caps(dev, rxq, mp, err);
	if (!ret)
		ret = rxq_check_buf_size(dev, rxq, mp, err);
	if (ret)
		return ret;
	if (!dev->up || !rxq->qmem) {
		/* Nothing runs: the provider is used at the next open. */
		rxq_set_mp(rxq, mp);
		return 0;
	}

	ret = rxq_mem_up(dev, rxq, mp, &new_mem, &step);
	if (ret)
		goto err_rollback;
	old_mem = rxq->qmem;
	ret = qops->stop(dev, old_mem, idx, &step);
	if (ret)
		goto err_free_new;
	ret = qops->start(dev, new_mem, idx, &step);
	if (ret)
		goto err_start_old;
	rxq_mem_free(dev, old_mem);
	rxq->qmem = new_mem;
	rxq_set_mp(rxq, mp);
	rxq->counters.restarts++;
	return 0;

err_start_old:
	/* The queue is stopped: put it back on the memory it had. */
	if (qops->start(dev, old_mem, idx, NULL)) {
		rxq_mem_free(dev, old_mem);
		rxq->qmem = NULL;
		rxq_mem_free(dev, new_mem);
		rxq->counters.rollbacks++;
		return nm_err_set(err, ret,
				  "%s queue %u is down: start on new memory failed%s%s and the old "
				  "memory could not be restarted", dev->name, idx,
				  step.code ? ": " : "", step.msg);
	}
err_free_new:
	rxq_mem_free(dev, new_mem);
err_rollback:
	rxq->counters.rollbacks++;
	return nm_err_set(err, ret, "%s queue %u restart failed%s%s; still on its old memory",
			  dev->name, idx, step.code ? ": " : "", step.msg);
}

int nm_rxq_restart(struct nm_netdev *dev, uint32_t idx,
		   const struct nm_mp_params *mp, struct nm_err *err)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	ret = nm_rxq_restart_locked(dev, idx, mp, err);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int nm_rxq_bind_mp_locked(struct nm_netdev *dev, uint32_t idx,
			  const struct nm_mp_params *mp, struct nm_err *err)
{
	char desc[128] = "";
	struct nm_rxq *rxq;
	int ret;

	ret = nm_rxq_check_idx(dev, idx, err);
	if (ret)
		return ret;
	rxq = &dev->rxqs[idx];
	if (!mp || !mp->ops)
		return nm_err_set(err, -EINVAL, "no memory provider given");
	if (rxq->mp.ops) {
		if (rxq->mp.ops->describe)
			rxq->mp.ops->describe(rxq->mp.priv, desc, sizeof(desc));
		return nm_err_set(err, -EBUSY,
				  "%s queue %u is already bound to '%s'%s%s; unbind it first",
				  dev->name, idx, rxq->mp.ops->name, desc[0] ? ": " : "", desc);
	}
	return nm_rxq_restart_locked(dev, idx, mp, err);
}

int nm_rxq_bind_mp(struct nm_netdev *dev, uint32_t idx,
		   const struct nm_mp_params *mp, struct nm_err *err)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	ret = nm_rxq_bind_mp_locked(dev, idx, mp, err);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int nm_rxq_unbind_mp(struct nm_netdev *dev, uint32_t idx, struct nm_err *err)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	ret = nm_rxq_check_idx(dev, idx, err);
	if (!ret && !dev->rxqs[idx].mp.ops)
		ret = nm_err_set(err, -ENOENT, "%s queue %u has no provider bound",
				 dev->name, idx);
	if (!ret)
		ret = nm_rxq_restart_locked(dev, idx, NULL, err);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}
