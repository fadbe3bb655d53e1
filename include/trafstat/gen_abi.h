/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user ABI of `trafstat gen`: included by bpf/gen.bpf.c (clang
 * -target bpf) and by src/gen/ (C++). Separate from abi.h, which belongs to
 * the counting program; the rules are the same: fixed-width types, largest
 * fields first, explicit padding, sizes asserted on both sides.
 *
 * How a frame is made (bpf/gen.bpf.c, mirrored by gen::apply_flow() in
 * src/gen/frame.cpp, which the unit tests check):
 *   seq   = the CPU's packet number (ts_gen_stats.seq, per CPU, from 0)
 *   slot  = seq % nslots                  the --proto list, round-robin
 *   flow  = (seq / nslots) % nflows       every slot walks every flow
 *   the first hdr_len bytes of the frame  = tpl[slot].hdr (whole headers,
 *                                           zero payload after them)
 *   source address (its last 32 bits)     = saddr0 + flow   (mod 2^32)
 *   source port / ICMP echo identifier    = sport0 + flow % TS_GEN_PORT_SPAN
 *   checksums                             = incremental updates (RFC 1624)
 *                                           of the template's, from the
 *                                           precomputed *_csum_base sums
 * Live frames are recycled with whatever the previous run left in them, so
 * the program rewrites every header byte of every frame; the payload is
 * zeros in every template and never written.
 */
#ifndef TRAFSTAT_GEN_ABI_H
#define TRAFSTAT_GEN_ABI_H

#include <linux/types.h>

#define TS_GEN_MAX_SLOTS 8   /* entries of the --proto list */
#define TS_GEN_HDR_MAX 80    /* header bytes a template holds: 74 (Ethernet+IPv6+TCP), rounded to 8 */
#define TS_GEN_PORT_SPAN 64512 /* source ports sport0 .. sport0 + 64511 */

/* One entry of the --proto list: the frame's headers, and how to vary them. */
struct ts_gen_template {
	__u8 hdr[TS_GEN_HDR_MAX]; /* the frame's first bytes for flow 0; zero after the headers */
	__u32 saddr0;             /* host order: last 32 bits of the source address of flow 0 */
	__u32 ip_csum_base;       /* IPv4 header checksum: ~csum + ~(saddr0 words), unfolded; 0 for IPv6 */
	__u32 l4_csum_base;       /* L4 checksum: ~csum + ~(varying words of flow 0), unfolded */
	__u16 saddr_off;          /* offset of the source address's last 32 bits */
	__u16 sport_off;          /* offset of the source port / ICMP echo identifier */
	__u16 ip_csum_off;        /* offset of the IPv4 header checksum; 0: none (IPv6) */
	__u16 l4_csum_off;        /* offset of the L4 checksum */
	__u16 sport0;             /* host order: source port / echo identifier of flow 0 */
	__u8 l4_pseudo;           /* the L4 checksum covers the source address (UDP, TCP, ICMPv6) */
	__u8 udp;                 /* UDP: a computed checksum of 0 is sent as 0xffff */
};

/* Load-time configuration (rodata, set before load). */
struct ts_gen_config {
	struct ts_gen_template tpl[TS_GEN_MAX_SLOTS];
	__u32 nslots;   /* 1 .. TS_GEN_MAX_SLOTS */
	__u32 nflows;   /* >= 1 */
	__u32 hdr_len;  /* bytes of tpl[].hdr written into each frame: the longest header of the
	                   list, 8 .. TS_GEN_HDR_MAX, never more than the frame */
	__u32 action;   /* XDP_TX (send) or XDP_PASS (inject) */
};

/* The program's per-CPU state and counters: the single value of a one-entry
 * per-CPU array. */
struct ts_gen_stats {
	__u64 seq;                         /* frames this CPU has made */
	__u64 aborted;                     /* frames refused (a frame too short: never expected) */
	__u64 packets[TS_GEN_MAX_SLOTS];   /* frames returned with the action, per slot */
	__u64 bytes[TS_GEN_MAX_SLOTS];
};

#ifdef __cplusplus
static_assert(sizeof(struct ts_gen_template) == 104, "ts_gen_template layout");
static_assert(sizeof(struct ts_gen_config) == TS_GEN_MAX_SLOTS * 104 + 16, "ts_gen_config layout");
static_assert(sizeof(struct ts_gen_stats) == 16 + 16 * TS_GEN_MAX_SLOTS, "ts_gen_stats layout");
#else
_Static_assert(sizeof(struct ts_gen_template) == 104, "ts_gen_template layout");
_Static_assert(sizeof(struct ts_gen_config) == TS_GEN_MAX_SLOTS * 104 + 16, "ts_gen_config layout");
_Static_assert(sizeof(struct ts_gen_stats) == 16 + 16 * TS_GEN_MAX_SLOTS, "ts_gen_stats layout");
#endif

#endif /* TRAFSTAT_GEN_ABI_H */
