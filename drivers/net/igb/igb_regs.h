/* SPDX-License-Identifier: MIT */
/*
 * Intel 82576 (igb) registers, bits and descriptors this driver uses, and
 * the handful of helpers that touch them. Names and numbers follow the
 * 82576 datasheet (rev 2.x, chapter 8 "Programming Interface") and Linux's
 * drivers/net/ethernet/intel/igb/e1000_{regs,defines}.h.
 */
#ifndef NETMEM_IGB_REGS_H
#define NETMEM_IGB_REGS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define IGB_VENDOR_INTEL  0x8086
#define IGB_DEV_ID_82576  0x10c9

/* --- general (8.2) ------------------------------------------------------ */
#define IGB_CTRL        0x00000
#define IGB_STATUS      0x00008
#define IGB_EECD        0x00010
#define IGB_CTRL_EXT    0x00018
#define IGB_MDIC        0x00020

#define IGB_CTRL_FD          (1u << 0)
#define IGB_CTRL_GIO_MASTER_DISABLE (1u << 2)
#define IGB_CTRL_SLU         (1u << 6)   /* set link up */
#define IGB_CTRL_RST         (1u << 26)  /* device reset, self-clearing */

#define IGB_STATUS_FD        (1u << 0)
#define IGB_STATUS_LU        (1u << 1)
#define IGB_STATUS_SPEED_SHIFT 6
#define IGB_STATUS_GIO_MASTER_ENABLE (1u << 19)

#define IGB_EECD_AUTO_RD     (1u << 9)   /* EEPROM read done after reset */

#define IGB_CTRL_EXT_DRV_LOAD (1u << 28)

/* MDIC: the MDI interface to the PHY (8.2.4). */
#define IGB_MDIC_DATA_MASK   0x0000ffffu
#define IGB_MDIC_REG_SHIFT   16
#define IGB_MDIC_PHY_SHIFT   21
#define IGB_MDIC_OP_WRITE    (1u << 26)
#define IGB_MDIC_OP_READ     (2u << 26)
#define IGB_MDIC_READY       (1u << 28)
#define IGB_MDIC_ERROR       (1u << 30)
#define IGB_PHY_ADDR         1           /* the internal PHY */

/* PHY registers (IEEE 802.3 clause 22) */
#define MII_BMCR             0x00
#define MII_BMSR             0x01
#define MII_BMCR_SPEED1000   (1u << 6)
#define MII_BMCR_FD          (1u << 8)
#define MII_BMCR_ANRESTART   (1u << 9)
#define MII_BMCR_AUTOEN      (1u << 12)

/* --- interrupts (8.8): a poll-mode driver masks them all ---------------- */
#define IGB_ICR         0x000c0
#define IGB_IMC         0x000d8
#define IGB_EICR        0x01580
#define IGB_EIMC        0x01528

/* --- receive (8.10) ---------------------------------------------------- */
#define IGB_RCTL        0x00100
#define IGB_RXCSUM      0x05000
#define IGB_RFCTL       0x05008
#define IGB_RLPML       0x05004   /* long packet maximum length, bits 13:0 */
#define IGB_MTA(n)      (0x05200 + 4 * (n))   /* 128 entries */
#define IGB_RAL(n)      (0x05400 + 8 * (n))
#define IGB_RAH(n)      (0x05404 + 8 * (n))
#define IGB_PSRTYPE(n)  (0x05480 + 4 * (n))
#define IGB_MRQC        0x05818
#define IGB_VT_CTL      0x0581c
#define IGB_RETA(n)     (0x05c00 + 4 * (n))   /* 32 registers, 128 entries */
#define IGB_RSSRK(n)    (0x05c80 + 4 * (n))   /* 10 registers, 40 bytes */

#define IGB_RCTL_EN          (1u << 1)
#define IGB_RCTL_SBP         (1u << 2)
#define IGB_RCTL_UPE         (1u << 3)
#define IGB_RCTL_MPE         (1u << 4)
#define IGB_RCTL_LPE         (1u << 5)
#define IGB_RCTL_LBM_MAC     (1u << 6)
#define IGB_RCTL_BAM         (1u << 15)
#define IGB_RCTL_SECRC       (1u << 26)  /* strip the Ethernet CRC */

