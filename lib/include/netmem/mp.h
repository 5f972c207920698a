/* SPDX-License-Identifier: MIT */
/*
 * Memory providers: the backing store of a page pool (the kernel's
 * struct memory_provider_ops). The page pool never knows which provider it
 * runs on; a queue is bound to a provider through the common restart path.
 */
#ifndef NETMEM_MP_H
#define NETMEM_MP_H

#include <stddef.h>
#include <stdint.h>

#include <netmem/net_iov.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nm_page_pool;
struct nm_rxq;

struct nm_memory_provider_ops {
	const char *name;
	/* NM_RXQ_CAP_* flags a queue must have to be bound to this provider.
	 * Checked by nm_rxq_restart() before any driver callback. */
	uint32_t required_caps;

	/* Attach to a new pool (take references, validate pool params). */
	int (*init)(struct nm_page_pool *pool);
	/* The pool is gone: every buffer it held has been released. */
	void (*destroy)(struct nm_page_pool *pool);
	/* Hand out up to @n buffers; returns how many (0 when exhausted). */
	unsigned int (*alloc_netmems)(struct nm_page_pool *pool,
				      nm_netmem_ref *out, unsigned int n);
	/* Take back buffers the pool no longer needs. */
	void (*release_netmems)(struct nm_page_pool *pool,
				const nm_netmem_ref *in, unsigned int n);
	/* One line for introspection ("dmabuf binding 1: udmabuf 64 MiB"). */
	int (*describe)(void *priv, char *buf, size_t len);
	/* The queue is going away while still bound (device teardown). */
	void (*uninstall)(void *priv, struct nm_rxq *rxq);
};

/* What a queue is bound to: a provider and its private state. */
struct nm_mp_params {
	const struct nm_memory_provider_ops *ops;  /* NULL: driver default */
	void *priv;
	/* NM_RXQ_CAP_* the queue's user needs on top of the provider's own
	 * (a TCP listener on unreadable memory needs rx-csum); checked with
	 * them, before any driver callback. */
	uint32_t extra_caps;
	/* Bytes per buffer the provider hands out (a binding's buf_size);
	 * checked against the queue's nm_rxq_buf_sizes with the flags. 0: the
	 * provider does not say, and only the driver can check it. */
	uint32_t buf_size;
};

#ifdef __cplusplus
}
#endif
#endif
