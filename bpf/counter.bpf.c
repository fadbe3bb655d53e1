// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trafstat's counting program: parse → classify → account → pass.
 *
 * One parser (parse.bpf.h) serves an XDP and a TC entry point. Both are
 * passive on every path: the packet is never modified and always continues
 * (XDP_PASS, TC_ACT_UNSPEC so later TC programs still run). The only
 * exception is drop mode, XDP only, chosen at load time.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#include "parse.bpf.h"

/* Load-time configuration: the verifier prunes what is switched off. */
const volatile bool drop_mode = false; /* XDP: count totals only, then XDP_DROP */
const volatile bool replay_mode = false; /* XDP: bytes from struct ts_replay_meta */
const volatile __u32 tables_on = 0; /* TS_TABLE_BIT()s: the keyed tables counted; 0 = none */
const volatile __u32 key_fields = 0; /* TS_KEY_*: what the parser fills in (the tables' fields together) */
const volatile bool size_histogram = false; /* count frame sizes in ts_stats.size_hist */
/* XDP: false only where no frame can span buffers (native mode, small MTU) */
const volatile bool frames_may_be_multibuf = true;
/*
 * Linux 6.8+, device-bound programs only (the verifier refuses the call in
 * any other program, even dead): used by trafstat_xdpdev alone. Weak, so
 * the object still loads where the kernel lacks it.
 */
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym __weak;

/* Everything this attachment counts; one entry, one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_stats);
} stats SEC(".maps");

/*
 * The keyed tables (docs/tables.md): open addressing in one mmapable array,
 * [table][epoch parity][cpu][slot]. Each CPU writes only its own region, so
 * no atomics and no locks; lookups are inlined array accesses, so no helper
 * calls. A slot whose epoch is not the current one is free: userspace empties
 * a region by moving to the next epoch, then reads it through mmap once no
 * program can still be writing it. Sizes are set at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_flow_entry);
} tables SEC(".maps");

/* Replay only (else one slot): capture times, indexed as `tables`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_flow_times);
} table_times SEC(".maps");

const volatile __u32 table_slots[TS_TABLES] = {}; /* per CPU and epoch parity; powers of two */
const volatile __u32 table_first[TS_TABLES] = {}; /* index of each table's first slot */
const volatile __u32 table_cpus = 1;  /* possible CPUs */
const volatile __u64 table_seed = 0;  /* random per load: keys cannot be chosen to collide */

__u32 table_epoch = 0; /* .bss, advanced by userspace every interval */

/* Bytes a TC program may pull into the linear area to see all headers. */
#define TS_TC_PULL_LEN 256
/* An 802.1Q tag the stack moved into skb metadata still crossed the wire. */
#define TS_VLAN_TAG_LEN 4


static __always_inline void add(struct ts_counter *c, __u64 packets, __u64 bytes)
{
	/* Per-CPU value: only this CPU writes it, no atomic needed. */
	c->packets += packets;
	c->bytes += bytes;
}

static __always_inline struct ts_stats *this_cpu_stats(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&stats, &key);
}

/* RMON bucket of a frame of `len` bytes. */
static __always_inline __u32 size_bucket(__u64 len)
{
	if (len <= 64)
		return 0;
	if (len <= 127)
		return 1;
	if (len <= 255)
		return 2;
	if (len <= 511)
		return 3;
	if (len <= 1023)
		return 4;
	if (len <= 1518)
		return 5;
	return 6;
}

/* The key read as five 64-bit words: may_alias, or clang may reorder the
 * word loads before the byte stores that built the key (strict aliasing). */
typedef __u64 __attribute__((may_alias)) key_word;

/*
 * IPv6 extension-header chains, out of line: global functions, so the
 * verifier checks each once, for any offset, instead of once per L2 layout
 * (tags, PPPoE) it is inlined into; a call costs only packets that have a
 * chain. One per context type: a global function cannot take packet
 * pointers, so each reads data and data_end from its own context. The
 * verifier checks a global function for any argument, NULL included, hence
 * the check of `key`, which callers never pass NULL.
 */
