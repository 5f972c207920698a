/* SPDX-License-Identifier: MIT */
/*
 * What a poll-mode driver hands the application for each received frame.
 * With header split, headers sit in a readable host buffer and the payload in
 * a pool buffer that may be a net_iov (device memory). Without it, the whole
 * frame is in @payload and @hdr is 0. The receiver owns both buffers and puts
 * them back with nm_netmem_put() (from any thread).
 */
#ifndef NETMEM_RX_PKT_H
#define NETMEM_RX_PKT_H

#include <stdint.h>

#include <netmem/net_iov.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NM_RX_PKT_SPLIT 1u  /* headers and payload in separate buffers */

struct nm_rx_pkt {
	nm_netmem_ref hdr;      /* host buffer with the headers, or 0 */
	nm_netmem_ref payload;  /* payload (or whole frame); 0 if none */
	uint32_t hdr_len;
	uint32_t payload_len;
	uint32_t flags;         /* NM_RX_PKT_* */
	uint32_t queue;
};

#ifdef __cplusplus
}
#endif
#endif
