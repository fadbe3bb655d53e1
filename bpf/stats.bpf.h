/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-CPU counters of one attachment (abi.h's struct ts_stats), which
 * the entry points and the keyed tables (table.bpf.h) both count into.
 */
#ifndef TRAFSTAT_STATS_BPF_H
#define TRAFSTAT_STATS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <trafstat/abi.h>

/* Count into the half of the current epoch (set with a keyed table or the histogram on). */
const volatile bool epoch_halves = false;

/* The attachment's control block (abi.h struct ts_control): .bss, mapped by
 * userspace, which advances the counting epoch at every interval and flips
 * the tables' runtime switches. Pinned as `control` by `trafstat attach`. */
struct ts_control control = {};

/* Everything this attachment counts, one copy per CPU, in two halves (abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_STATS_HALVES);
	__type(key, __u32);
	__type(value, struct ts_stats);
} stats SEC(".maps");

/* The epoch this packet counts in: read once, so that its counters and its
 * table slots land in the same half. */
static __always_inline __u32 this_epoch(void)
{
	return epoch_halves ? *(volatile __u32 *)&control.counting_epoch : 0;
}

static __always_inline struct ts_stats *this_cpu_stats(__u32 epoch)
{
	__u32 key = epoch & 1;

	return bpf_map_lookup_elem(&stats, &key);
}

static __always_inline void add(struct ts_counter *c, __u64 packets, __u64 bytes)
{
	/* Per-CPU value: only this CPU writes it, no atomic needed. */
	c->packets += packets;
	c->bytes += bytes;
}

#endif /* TRAFSTAT_STATS_BPF_H */
