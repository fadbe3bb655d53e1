/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The keyed tables (docs/tables.md): talkers, ports and flows, each on its
 * own, counted by key in one mmapable array. Their maps and load-time
 * configuration are defined here, with the code that uses them, so the
 * header stands on its own; the entry points read only tables_on (which
 * tables) and key_fields (what the parser fills in).
 */
#ifndef TRAFSTAT_TABLE_BPF_H
#define TRAFSTAT_TABLE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

#include <trafstat/abi.h>

#include "stats.bpf.h"

/* Load-time configuration, set by the loader: the verifier prunes the tables that are off. */
const volatile __u32 tables_on = 0; /* TS_TABLE_BIT()s: the keyed tables counted; 0 = none */
const volatile __u32 key_fields = 0; /* TS_KEY_*: what the parser fills in (the tables' fields together) */
const volatile __u32 cache_slots[TS_TABLES] = {};  /* per CPU and epoch parity; a power of two, or 0: no cache */
const volatile __u32 cache_probes[TS_TABLES] = {}; /* up to TS_CACHE_PROBES: fewer in a small cache */
const volatile __u32 shared_slots[TS_TABLES] = {}; /* per epoch parity; a power of two */
const volatile __u32 table_first[TS_TABLES] = {};  /* index of each table's first slot */
const volatile __u32 table_half[TS_TABLES] = {};   /* slots per parity: cpus * cache + shared */
const volatile __u32 used_first[TS_TABLES] = {};   /* index of each table's first word in table_used */
const volatile __u32 used_half[TS_TABLES] = {};    /* words per parity: one bit per slot */
const volatile __u32 table_cpus = 1;  /* possible CPUs */
const volatile __u64 table_seed = 0;  /* random per load: keys cannot be chosen to collide */

/*
 * The tables' slots: open addressing in one mmapable array,
 * [table][epoch parity][cache of CPU 0..n-1, then the shared table]. A key
 * goes to its CPU's cache first: written by that CPU alone, so no atomics,
 * and a key hot on many CPUs has a slot in each (userspace sums them). A key
 * the cache has no room for goes to the shared table, which every CPU writes
 * with atomics: its size does not grow with the CPU count. A slot whose epoch
 * (control.counting_epoch, stats.bpf.h) is not the current one is free: userspace
 * empties a parity by moving to the next epoch, then reads it through mmap
 * once no program can still be writing it. Sizes are set at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_flow_entry);
} tables SEC(".maps");

/*
 * One bit per slot of `tables`, set when a slot is claimed: a drain reads the
 * slots used, not the whole parity, so it costs what the table holds, not
 * what it could hold. Userspace clears a parity's words as it drains them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} table_used SEC(".maps");

/* Replay only (else one slot): capture times, indexed as `tables`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_flow_times);
} table_times SEC(".maps");

/* The agent's totals per key since attach (abi.h struct ts_total_key):
 * userspace's alone, never touched here. Declared here so that it carries
 * BTF (bpftool prints its fields) and is created, sized and pinned with the
 * rest; one entry unless pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct ts_total_key);
	__type(value, struct ts_total);
} key_totals SEC(".maps");

/* The key read as five 64-bit words: may_alias, or clang may reorder the
 * word loads before the byte stores that built the key (strict aliasing). */
typedef __u64 __attribute__((may_alias)) key_word;

/* One multiply-xorshift round per 64-bit word of the key (the key is
 * 8-aligned). It also gives the starts of the key's runs of shared probes. */
static __always_inline __u64 flow_hash(const struct ts_flow_key *key)
{
	const key_word *w = (const key_word *)key;
	__u64 h = table_seed;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*key) / 8); i++) {
		h ^= w[i];
		h *= 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return h;
}

