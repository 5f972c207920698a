/* SPDX-License-Identifier: MIT */
/*
 * dmabuf bindings (the kernel's struct net_devmem_dmabuf_binding): a dmabuf
 * imported, mapped into one DMA domain (an IOMMU domain: a VFIO container,
 * EAL's, a software NIC's identity domain), cut into buffers of one size,
 * refcounted, bound to RX queues of any device in that domain. The IOVAs are
 * the domain's, so one binding, one mapping, serves every port behind the
 * same IOMMU; a device of another domain is refused (-EXDEV).
 *
 * References: the creator holds one (dropped by unbind); every page pool
 * built on the binding holds one until its last buffer has come back. So the
 * memory stays mapped while any buffer is in flight, and is unmapped and
 * released exactly once, by whichever put is last.
 */
#ifndef NETMEM_BINDING_H
#define NETMEM_BINDING_H

#include <netmem/atomic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <netmem/dmabuf.h>
#include <netmem/err.h>
#include <netmem/mp.h>
#include <netmem/net_iov.h>
#include <netmem/netdev.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_BINDING_DEFAULT_BUF_SIZE 4096u

struct nm_binding_params {
	uint32_t buf_size;  /* 0: 4096; a power of two from 256 to 64 KiB */
};

struct nm_dmabuf_binding {
	nm_atomic_int refs;
	uint32_t id;                    /* unique in its domain */
	struct nm_dmabuf *dmabuf;       /* reference held */
	struct nm_dma_domain *domain;   /* reference held: where it is mapped */
	uint64_t iova;
	uint64_t size;                  /* bytes mapped (whole buffers) */
	struct nm_net_iov_area area;
	/* Queues bound to it, of any device in @domain, and the unbound flag:
	 * under @lock, which nests inside a device's lock. */
	pthread_mutex_t lock;
	struct nm_rxq **bound;
	uint32_t num_bound;
	bool unbound;
	/* Who holds it, for queue-get ("" : the process itself; else e.g.
	 * "ctl conn 3, pid 1234" for a bind-rx over the control socket). */
	char holder[48];
};

/*
 * Map @dmabuf into @domain (a device's: dev->dma) and cut it into buffers.
 * No device is touched; the binding serves queues of every device whose
 * dev->dma is @domain, and holds a domain reference.
 */
int nm_dmabuf_binding_create(struct nm_dma_domain *domain,
			     struct nm_dmabuf *dmabuf,
			     const struct nm_binding_params *params,
			     struct nm_dmabuf_binding **out, struct nm_err *err);

/* Bind to queue @idx of @dev through the common restart path. Refuses a
 * device of another DMA domain (-EXDEV), a bound queue (-EBUSY), a queue
 * without the flags the dmabuf provider needs (-EOPNOTSUPP), an unbound
 * binding (-ENOENT); each before any driver callback. */
int nm_dmabuf_binding_bind_rxq(struct nm_dmabuf_binding *b,
			       struct nm_netdev *dev, uint32_t idx,
			       struct nm_err *err);
/* The same, for a user that needs more of the queue than the provider
 * does (@extra_caps, NM_RXQ_CAP_*): checked in the same place, before any
 * driver callback, with the same refusal. */
int nm_dmabuf_binding_bind_rxq_caps(struct nm_dmabuf_binding *b,
				    struct nm_netdev *dev, uint32_t idx,
				    uint32_t extra_caps, struct nm_err *err);

/*
 * Move every bound queue back to default memory and drop the creator's
 * reference. Buffers in flight keep the memory mapped until they return.
 * If a queue cannot be restarted, it stays bound (queue-get keeps showing
 * it on the dmabuf, or down), no new queue may bind, the creator's
 * reference is kept and the error comes back: call again to retry. The
 * queues may be on several devices of the domain; none of them may be torn
 * down by another thread during the call.
 */
int nm_dmabuf_binding_unbind_err(struct nm_dmabuf_binding *b,
				 struct nm_err *err);
/* The same without a reason string. */
int nm_dmabuf_binding_unbind(struct nm_dmabuf_binding *b);

void nm_dmabuf_binding_get(struct nm_dmabuf_binding *b);
void nm_dmabuf_binding_put(struct nm_dmabuf_binding *b);

/* The provider parameters that bind a queue to @b. */
struct nm_mp_params nm_dmabuf_binding_mp(struct nm_dmabuf_binding *b);

/* For the dmabuf provider: @rxq no longer runs on @b. Its device's lock
 * held. */
void nm_dmabuf_binding_forget_rxq(struct nm_dmabuf_binding *b,
				  struct nm_rxq *rxq);

/* The dmabuf memory provider (mp/dmabuf). */
extern const struct nm_memory_provider_ops nm_mp_dmabuf_ops;

#ifdef __cplusplus
}
#endif
#endif
