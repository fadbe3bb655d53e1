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

/* Bytes a TC program may pull into the linear area to see all headers. */
#define TS_TC_PULL_LEN 256
/* An 802.1Q tag the stack moved into skb metadata still crossed the wire. */
#define TS_VLAN_TAG_LEN 4

/* Global, so verified once on its own (see parse_ip). */
__noinline __u32 ts_parse_ip_xdp(struct xdp_md *ctx, __u32 l3_off, bool is_v6)
{
	return parse_ip((void *)(long)ctx->data, (void *)(long)ctx->data_end, l3_off, is_v6);
}

__noinline __u32 ts_parse_ip_tc(struct __sk_buff *skb, __u32 l3_off, bool is_v6)
{
	return parse_ip((void *)(long)skb->data, (void *)(long)skb->data_end, l3_off, is_v6);
}

static __always_inline bool is_ip(const struct parse_result *r)
{
	return r->l3 == TS_CLASS_IPV4 || r->l3 == TS_CLASS_IPV6;
}

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

static __always_inline void account(struct ts_stats *s, const struct parse_result *r,
				    __u64 packets, __u64 bytes)
{
	__u32 l3 = r->l3, l4 = r->l4;

	add(&s->cls[TS_CLASS_ALL], packets, bytes);
	if (l3 < TS_L3_FIRST || l3 > TS_L3_LAST)
		return; /* cannot happen; keeps the verifier's bounds explicit */
	add(&s->cls[l3], packets, bytes);

	if (l3 == TS_CLASS_IPV4 || l3 == TS_CLASS_IPV6) {
		__u32 version = l3 == TS_CLASS_IPV4 ? TS_IP_V4 : TS_IP_V6;

		if (l4 < TS_L4_FIRST || l4 > TS_L4_LAST)
			l4 = TS_CLASS_MALFORMED_L4;
		add(&s->cls[l4], packets, bytes);
		add(&s->l4_by_ip[version][l4 - TS_L4_FIRST], packets, bytes);
	}
	if (r->vlan)
		add(&s->cls[TS_CLASS_VLAN], packets, bytes);
	if (r->pppoe)
		add(&s->cls[TS_CLASS_PPPOE], packets, bytes);
}

/*
 * XDP counts the whole frame, every fragment of a multi-buffer frame
 * included, and `tags` VLAN tags the driver stripped (as TC does).
 */
static __always_inline int count_xdp(struct xdp_md *ctx, __u32 tags, __u32 wire_len)
{
	struct ts_stats *s = this_cpu_stats();
	struct parse_result r = {};
	__u64 bytes;

	if (!s)
		return drop_mode ? XDP_DROP : XDP_PASS;
	bytes = wire_len ? wire_len : bpf_xdp_get_buff_len(ctx);
	if (replay_mode) {
		struct ts_replay_meta *meta = (void *)(long)ctx->data_meta;

		if ((void *)(meta + 1) <= (void *)(long)ctx->data)
			bytes = meta->wire_len;
	}

	if (drop_mode) {
		/* bptraf's benchmark mode: no header is read. */
		add(&s->cls[TS_CLASS_ALL], 1, bytes);
		return XDP_DROP;
	}

	parse_frame_l2((void *)(long)ctx->data, (void *)(long)ctx->data_end, tags, &r);
	if (is_ip(&r))
		set_l4(&r, ts_parse_ip_xdp(ctx, r.l3_off, r.l3 == TS_CLASS_IPV6));
	account(s, &r, 1, bytes + tags * TS_VLAN_TAG_LEN);
	return XDP_PASS;
}

/* The XDP entry for generic mode, tests and replay. */
SEC("xdp.frags")
int trafstat_xdp(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0);
}

/*
 * The XDP entry for native mode, loaded device-bound to one interface: a NIC
 * (or veth) with VLAN offload strips the tag before XDP runs, and only the
 * driver's metadata still has it.
 */
SEC("xdp.frags")
int trafstat_xdpdev(struct xdp_md *ctx)
{
	__be16 proto;
	__u16 tci;
	__u32 tags = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0 ? 1 : 0;

	return count_xdp(ctx, tags, 0);
}

/* One replayed frame: the live XDP path with the bytes the capture recorded. */
__noinline int ts_count_replayed(struct xdp_md *ctx, __u32 wire_len)
{
	return count_xdp(ctx, 0, wire_len);
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

		if (j >= count)
			break;
		i = count - 1 - j;
		/* Pointers die with every adjust: re-derive them. */
		f = (void *)(long)ctx->data + sizeof(*batch) + (i & (TS_REPLAY_MAX_BATCH - 1)) * sizeof(*f);
		if ((void *)(f + 1) > (void *)(long)ctx->data_end)
			return XDP_ABORTED;
		len = f->len;
		wire_len = f->wire_len;
		if (len < TS_REPLAY_MIN_FRAME || len > tail || tail - len < table_len)
			return XDP_ABORTED;
		start = tail - len;
		if (bpf_xdp_adjust_head(ctx, (int)start))
			return XDP_ABORTED;
		ts_count_replayed(ctx, wire_len);
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
 */
SEC("tc")
int trafstat_tc(struct __sk_buff *skb)
{
	struct ts_stats *s = this_cpu_stats();
	struct parse_result r = {};
	__u32 tags = skb->vlan_present ? 1 : 0;
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u64 bytes = skb->len;
	__u32 want = skb->len < TS_TC_PULL_LEN ? skb->len : TS_TC_PULL_LEN;

	if (!s)
		return TC_ACT_UNSPEC;

	/* Headers of a non-linear skb may sit in fragments: make them readable.
	 * This moves bytes into the linear area but never changes them. */
	if ((__u64)skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);

	parse_frame_l2((void *)(long)skb->data, (void *)(long)skb->data_end, tags, &r);
	if (is_ip(&r))
		set_l4(&r, ts_parse_ip_tc(skb, r.l3_off, r.l3 == TS_CLASS_IPV6));

	if (segs > 1 && r.hdr_len)
		bytes += (segs - 1) * r.hdr_len;
	bytes += tags * TS_VLAN_TAG_LEN * segs;
	account(s, &r, segs, bytes);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
