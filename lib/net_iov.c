/* SPDX-License-Identifier: MIT */
/*
 * net_iov areas and their free stack. The stack is LIFO so recently freed,
 * cache-warm descriptors are handed out first.
 */
#include <errno.h>
#include <stdlib.h>

#include <netmem/net_iov.h>

int nm_net_iov_area_init(struct nm_net_iov_area *area, uint32_t num,
			 uint32_t buf_size, uint64_t base_offset, uint64_t iova,
			 uint8_t *cpu_base, bool readable, void *owner_priv)
{
	if (!num || !buf_size)
		return -EINVAL;
	area->niovs = calloc(num, sizeof(*area->niovs));
	area->free_stack = malloc((size_t)num * sizeof(*area->free_stack));
	if (!area->niovs || !area->free_stack) {
		free(area->niovs);
		free(area->free_stack);
		area->niovs = NULL;
		area->free_stack = NULL;
		return -ENOMEM;
	}
	area->num_niovs = num;
	area->buf_size = buf_size;
	area->base_offset = base_offset;
	area->base_iova = iova;
	area->cpu_base = cpu_base;
	area->readable = readable;
	area->owner_priv = owner_priv;
	pthread_mutex_init(&area->lock, NULL);
	for (uint32_t i = 0; i < num; i++) {
		struct nm_net_iov *niov = &area->niovs[i];

		niov->owner = area;
		niov->index = i;
		niov->dma_addr = iova + (uint64_t)i * buf_size;
		atomic_init(&niov->pp_ref_count, 0);
		/* Pop order 0, 1, 2...: the device fills the buffer front first. */
		area->free_stack[i] = num - 1 - i;
	}
	area->free_count = num;
	return 0;
}

void nm_net_iov_area_fini(struct nm_net_iov_area *area)
{
	if (!area->niovs)
		return;
	pthread_mutex_destroy(&area->lock);
	free(area->niovs);
	free(area->free_stack);
	area->niovs = NULL;
	area->free_stack = NULL;
}

unsigned int nm_net_iov_area_alloc(struct nm_net_iov_area *area,
				   nm_netmem_ref *out, unsigned int n)
{
	unsigned int got;

	pthread_mutex_lock(&area->lock);
	got = n < area->free_count ? n : area->free_count;
	for (unsigned int i = 0; i < got; i++) {
		struct nm_net_iov *niov =
			&area->niovs[area->free_stack[--area->free_count]];

		atomic_store_explicit(&niov->pp_ref_count, 1,
				      memory_order_relaxed);
		out[i] = nm_net_iov_to_netmem(niov);
	}
	pthread_mutex_unlock(&area->lock);
	return got;
}

void nm_net_iov_area_free(struct nm_net_iov_area *area,
			  const nm_netmem_ref *in, unsigned int n)
{
	pthread_mutex_lock(&area->lock);
	for (unsigned int i = 0; i < n; i++) {
		struct nm_net_iov *niov = nm_netmem_to_net_iov(in[i]);

		atomic_store_explicit(&niov->pp_ref_count, 0,
				      memory_order_relaxed);
		niov->pp = NULL;
		area->free_stack[area->free_count++] = niov->index;
	}
	pthread_mutex_unlock(&area->lock);
}

uint32_t nm_net_iov_area_in_use(struct nm_net_iov_area *area)
{
	uint32_t used;

	pthread_mutex_lock(&area->lock);
	used = area->num_niovs - area->free_count;
	pthread_mutex_unlock(&area->lock);
	return used;
}