static __always_inline bool flow_key_equal(const struct ts_flow_key *a, const struct ts_flow_key *b)
{
	const key_word *x = (const key_word *)a, *y = (const key_word *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/*
 * Replay: the capture time `now` joins slot `idx`'s times (`fresh`: its
 * first). A record without a time (0: a pcapng simple packet block) leaves
 * them as they are: an entry with none has first ~0 and last 0 (abi.h).
 */
static __always_inline void note_time(__u32 idx, __u64 now, bool fresh)
{
	struct ts_flow_times *t = bpf_map_lookup_elem(&table_times, &idx);

	if (!t)
		return;
	if (fresh) {
		t->first_ns = now ? now : ~0ULL;
		t->last_ns = now;
		return;
	}
	if (now && now < t->first_ns)
		t->first_ns = now;
	if (now > t->last_ns)
		t->last_ns = now;
}

/* Marks slot `off` of a table's parity as used, for the drain. Once per key
 * and interval: the cost of a claim, never of a count. */
static __always_inline void mark_used(__u32 table, __u32 parity, __u32 off)
{
	__u32 w = used_first[table] + parity * used_half[table] + off / 64;
	__u64 *word = bpf_map_lookup_elem(&table_used, &w);

	if (word)
		__sync_fetch_and_or(word, 1ULL << (off & 63)); /* CPUs' caches may share a word */
}

/* A slot just claimed for `key`: its first counts, its bit in the bitmap,
 * and in replay its first capture time. The caller then makes it visible. */
static __always_inline void fill_slot(struct ts_flow_entry *e, __u32 table, __u32 parity, __u32 off, __u32 idx,
				      const struct ts_flow_key *key, __u64 packets, __u64 bytes, __u32 tcp_flags,
				      __u64 now, const volatile bool *timed)
{
	__builtin_memcpy(&e->key, key, sizeof(*key));
	e->packets = packets;
	e->bytes = bytes;
	e->tcp_flags = tcp_flags;
	mark_used(table, parity, off);
	if (*timed)
		note_time(idx, now, true);
}

/*
 * One table's update for one IP packet. First up to TS_CACHE_PROBES slots of
 * this CPU's cache, from the key's hash on: the key's slot, or the first free
 * one, is updated with plain stores. When the cache has no room for it, up to TS_SHARED_PROBES
 * slots of the shared table, in three runs from three starts (linear probing's
 * long clusters made one run lose keys well below half full, and two runs
 * a key now and then at half full): a key's
 * slot is counted with atomic adds, a free one claimed with a
 * compare-and-swap. When all are taken by other keys, the packet is overflow.
 *
 * A shared slot is claimed in three steps: its epoch goes from free to
 * TS_SLOT_CLAIMING (one CPU wins), the key and the first counts are written,
 * then the epoch is published with an exchange (a full barrier: the key is
 * visible before it). A CPU that finds a slot being claimed goes on probing:
 * if it was its own key, the key then has two slots, which userspace sums as
 * it sums the CPUs' caches. (On x86 loads are not reordered with loads, so a
 * reader that sees the epoch sees the key.)
 *
 * `now` is the capture time, kept in table_times when *timed (replay): live,
 * a clock read is a helper call, which costs more than the whole update where
 * returns are slow, and entries live one interval, so userspace dates them by
 * interval. `timed` points to the rodata flag rather than copying it: each
 * test then reads the rodata, which the verifier knows at every branch; a
 * copy kept in a register across the probes cost it some 10% more
 * instructions on the keyed XDP entries (measured).
 */
static __always_inline bool table_add(__u32 table, __u32 epoch, __u32 cpu, const struct ts_flow_key *key,
				      __u64 packets, __u64 bytes, __u64 now, const volatile bool *timed, __u32 tcp_flags)
{
	__u32 parity = epoch & 1;
	__u32 half = table_first[table] + parity * table_half[table];
	__u64 hash = flow_hash(key);
	__u32 h = (__u32)(hash >> 32);
	__u32 base, mask;

	if (cache_slots[table]) {
		mask = cache_slots[table] - 1;
		base = cpu * cache_slots[table];
#pragma unroll
		for (int i = 0; i < TS_CACHE_PROBES; i++) {
			__u32 off = base + ((h + i) & mask);

			if (i >= cache_probes[table])
				break; /* rodata: the verifier drops the probes a small cache skips */
			__u32 idx = half + off;
			struct ts_flow_entry *e = bpf_map_lookup_elem(&tables, &idx);

			if (!e)
				return false;
			if (e->epoch != epoch) {
				/* A free slot of this CPU's own cache: nobody else writes it. */
				fill_slot(e, table, parity, off, idx, key, packets, bytes, tcp_flags, now, timed);
				e->epoch = epoch;
				return true;
			}
			if (flow_key_equal(&e->key, key)) {
				e->packets += packets;
				e->bytes += bytes;
				e->tcp_flags |= tcp_flags;
				if (*timed)
					note_time(idx, now, false);
				return true;
			}
		}
	}

	mask = shared_slots[table] - 1;
	base = table_cpus * cache_slots[table];
	for (int i = 0; i < TS_SHARED_PROBES; i++) {
		/* Runs of TS_SHARED_RUN slots, each from its own start: the hash's
		 * high half, its low half, then both mixed by one more multiply. */
		__u32 start = i < TS_SHARED_RUN ? h : i < 2 * TS_SHARED_RUN ? (__u32)hash
					 : (__u32)((hash * 0xff51afd7ed558ccdULL) >> 32);
		__u32 off = base + ((start + i) & mask);
		__u32 idx = half + off;
		struct ts_flow_entry *e = bpf_map_lookup_elem(&tables, &idx);
		__u32 seen;

		if (!e)
			return false;
		seen = *(volatile __u32 *)&e->epoch;
		if (seen == epoch) {
			if (!flow_key_equal(&e->key, key))
				continue;
			__sync_fetch_and_add(&e->packets, packets);
			__sync_fetch_and_add(&e->bytes, bytes);
			/* Most packets of a TCP flow add no new flag: no locked OR for them. */
			if ((e->tcp_flags & tcp_flags) != tcp_flags)
				__sync_fetch_and_or(&e->tcp_flags, tcp_flags);
			if (*timed)
				note_time(idx, now, false); /* replay: one CPU, no race */
			return true;
		}
		if (seen == TS_SLOT_CLAIMING || __sync_val_compare_and_swap(&e->epoch, seen, TS_SLOT_CLAIMING) != seen)
			continue;
		fill_slot(e, table, parity, off, idx, key, packets, bytes, tcp_flags, now, timed);
		__sync_lock_test_and_set(&e->epoch, epoch);
		return true;
	}
	return false;
}

/* `table`'s update, its key cut to its own fields when the parser filled more. */
static __always_inline void account_table(struct ts_stats *s, const __u32 table, __u32 epoch, __u32 cpu,
					  __u32 active, const struct ts_flow_key *key, __u8 tcp_flags,
					  __u64 packets, __u64 bytes, __u64 now, const volatile bool *timed)
{
	struct ts_flow_key own;

	if (!(tables_on & TS_TABLE_BIT(table)))
		return;
	if (!(active & TS_TABLE_BIT(table))) {
		add(&s->table_paused[table], packets, bytes);
		return;
	}
	if (key_fields != TS_TABLE_KEY_FIELDS(table)) {
		__builtin_memcpy(&own, key, sizeof(own));
		if (!(TS_TABLE_KEY_FIELDS(table) & TS_KEY_PORTS)) {
			own.sport = 0;
			own.dport = 0;
			own.proto = 0;
		}
		if (!(TS_TABLE_KEY_FIELDS(table) & TS_KEY_ADDRS)) {
			__builtin_memset(own.src, 0, sizeof(own.src));
			__builtin_memset(own.dst, 0, sizeof(own.dst));
		}
		key = &own;
	}
	if (!table_add(table, epoch, cpu, key, packets, bytes, now, timed, tcp_flags))
		add(&s->table_overflow[table], packets, bytes);
}

/*
 * The keyed tables' share of one IP packet (its key as the parser filled it
 * in, key_fields): in each table that is on, an entry or overflow; or
 * unkeyed, in none.
 */
static __always_inline void account_key(struct ts_stats *s, __u32 epoch, const struct ts_flow_key *key,
					__u8 tcp_flags, __u64 packets, __u64 bytes, __u64 now,
					const volatile bool *timed)
{
	__u32 cpu, active;

	if (!key->ip_version) {
		add(&s->table_unkeyed, packets, bytes);
		return;
	}
	/* One helper call per packet, whatever the number of tables. */
	cpu = bpf_get_smp_processor_id();
	if (cpu >= table_cpus)
		return; /* cannot happen: possible CPUs; the check bounds the index */
	/* `epoch`, read once per packet: the slots' epoch, the parity they are
	 * in and the half of `s` agree. */
	/* The runtime switches (trafstat control), read once per packet. */
	active = *(volatile __u32 *)&control.tables_active;
	account_table(s, TS_TABLE_TALKERS, epoch, cpu, active, key, tcp_flags, packets, bytes, now, timed);
	account_table(s, TS_TABLE_PORTS, epoch, cpu, active, key, tcp_flags, packets, bytes, now, timed);
	account_table(s, TS_TABLE_FLOWS, epoch, cpu, active, key, tcp_flags, packets, bytes, now, timed);
}

#endif /* TRAFSTAT_TABLE_BPF_H */