__noinline __u32 ts_ipv6_chain_xdp(struct xdp_md *ctx, __u32 off, __u32 nexthdr, struct ts_flow_key *key,
				   __u32 fields)
{
	if (!key)
		return TS_CLASS_MALFORMED_L4;
	return parse_ipv6_chain_at((void *)(long)ctx->data, (void *)(long)ctx->data_end, off, nexthdr, key, fields);
}

__noinline __u32 ts_ipv6_chain_tc(struct __sk_buff *skb, __u32 off, __u32 nexthdr, struct ts_flow_key *key,
				  __u32 fields)
{
	if (!key)
		return TS_CLASS_MALFORMED_L4;
	return parse_ipv6_chain_at((void *)(long)skb->data, (void *)(long)skb->data_end, off, nexthdr, key, fields);
}

/*
 * parse_ip_at at the cursor `l3`, an IPv6 extension-header chain walked by
 * the hook's chain function above. `xdp` is a compile-time constant: ctx is
 * a struct xdp_md, else a struct __sk_buff.
 */
static __always_inline __u32 parse_ip_chain_out(void *ctx, const bool xdp, void *data, struct cursor l3,
						bool is_v6, struct ts_flow_key *key, __u32 fields)
{
	struct ipv6_chain chain;
	__u32 packed = parse_ip_at(data, l3, is_v6, key, fields, &chain);

	if (chain.left) {
		struct ts_flow_key scratch = {}; /* no table: a key for nobody */

		if (xdp)
			return ts_ipv6_chain_xdp(ctx, chain.off, chain.nexthdr, key ? key : &scratch, key ? fields : 0);
		return ts_ipv6_chain_tc(ctx, chain.off, chain.nexthdr, key ? key : &scratch, key ? fields : 0);
	}
	return packed;
}

/* TC with the keyed table: verified once on its own (see count_tc). */
__noinline __u32 ts_parse_ip_tc(struct __sk_buff *skb, __u32 l3_off, bool is_v6, struct ts_flow_key *key)
{
	return parse_ip((void *)(long)skb->data, (void *)(long)skb->data_end, l3_off, is_v6, key,
			key_fields);
}

