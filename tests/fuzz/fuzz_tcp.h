/* SPDX-License-Identifier: MIT */
/*
 * The TCP fuzz target (fuzz_tcp.c): one input is a stack configuration
 * and a sequence of operations; the encoding is spelled out here so the
 * seed generator (fz_gen_seeds) and a person reading a crash can follow
 * it.
 *
 * byte 0: config
 *   bits 0-1  dmabuf / pool size: 8, 16, 64 or 512 buffers of 4 KiB (the NIC's ring
 *             4, 8, 32, 64)
 *   bit  2    IPv6
 * then operations, each an opcode byte (value % FZ_NOPS) and its operands;
 * an operation cut short by the end of the input is not run.
 */
#ifndef FUZZ_TCP_H
#define FUZZ_TCP_H

#include <stddef.h>
#include <stdint.h>

enum fz_op {
	/* SYN from model peer slot s: [slot] [opt] [iss: 4 bytes]
	 * opt bit0 MSS, bit1 WS, bit2 SACK_PERM, bit3 TS, bit4 stop after the
	 * SYN (no third ACK), bit5 the ISS is 2^32 - 1 - (iss & 0xffff) (the
	 * stream wraps soon), bits 6-7 the WS value (7, 0, 14, 3); then the
	 * third ACK, and the connection is accepted */
	FZ_SYN,
	/* a segment of slot s: [slot | mode<<2 | flags<<4] [len lo] [len hi]
	 * [ts delta, int8] [extra] [arg: 4 bytes] [garbage options...]
	 * mode 0 next new byte, 1 at the last ACK, 2 last ACK + (int16)arg,
	 * 3 sequence number arg; flags bit0 FIN, bit1 RST, bit2 SYN, bit3
	 * no ACK flag; extra bit0 no timestamp, bit1 wrong ack number, bit2
	 * bad checksum, bits 3-5 garbage option bytes that follow */
	FZ_SEG,
	FZ_RECV,      /* [slot | max<<2] */
	FZ_RELEASE,   /* [slot | mode<<2]: 0 all, 1 half, 2 one, 3 + unknown, 4 one twice */
	FZ_REFILL,    /* [slot | n<<2 ] (bit7: a bad token too) */
	FZ_CLOCK,     /* [e]: advance (1 << (e & 31)) * (1 + (e >> 5)) ns; 255: 60 s */
	FZ_CLOSE,     /* [slot | abort<<2] */
	FZ_RAW,       /* [len] [len bytes]: a frame as it is (never from a model peer's address) */
	FZ_LIVE,      /* [slot] [len lo] [len hi]: an in-window segment at rcv_nxt must be taken */
	FZ_FLOOD,     /* [n]: n SYNs from other ports, never completed */
	FZ_NOPS
};

#define FZ_SLOTS 4

/* Run one input; aborts (with the reason on stderr) when an invariant
 * breaks. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Hits of the invariants today's stack is known to break (fuzz_tcp.c's
 * known_broken list), calling @each for each one hit. */
unsigned long fz_known_hits(void (*each)(const char *what, unsigned long hits));

/* The stack's counters summed over the inputs run so far; returns the
 * frames the NIC dropped for want of a buffer. */
struct nm_stack_counters;
uint64_t fz_counters(struct nm_stack_counters *out);

/* Write the seed corpus into @dir; returns the number of files, < 0 on error. */
int fz_gen_seeds(const char *dir);

#endif