#define IGB_RXCSUM_IPOFL     (1u << 8)   /* check IPv4 header checksums */
#define IGB_RXCSUM_TUOFL     (1u << 9)   /* check TCP/UDP checksums */
#define IGB_RXCSUM_PCSD      (1u << 13)  /* RSS hash in the descriptor */

#define IGB_RAH_AV           (1u << 31)

#define IGB_PSRTYPE_TCPHDR   (1u << 4)
#define IGB_PSRTYPE_UDPHDR   (1u << 5)
#define IGB_PSRTYPE_IPV4HDR  (1u << 8)
#define IGB_PSRTYPE_IPV6HDR  (1u << 9)
#define IGB_PSRTYPE_L2HDR    (1u << 12)

#define IGB_MRQC_ENABLE_RSS     0x00000002u
#define IGB_MRQC_RSS_TCPIPV4    (1u << 16)
#define IGB_MRQC_RSS_TCPIPV6    (1u << 18)
#define IGB_MRQC_RSS_UDPIPV4    (1u << 22)
#define IGB_MRQC_RSS_UDPIPV6    (1u << 23)

/* Per-queue receive registers (8.10.x); queues 0-15 at 0xC000 + 0x40 n. */
#define IGB_RDBAL(n)    (0x0c000 + 0x40 * (n))
#define IGB_RDBAH(n)    (0x0c004 + 0x40 * (n))
#define IGB_RDLEN(n)    (0x0c008 + 0x40 * (n))
#define IGB_SRRCTL(n)   (0x0c00c + 0x40 * (n))
#define IGB_RDH(n)      (0x0c010 + 0x40 * (n))
#define IGB_RDT(n)      (0x0c018 + 0x40 * (n))
#define IGB_RXDCTL(n)   (0x0c028 + 0x40 * (n))

#define IGB_SRRCTL_BSIZEPKT_SHIFT   10        /* 1 KiB units, bits 6:0 */
#define IGB_SRRCTL_BSIZEHDR_SHIFT   2         /* 64 B units at bits 11:8 */
#define IGB_SRRCTL_DESCTYPE_ONEBUF  (1u << 25)
#define IGB_SRRCTL_DESCTYPE_HDR_SPLIT (2u << 25)
#define IGB_SRRCTL_DESCTYPE_MASK    (7u << 25)
#define IGB_SRRCTL_DROP_EN          (1u << 31)

#define IGB_RXDCTL_PTHRESH(x)  ((uint32_t)(x) & 0x1f)
#define IGB_RXDCTL_HTHRESH(x)  (((uint32_t)(x) & 0x1f) << 8)
#define IGB_RXDCTL_WTHRESH(x)  (((uint32_t)(x) & 0x1f) << 16)
#define IGB_RXDCTL_ENABLE      (1u << 25)

/* --- transmit (8.12) --------------------------------------------------- */
#define IGB_TCTL        0x00400
#define IGB_TIPG        0x00410
#define IGB_TDBAL(n)    (0x0e000 + 0x40 * (n))
#define IGB_TDBAH(n)    (0x0e004 + 0x40 * (n))
#define IGB_TDLEN(n)    (0x0e008 + 0x40 * (n))
#define IGB_TDH(n)      (0x0e010 + 0x40 * (n))
#define IGB_TDT(n)      (0x0e018 + 0x40 * (n))
#define IGB_TXDCTL(n)   (0x0e028 + 0x40 * (n))

#define IGB_TCTL_EN          (1u << 1)
#define IGB_TCTL_PSP         (1u << 3)   /* pad short packets */
#define IGB_TCTL_CT(x)       ((uint32_t)(x) << 4)
#define IGB_TCTL_COLD(x)     ((uint32_t)(x) << 12)
#define IGB_TXDCTL_ENABLE    (1u << 25)

/* --- statistics (8.19), clear on read --------------------------------- */
#define IGB_MPC         0x04010   /* missed packets */
#define IGB_GPRC        0x04074   /* good packets received */
#define IGB_GPTC        0x04080   /* good packets transmitted */

/* --- descriptors (7.1.5, 7.2.2) ---------------------------------------- */
union igb_adv_rx_desc {
	struct {
		uint64_t pkt_addr;   /* packet buffer (payload) */
		uint64_t hdr_addr;   /* header buffer; used in header-split */
	} read;
	struct {
		uint16_t pkt_info;   /* RSS type, packet type */
		uint16_t hdr_info;   /* SPH, header length */
		uint32_t rss;        /* RSS hash */
		uint32_t status_error;
		uint16_t length;     /* bytes in the packet buffer */
		uint16_t vlan;
	} wb;
};