/* One multiply-xorshift round per 64-bit word of the key (the key is 8-aligned). */
static __always_inline __u32 flow_hash(const struct ts_flow_key *key)
{
	const key_word *w = (const key_word *)key;
	__u64 h = table_seed;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*key) / 8); i++) {
		h ^= w[i];
		h *= 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return (__u32)(h >> 32);
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

/*
 * One table's update for one IP packet: up to TS_FLOW_PROBES slots of this
 * CPU's region, from the key's hash on. The key's slot, or the first free one,
 * is updated; when all are taken by other keys, the packet is overflow. `now`
 * is the capture time, kept in replay only: live, a clock read is a helper
 * call, which costs more than the whole update where returns are slow, and
 * entries live one interval, so userspace dates them by interval.
 */
static __always_inline bool table_add(__u32 table, __u32 epoch, __u32 region, const struct ts_flow_key *key,
				      __u64 packets, __u64 bytes, __u64 now, __u8 tcp_flags)
{
	__u32 slots = table_slots[table];
	__u32 mask = slots - 1;
	__u32 h = flow_hash(key);
	__u32 base = table_first[table] + region * slots;

#pragma unroll
	for (int i = 0; i < TS_FLOW_PROBES; i++) {
		__u32 idx = base + ((h + i) & mask);
		struct ts_flow_entry *e = bpf_map_lookup_elem(&tables, &idx);

		if (!e)
			return false;
		if (e->epoch != epoch) {
			/* A free slot: this CPU's own, nobody else writes it. */
			__builtin_memcpy(&e->key, key, sizeof(*key));
			e->packets = packets;
			e->bytes = bytes;
			e->tcp_flags = tcp_flags;
			e->epoch = epoch;
			if (replay_mode)
				note_time(idx, now, true);
			return true;
		}
		if (flow_key_equal(&e->key, key)) {
			e->packets += packets;
			e->bytes += bytes;
			e->tcp_flags |= tcp_flags;
			if (replay_mode)
				note_time(idx, now, false);
			return true;
		}
	}
	return false;
}

/* `table`'s update, its key cut to its own fields when the parser filled more. */
static __always_inline void account_table(struct ts_stats *s, const __u32 table, __u32 epoch, __u32 region,
					  const struct ts_flow_key *key, __u8 tcp_flags, __u64 packets,
					  __u64 bytes, __u64 now)
{
	struct ts_flow_key own;

	if (!(tables_on & TS_TABLE_BIT(table)))
		return;
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
	if (!table_add(table, epoch, region, key, packets, bytes, now, tcp_flags))
		add(&s->table_overflow[table], packets, bytes);
}

/* The keyed tables' share of one IP packet: in each table that is on, an
 * entry or overflow; or unkeyed, in none. */
static __always_inline void account_key(struct ts_stats *s, const struct ts_flow_key *key,
					const struct parse_result *r, __u64 packets, __u64 bytes, __u64 now)
{
	__u32 cpu, epoch, region;

	if (!key->ip_version) {
		add(&s->table_unkeyed, packets, bytes);
		return;
	}
	/* One helper call per packet, whatever the number of tables. */
	cpu = bpf_get_smp_processor_id();
	if (cpu >= table_cpus)
		return; /* cannot happen: possible CPUs; the check bounds the index */
	/* Read once: the slots' epoch and the half they are in must agree. */
	epoch = *(volatile __u32 *)&table_epoch;
	region = (epoch & 1) * table_cpus + cpu;
	account_table(s, TS_TABLE_TALKERS, epoch, region, key, r->tcp_flags, packets, bytes, now);
	account_table(s, TS_TABLE_PORTS, epoch, region, key, r->tcp_flags, packets, bytes, now);
	account_table(s, TS_TABLE_FLOWS, epoch, region, key, r->tcp_flags, packets, bytes, now);
}

/*
 * One counter per packet (plus the flags): the IP version's L4 class, or the
 * L3 class of a non-IP frame. `all`, ipv4, ipv6 and the L4 totals are sums of
 * these, taken by userspace (abi.h), so they reconcile by construction and
 * cost nothing here.
 */
static __always_inline void account(struct ts_stats *s, const struct parse_result *r,
				    __u64 packets, __u64 bytes)
{
	__u32 l3 = r->l3, l4 = r->l4;

	if (l3 == TS_CLASS_IPV4 || l3 == TS_CLASS_IPV6) {
		__u64 col = (__u32)(l4 - TS_L4_FIRST);

		/* Out of range cannot happen; the check is the verifier's bound.
		 * The barrier keeps clang from recomputing the index after it. */
		if (col >= TS_L4_COUNT)
			col = TS_CLASS_MALFORMED_L4 - TS_L4_FIRST;
		asm volatile("" : "+r"(col));
		add(&s->l4_by_ip[l3 == TS_CLASS_IPV6][col], packets, bytes);
	} else if (l3 >= TS_L3_FIRST && l3 <= TS_L3_LAST) {
		add(&s->cls[l3], packets, bytes);
	}
	if (r->vlan)
		add(&s->cls[TS_CLASS_VLAN], packets, bytes);
	if (r->pppoe)
		add(&s->cls[TS_CLASS_PPPOE], packets, bytes);
}

/*
 * XDP counts the whole frame, every fragment of a multi-buffer frame
 * included, and `tags` VLAN tags the driver stripped (as TC does).
 * `keyed` is a compile-time constant: the entry points without the keyed
 * table are compiled without it, so its key costs no registers or stack.
 */
static __always_inline int count_xdp(struct xdp_md *ctx, __u32 tags, __u32 wire_len, __u64 ts,
				     const bool keyed)
{
	struct ts_stats *s = this_cpu_stats();
	struct parse_result r = {};
	struct ts_flow_key key = {};
	const bool table = keyed && tables_on;
	void *data = (void *)(long)ctx->data;
	struct cursor l3;
	__u64 bytes;

	if (!s)
		return drop_mode ? XDP_DROP : XDP_PASS;
	/* bpf_xdp_get_buff_len is a helper call, costly where returns are
	 * (SRSO "safe RET"): made only where a frame can be multi-buffer. */
	bytes = wire_len ? wire_len : frames_may_be_multibuf ? bpf_xdp_get_buff_len(ctx)
							      : ctx->data_end - ctx->data;
	if (replay_mode) {
		struct ts_replay_meta *meta = (void *)(long)ctx->data_meta;

		if ((void *)(meta + 1) <= (void *)(long)ctx->data) {
			bytes = meta->wire_len;
			ts = meta->ts_ns;
		}
	}

	if (drop_mode) {
		/* bptraf's benchmark mode: no header is read, only `all` is written. */
		add(&s->cls[TS_CLASS_ALL], 1, bytes);
		return XDP_DROP;
	}

	parse_frame_l2(data, (void *)(long)ctx->data_end, tags, &r, &l3);
	if (is_ip(&r))
		set_l4(&r, parse_ip_chain_out(ctx, true, data, l3, r.l3 == TS_CLASS_IPV6, table ? &key : NULL,
					      table ? key_fields : 0));
	bytes += tags * TS_VLAN_TAG_LEN;
	account(s, &r, 1, bytes);
	if (size_histogram)
		add(&s->size_hist[size_bucket(bytes)], 1, bytes);
	if (table && is_ip(&r))
		account_key(s, &key, &r, 1, bytes, ts);
	return XDP_PASS;
}

/* The XDP entry for generic mode and tests; _keyed with the keyed table. */
SEC("xdp.frags")
int trafstat_xdp(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, false);
}

