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

/* Everything this attachment counts; one entry, one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_stats);
} stats SEC(".maps");

static __always_inline struct ts_stats *this_cpu_stats(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&stats, &key);
}

static __always_inline void add(struct ts_counter *c, __u64 packets, __u64 bytes)
{
	/* Per-CPU value: only this CPU writes it, no atomic needed. */
	c->packets += packets;
	c->bytes += bytes;
}

#endif /* TRAFSTAT_STATS_BPF_H */
