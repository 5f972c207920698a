/* SPDX-License-Identifier: MIT */
/*
 * Devices, RX queues and the one common restart path.
 *
 * A driver embeds struct nm_netdev in its own device struct (container_of
 * reaches it back), fills in its queue ops (the kernel's
 * netdev_queue_mgmt_ops) and sets each queue's capability flags. Everything
 * that changes the memory a queue runs on goes through nm_rxq_restart(): it
 * checks the queue's flags and buffer sizes against what the new provider
 * needs and has FIRST, and refuses with -EOPNOTSUPP and a reason before any
 * driver callback runs; the queue is never touched and keeps receiving. Only then does it allocate the
 * new memory, stop the queue, start it on the new memory and free the old,
 * rolling back to the old memory if any step fails.
 */
#ifndef NETMEM_NETDEV_H
#define NETMEM_NETDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <netmem/dma_domain.h>
#include <netmem/err.h>
#include <netmem/mp.h>
#include <netmem/page_pool.h>
#include <netmem/rxq_caps.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_NETDEV_NAME_LEN 32

struct nm_netdev;

/*
 * Per-queue memory ops. The core allocates @mem_size zeroed bytes for each
 * generation of a queue's memory ("qmem") and passes it to every callback.
 */
struct nm_queue_mgmt_ops {
	size_t mem_size;
	/* Build a ring and pools for queue @idx on provider @mp (ops NULL:
	 * the driver's default host memory). The queue is still running on
	 * its old memory. */
	int (*mem_alloc)(struct nm_netdev *dev, void *qmem, uint32_t idx,
			 const struct nm_mp_params *mp, struct nm_err *err);
	/* Release what mem_alloc built (the queue no longer uses it). */
	void (*mem_free)(struct nm_netdev *dev, void *qmem);
	/* Start queue @idx on @qmem. */
	int (*start)(struct nm_netdev *dev, void *qmem, uint32_t idx,
		     struct nm_err *err);
	/* Stop queue @idx, which runs on @qmem; the datapath is quiet after. */
	int (*stop)(struct nm_netdev *dev, void *qmem, uint32_t idx,
		    struct nm_err *err);
	/* Optional: the payload pool of @qmem, for introspection. */
	struct nm_page_pool *(*mem_pool)(void *qmem);
};

struct nm_rxq_counters {
	uint64_t restarts;   /* completed restarts */
	uint64_t refused;    /* refused by the capability check */
	uint64_t rollbacks;  /* a driver step failed; old memory kept */
};

struct nm_rxq {
	struct nm_netdev *dev;
	uint32_t index;
	uint32_t caps;              /* NM_RXQ_CAP_*, set by the driver */
	struct nm_mp_params mp;     /* bound provider; ops NULL = default */
	void *qmem;                 /* memory the queue runs on, NULL if down */
	struct nm_rxq_counters counters;
	struct nm_rxq_buf_sizes buf_sizes; /* set by the driver, like caps */
};

struct nm_netdev {
	char name[NM_NETDEV_NAME_LEN];
	const struct nm_queue_mgmt_ops *qops;
	struct nm_dma_domain *dma;  /* reference held by the device */
	uint32_t num_rx_queues;
	struct nm_rxq *rxqs;
	bool up;
	bool dying;                 /* nm_netdev_fini() has begun */
	/* Serialises every control operation (our rtnl_lock). */
	pthread_mutex_t lock;
};

/* Set up @dev with @nrxq queues (all caps clear); takes a ref on @dma. */
int nm_netdev_init(struct nm_netdev *dev, const char *name, uint32_t nrxq,
		   const struct nm_queue_mgmt_ops *qops,
		   struct nm_dma_domain *dma, struct nm_err *err);
/* Close if up, uninstall bound providers, drop the domain reference. */
void nm_netdev_fini(struct nm_netdev *dev);

/* Bring every queue up on its bound provider (mem_alloc + start). */
int nm_netdev_open(struct nm_netdev *dev, struct nm_err *err);
/* Stop every queue and free its memory. */
void nm_netdev_close(struct nm_netdev *dev);

/* Driver only: the flags a queue truly supports. */
int nm_netdev_set_rxq_caps(struct nm_netdev *dev, uint32_t idx, uint32_t caps);
/* Driver only: the buffer sizes a queue truly takes (see rxq_caps.h).
 * -EINVAL for an empty or inconsistent range. */
int nm_netdev_set_rxq_buf_sizes(struct nm_netdev *dev, uint32_t idx,
				const struct nm_rxq_buf_sizes *sizes);

/*
 * The common restart path: move queue @idx onto provider @mp (NULL or
 * ops NULL: the driver default). Check-first, then alloc/stop/start/free
 * with rollback. Caller must not hold dev->lock.
 */
int nm_rxq_restart(struct nm_netdev *dev, uint32_t idx,
		   const struct nm_mp_params *mp, struct nm_err *err);

/* Bind a provider to a queue that has none (-EBUSY otherwise). */
int nm_rxq_bind_mp(struct nm_netdev *dev, uint32_t idx,
		   const struct nm_mp_params *mp, struct nm_err *err);
/* Put a bound queue back on default memory. */
int nm_rxq_unbind_mp(struct nm_netdev *dev, uint32_t idx,
		     struct nm_err *err);

/* What `queue-get` shows about one queue. */
struct nm_rxq_info {
	uint32_t index;
	uint32_t caps;
	bool running;
	char provider[24];          /* "host" or the provider's name */
	char provider_desc[160];
	bool has_pool;
	struct nm_page_pool_stats pool;
	struct nm_rxq_counters counters;
	/* Bytes per payload buffer in effect (the bound provider's, else the
	 * driver default's); 0 when the provider does not say. */
	uint32_t buf_size;
	struct nm_rxq_buf_sizes buf_sizes;  /* what the queue takes */
};

int nm_netdev_rxq_info(struct nm_netdev *dev, uint32_t idx,
		       struct nm_rxq_info *info);
/* A table of every queue: index, flags, provider, pool counters. */
void nm_netdev_print_queues(struct nm_netdev *dev, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