SEC("xdp.frags")
int trafstat_xdp_keyed(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, true);
}

/*
 * The XDP entry for native mode, loaded device-bound to one interface: a NIC
 * (or veth) with VLAN offload strips the tag before XDP runs, and only the
 * driver's metadata still has it.
 */
static __always_inline __u32 stripped_vlan_tags(struct xdp_md *ctx)
{
	__be16 proto;
	__u16 tci;

	return bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0 ? 1 : 0;
}

SEC("xdp.frags")
int trafstat_xdpdev(struct xdp_md *ctx)
{
	return count_xdp(ctx, stripped_vlan_tags(ctx), 0, 0, false);
}

SEC("xdp.frags")
int trafstat_xdpdev_keyed(struct xdp_md *ctx)
{
	return count_xdp(ctx, stripped_vlan_tags(ctx), 0, 0, true);
}

/* One replayed frame: the live XDP path with the bytes the capture recorded. */
__noinline int ts_count_replayed(struct xdp_md *ctx, __u32 wire_len, __u64 ts_ns)
{
	return count_xdp(ctx, 0, wire_len, ts_ns, true);
}

/*
 * Replay of a batch of frames (layout in abi.h) in one BPF_PROG_TEST_RUN.
 * Frames are taken last to first: the window is moved onto a frame with
 * bpf_xdp_adjust_head, counted, moved back, and the tail shrunk past it.
 * (Growing a tail zeroes it, so the tail only ever shrinks.) Returns
 * XDP_ABORTED on a malformed batch, which userspace reports.
 */
