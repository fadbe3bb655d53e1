/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one kernel/user ABI of trafstat. Included by bpf/counter.bpf.c (clang
 * -target bpf) and by the C++ userspace; never copy these definitions.
 *
 * Rules: fixed-width types only, largest fields first, explicit padding,
 * sizes asserted on both sides.
 */
#ifndef TRAFSTAT_ABI_H
#define TRAFSTAT_ABI_H

#include <linux/types.h>

/*
 * Counter classes: the index into ts_stats.cls.
 *
 * Reconciliation rules (tested):
 *   all  = ipv4 + ipv6 + arp + other_l3 + malformed           (one L3 class per frame)
 *   ipv4 = sum over L4 classes of the IPv4 row of ts_stats.l4_by_ip   (one L4 class per IP packet)
 *   ipv6 = same for the IPv6 row
 *   tcp + udp + ... + malformed_l4 = ipv4 + ipv6
 * `vlan` and `pppoe` are flags counted on top of the above.
 */
enum ts_class {
	TS_CLASS_ALL = 0,
	/* L3: exactly one per frame */
	TS_CLASS_IPV4,
	TS_CLASS_IPV6,
	TS_CLASS_ARP,
	TS_CLASS_OTHER_L3,
	TS_CLASS_MALFORMED, /* too short for its Ethernet/VLAN/PPPoE header */
	/* L4: exactly one per IPv4/IPv6 packet */
	TS_CLASS_TCP,
	TS_CLASS_UDP,
	TS_CLASS_ICMP,
	TS_CLASS_ICMPV6,
	TS_CLASS_SCTP,
	TS_CLASS_GRE,
	TS_CLASS_ESP,
	TS_CLASS_OTHER_L4,
	TS_CLASS_FRAGMENT,     /* non-first fragment: no L4 header */
	TS_CLASS_MALFORMED_L4, /* an IP or L4 header claims more than the packet holds */
	/* flags, on top */
	TS_CLASS_VLAN,
	TS_CLASS_PPPOE,
	TS_CLASS_MAX,
};

#define TS_L3_FIRST TS_CLASS_IPV4
#define TS_L3_LAST TS_CLASS_MALFORMED
#define TS_L4_FIRST TS_CLASS_TCP
#define TS_L4_LAST TS_CLASS_MALFORMED_L4
#define TS_L4_COUNT (TS_L4_LAST - TS_L4_FIRST + 1)

/* Rows of the per-IP-version L4 breakdown (`l4_by_ip` map). */
enum ts_ip_version {
	TS_IP_V4 = 0,
	TS_IP_V6 = 1,
	TS_IP_VERSIONS,
};

/* Limits of the parser, documented in docs/classes.md. */
#define TS_MAX_VLAN_TAGS 2
#define TS_MAX_IPV6_EXT_HDRS 8

/* One per-CPU counter slot. Userspace sums it over all possible CPUs. */
struct ts_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Everything one attachment counts, as the single value of a one-entry
 * per-CPU array: one map lookup per packet, then plain indexed adds on this
 * CPU's copy (no atomics needed, no sharing).
 */
struct ts_stats {
	struct ts_counter cls[TS_CLASS_MAX];
	/* L4 classes split by IP version, so each version reconciles on its own */
	struct ts_counter l4_by_ip[TS_IP_VERSIONS][TS_L4_COUNT];
};

/*
 * Replay only (rodata replay_mode): BPF_PROG_TEST_RUN puts this in the XDP
 * metadata area in front of each frame. A capture may hold fewer bytes than
 * the wire carried (snap length), so the bytes counted come from here.
 */
struct ts_replay_meta {
	__u32 wire_len; /* the frame's original length on the wire */
	__u32 pad;      /* metadata length must be a multiple of 4; keep 8 */
};

/*
 * Replay batches (trafstat_replay): one BPF_PROG_TEST_RUN carries several
 * frames, so the per-call cost of the syscall is shared. Layout of the data:
 *   struct ts_replay_batch, count * struct ts_replay_frame, then the frames
 *   back to back, in order.
 * Each frame is counted by the same code as live XDP, with the packet window
 * narrowed to it (bpf_xdp_adjust_head/tail).
 */
#define TS_REPLAY_MAX_BATCH 64
/* A frame must be at least an Ethernet header long to get its own window. */
#define TS_REPLAY_MIN_FRAME 14

struct ts_replay_batch {
	__u32 count; /* frames in this batch, 1..TS_REPLAY_MAX_BATCH */
	__u32 pad;
};

struct ts_replay_frame {
	__u32 len;      /* bytes of the frame in the batch (>= TS_REPLAY_MIN_FRAME) */
	__u32 wire_len; /* the frame's original length: the bytes counted */
};

#ifdef __cplusplus
static_assert(sizeof(struct ts_replay_batch) == 8 && sizeof(struct ts_replay_frame) == 8, "replay ABI");
static_assert(sizeof(struct ts_replay_meta) == 8, "ts_replay_meta ABI");
static_assert(sizeof(struct ts_stats) == 16 * (TS_CLASS_MAX + TS_IP_VERSIONS * TS_L4_COUNT), "ts_stats ABI");
static_assert(sizeof(struct ts_counter) == 16, "ts_counter ABI");
static_assert(TS_CLASS_MAX == 18, "class table changed: update names and docs");
#else
_Static_assert(sizeof(struct ts_replay_batch) == 8 && sizeof(struct ts_replay_frame) == 8, "replay ABI");
_Static_assert(sizeof(struct ts_replay_meta) == 8, "ts_replay_meta ABI");
_Static_assert(sizeof(struct ts_stats) == 16 * (TS_CLASS_MAX + TS_IP_VERSIONS * TS_L4_COUNT), "ts_stats ABI");
_Static_assert(sizeof(struct ts_counter) == 16, "ts_counter ABI");
_Static_assert(TS_CLASS_MAX == 18, "class table changed: update names and docs");
#endif

#endif /* TRAFSTAT_ABI_H */