#define IGB_RXD_RSS_TYPE(pi)  ((pi) & 0xfu)  /* 0: no RSS hash in wb.rss */
/* Packet type (7.1.6.2), bits 4 and up of pkt_info; bit 11 set: an ETQF
 * filter matched and the low bits are its index instead. */
#define IGB_RXD_PTYPE(pi)     ((uint32_t)(pi) >> 4)
#define IGB_PTYPE_IPV4        (1u << 0)
#define IGB_PTYPE_IPV4E       (1u << 1)
#define IGB_PTYPE_IPV6        (1u << 2)
#define IGB_PTYPE_IPV6E       (1u << 3)
#define IGB_PTYPE_TCP         (1u << 4)
#define IGB_PTYPE_UDP         (1u << 5)
#define IGB_PTYPE_SCTP        (1u << 6)
#define IGB_PTYPE_ETQF        (1u << 11)
#define IGB_RXD_STAT_DD       (1u << 0)
#define IGB_RXD_STAT_EOP      (1u << 1)
#define IGB_RXD_STAT_UDPCS    (1u << 4)   /* UDP checksum was checked */
#define IGB_RXD_STAT_TCPCS    (1u << 5)   /* TCP (or UDP) checksum checked */
#define IGB_RXD_STAT_IPCS     (1u << 6)   /* IPv4 header checksum checked */
#define IGB_RXD_ERR_HBO       (1u << 23)  /* header did not fit */
#define IGB_RXD_ERR_FRAME     0x97000000u /* CE, SE, SEQ, CXE, RXE */
#define IGB_RXD_ERR_TCPE      (1u << 29)  /* TCP/UDP checksum wrong */
#define IGB_RXD_ERR_IPE       (1u << 30)  /* IPv4 header checksum wrong */
#define IGB_RXD_HDR_SPH       (1u << 15)  /* header was split off */
#define IGB_RXD_HDR_LEN(info) (((uint32_t)(info) >> 5) & 0x3ff)

union igb_adv_tx_desc {
	struct {
		uint64_t buffer_addr;
		uint32_t cmd_type_len;
		uint32_t olinfo_status;
	} read;
	struct {
		uint64_t rsvd;
		uint32_t nxtseq_seed;
		uint32_t status;
	} wb;
};

#define IGB_TXD_DTYP_DATA     (3u << 20)
#define IGB_TXD_CMD_EOP       (1u << 24)
#define IGB_TXD_CMD_IFCS      (1u << 25)
#define IGB_TXD_CMD_RS        (1u << 27)
#define IGB_TXD_CMD_DEXT      (1u << 29)
#define IGB_TXD_PAYLEN_SHIFT  14
#define IGB_TXD_STAT_DD       (1u << 0)

/* --- register access --------------------------------------------------- */
static inline uint32_t igb_rd32(volatile uint8_t *bar0, uint32_t reg)
{
	return *(volatile uint32_t *)(bar0 + reg);
}

static inline void igb_wr32(volatile uint8_t *bar0, uint32_t reg, uint32_t v)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*(volatile uint32_t *)(bar0 + reg) = v;
}

static inline void igb_set_bits(volatile uint8_t *bar0, uint32_t reg, uint32_t bits)
{
	igb_wr32(bar0, reg, igb_rd32(bar0, reg) | bits);
}

static inline void igb_clear_bits(volatile uint8_t *bar0, uint32_t reg, uint32_t bits)
{
	igb_wr32(bar0, reg, igb_rd32(bar0, reg) & ~bits);
}

/* Poll @reg until (value & @mask) == @want, at most @timeout_ms. */
static inline bool igb_wait_reg(volatile uint8_t *bar0, uint32_t reg,
				uint32_t mask, uint32_t want, int timeout_ms)
{
	struct timespec ts = { 0, 100 * 1000 };  /* 100 us */

	for (int i = 0; i <= timeout_ms * 10; i++) {
		if ((igb_rd32(bar0, reg) & mask) == want)
			return true;
		nanosleep(&ts, NULL);
	}
	return (igb_rd32(bar0, reg) & mask) == want;
}

#endif