SEC("xdp")
int trafstat_replay(struct xdp_md *ctx)
{
	struct ts_replay_batch *batch = (void *)(long)ctx->data;
	__u32 count, table_len, tail;

	if ((void *)(batch + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	count = batch->count;
	if (count == 0 || count > TS_REPLAY_MAX_BATCH)
		return XDP_ABORTED;
	table_len = sizeof(*batch) + count * sizeof(struct ts_replay_frame);
	tail = ctx->data_end - ctx->data;

	for (__u32 j = 0; j < TS_REPLAY_MAX_BATCH; j++) {
		struct ts_replay_frame *f;
		__u32 i, len, wire_len, start;
		__u64 ts_ns;

		if (j >= count)
			break;
		i = count - 1 - j;
		/* Pointers die with every adjust: re-derive them. */
		f = (void *)(long)ctx->data + sizeof(*batch) + (i & (TS_REPLAY_MAX_BATCH - 1)) * sizeof(*f);
		if ((void *)(f + 1) > (void *)(long)ctx->data_end)
			return XDP_ABORTED;
		len = f->len;
		wire_len = f->wire_len;
		ts_ns = f->ts_ns;
		if (len < TS_REPLAY_MIN_FRAME || len > tail || tail - len < table_len)
			return XDP_ABORTED;
		start = tail - len;
		if (bpf_xdp_adjust_head(ctx, (int)start))
			return XDP_ABORTED;
		ts_count_replayed(ctx, wire_len, ts_ns);
		if (bpf_xdp_adjust_head(ctx, -(int)start) || bpf_xdp_adjust_tail(ctx, -(int)len))
			return XDP_ABORTED;
		tail = start;
	}
	return XDP_PASS;
}

/*
 * TC counts what the wire carried: a GSO/GRO super-packet is gso_segs packets,
 * each with its own copy of the L2-L4 headers; a VLAN tag held in skb metadata
 * adds its 4 bytes back. That makes TC agree with XDP on the same traffic.
 * `keyed` is a compile-time constant, as for XDP.
 */
static __always_inline int count_tc(struct __sk_buff *skb, const bool keyed)
{
	struct ts_stats *s = this_cpu_stats();
	struct parse_result r = {};
	struct ts_flow_key key = {};
	const bool table = keyed && tables_on;
	__u32 tags = skb->vlan_present ? 1 : 0;
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u64 bytes = skb->len;
	__u32 want = skb->len < TS_TC_PULL_LEN ? skb->len : TS_TC_PULL_LEN;
	struct cursor l3;
	void *data;

	if (!s)
		return TC_ACT_UNSPEC;

	/* Headers of a non-linear skb may sit in fragments: make them readable.
	 * This moves bytes into the linear area but never changes them. */
	if ((__u64)skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);

	data = (void *)(long)skb->data;
	parse_frame_l2(data, (void *)(long)skb->data_end, tags, &r, &l3);
	if (is_ip(&r)) {
		/* With the table, the IP parser is a function of its own: inlined
		 * into every L2 layout (VLAN tags in data or metadata, PPPoE) the
		 * key building would exceed the verifier's budget. */
		if (keyed)
			set_l4(&r, ts_parse_ip_tc(skb, r.l3_off, r.l3 == TS_CLASS_IPV6, table ? &key : NULL));
		else
			set_l4(&r, parse_ip_chain_out(skb, false, data, l3, r.l3 == TS_CLASS_IPV6, NULL, 0));
	}

	if (segs > 1 && r.hdr_len)
		bytes += (segs - 1) * r.hdr_len;
	bytes += tags * TS_VLAN_TAG_LEN * segs;
	account(s, &r, segs, bytes);
	if (size_histogram)
		add(&s->size_hist[size_bucket(bytes / segs)], segs, bytes); /* a super-packet's segments: their mean size */
	if (table && is_ip(&r))
		account_key(s, &key, &r, segs, bytes, 0);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int trafstat_tc(struct __sk_buff *skb)
{
	return count_tc(skb, false);
}

SEC("tc")
int trafstat_tc_keyed(struct __sk_buff *skb)
{
	return count_tc(skb, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
