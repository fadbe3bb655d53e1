// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trafstat's counting program: parse → classify → account → pass.
 *
 * One parser (parse.bpf.h) serves an XDP and a TC entry point, which count
 * into the per-CPU counters (stats.bpf.h) and the keyed tables (table.bpf.h).
 * Both are passive on every path: the packet is never modified and always
 * continues (XDP_PASS, TC_ACT_UNSPEC so later TC programs still run). The
 * only exception is drop mode, XDP only, chosen at load time.
 *
 * Built three times, one object per generation of the kfuncs it calls (all
 * weak): all of them (Linux 6.8+), without bpf_xdp_metadata_rx_vlan_tag
 * (-DTS_NO_VLAN_KFUNC, 6.3-6.7), and without any (-DTS_NO_CAST_KFUNCS too,
 * older). trafstat loads the first whose kfuncs the running kernel's vmlinux
 * BTF has (src/bpf/counter_builds.cpp). A weak kfunc missing from vmlinux
 * makes libbpf 1.1 (Debian 12's) search the modules' BTF, whose listing
 * (BPF_BTF_GET_NEXT_ID) needs CAP_SYS_ADMIN: with CAP_BPF, CAP_NET_ADMIN and
 * CAP_PERFMON alone the load would fail (docs/privileges.md). The builds
 * behave as the full one does where its missing kfuncs resolve to 0; they
 * share maps, programs and globals, so one skeleton (counter.skel.h) opens
 * each.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "parse.bpf.h"
#include "stats.bpf.h"
#include "table.bpf.h"

/* Load-time configuration: the verifier prunes what is switched off (the tables': table.bpf.h). */
const volatile bool drop_mode = false; /* XDP: count totals only, then XDP_DROP */
const volatile bool replay_mode = false; /* XDP: bytes from struct ts_replay_meta */
const volatile bool size_histogram = false; /* count frame sizes in ts_stats.size_hist */
/* XDP: false only where no frame can span buffers (native mode, small MTU) */
const volatile bool frames_may_be_multibuf = true;
/* Generic XDP only: the interface's largest wire frame (MTU, Ethernet header,
 * VLAN tags); a longer frame is a GSO/GRO super-packet. 0: not generic XDP. */
const volatile __u32 max_wire_frame = 0;
/*
 * Linux 6.8+, device-bound programs only (the verifier refuses the call in
 * any other program, even dead): used by trafstat_xdpdev alone. Weak, so
 * the object still loads where the kernel lacks it.
 */
#ifndef TS_NO_VLAN_KFUNC
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym __weak;
#endif

/*
 * Generic XDP runs on an skb, and the xdp_buff it builds ends where the skb's
 * shared info begins (bpf_prog_run_generic_xdp: frame_sz reaches past
 * skb_end_pointer by the aligned size of struct skb_shared_info, the layout
 * xdp_get_shared_info_from_buff reads frags from). So the program reaches
 * the skb's gso_segs through the kernel context, read-only, at no helper
 * cost (both kfuncs are rewritten into moves). Anywhere else that memory is
 * the driver's, hence generic XDP only. The local types take the kernel's
 * layout (CO-RE).
 */
/* Linux 6.3+; weak, so the object still loads on older kernels (generic XDP
 * then counts a super-packet as one frame, in super_packets). */
#ifndef TS_NO_CAST_KFUNCS
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

struct xdp_buff___ts {
	void *data_hard_start;
	__u32 frame_sz;
} __attribute__((preserve_access_index));

struct skb_shared_info___ts {
	__u16 gso_segs;
} __attribute__((preserve_access_index));

/* SKB_DATA_ALIGN: SMP_CACHE_BYTES is 64 on x86-64 and arm64. */
#define TS_SKB_DATA_ALIGN(x) (((x) + 63) & ~63ULL)

/* The wire segments a generic-XDP frame stands for: 1 unless it is a GSO super-packet. */
static __always_inline __u64 generic_xdp_segments(struct xdp_md *ctx)
{
	/* A missing weak kfunc is 0 (libbpf): the verifier prunes its calls only
	 * behind this test (Debian 12's 6.1 rejected the program without it). */
	if (!bpf_cast_to_kern_ctx || !bpf_rdonly_cast)
		return 1;
	struct xdp_buff___ts *xdp = bpf_cast_to_kern_ctx(ctx);
	__u64 shinfo = (__u64)(long)xdp->data_hard_start + xdp->frame_sz -
		       TS_SKB_DATA_ALIGN(bpf_core_type_size(struct skb_shared_info___ts));
	struct skb_shared_info___ts *info =
		bpf_rdonly_cast((void *)(long)shinfo, bpf_core_type_id_kernel(struct skb_shared_info___ts));
	__u16 segs = info->gso_segs;

	return segs ? segs : 1;
}
#else
/* Before 6.3: what the full build does there, the kfuncs being 0. */
static __always_inline __u64 generic_xdp_segments(struct xdp_md *ctx)
{
	return 1;
}
#endif

/* Bytes a TC program pulls into the linear area to see the headers. */
#define TS_TC_PULL_LEN 256
/* The longest headers the parser follows: Ethernet, VLAN tags, PPPoE, IPv6,
 * TS_MAX_IPV6_EXT_HDRS options of the largest size (2 KB each), TCP with options. */
#define TS_TC_HEADERS_MAX (14 + TS_MAX_VLAN_TAGS * 4 + 8 + 40 + TS_MAX_IPV6_EXT_HDRS * 2048 + 60)
/* An 802.1Q tag the stack moved into skb metadata still crossed the wire. */
#define TS_VLAN_TAG_LEN 4

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

/* TC without the table, once more after a pull (see count_tc): fresh packet
 * pointers, the chain out of line. */
__noinline __u32 ts_reparse_ip_tc(struct __sk_buff *skb, __u32 l3_off, bool is_v6)
{
	void *data = (void *)(long)skb->data;
	struct cursor l3 = { .pos = data, .end = (void *)(long)skb->data_end };

	if (l3_off > TS_MAX_L3_OFF)
		return TS_CLASS_MALFORMED_L4;
	l3.pos += l3_off;
	return parse_ip_chain_out(skb, false, data, l3, is_v6, NULL, 0);
}

/* UDP ports of the tunnels whose super-packets trafstat counts with their inner headers. */
#define TS_PORT_VXLAN 4789
#define TS_PORT_VXLAN_LINUX 8472 /* the Linux driver's default, flannel's */
#define TS_PORT_GENEVE 6081
#define TS_ETH_P_TEB 0x6558 /* transparent Ethernet bridging: an Ethernet frame inside */

/*
 * The header length of an encapsulated super-packet: each segment on the wire
 * repeats the outer headers, the tunnel header and the inner packet's headers
 * up to its L4 header (the kernel's SKB_GSO_UDP_TUNNEL, GRE and IPIP/SIT
 * segmentation), not only the outer ones. Knows VXLAN (ports 4789 and 8472),
 * Geneve (6081), GRE (Ethernet or IP inside), IPIP and IPv6-in-IPv4/6 (SIT).
 * Returns the offset of the inner L4 header's end, or 0: no tunnel it knows,
 * or inner headers it cannot read. A global function: verified once, called
 * only for super-packets, whose cost is spread over their segments.
 */
__noinline __u32 ts_tunnel_hdr_len_tc(struct __sk_buff *skb, __u32 l3_off, bool is_v6)
{
	void *data = (void *)(long)skb->data;
	struct cursor c = { .pos = data, .end = (void *)(long)skb->data_end };
	bool inner_v6 = false;
	__be16 inner_type;
	__u8 proto;

	if (l3_off > TS_MAX_L3_OFF)
		return 0;
	c.pos += l3_off;
	if (is_v6) {
		struct ipv6hdr *ip6 = cursor_take(&c, sizeof(*ip6));

		if (!ip6)
			return 0;
		proto = ip6->nexthdr;
	} else {
		struct iphdr *ip = c.pos;
		__u32 ihl;

		if ((void *)(ip + 1) > c.end)
			return 0;
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip) || !cursor_take(&c, ihl))
			return 0;
		proto = ip->protocol;
	}

	switch (proto) {
	case IPPROTO_UDP: {
		struct udphdr *udp = cursor_take(&c, sizeof(*udp));
		__u16 port;

		if (!udp)
			return 0;
		port = bpf_ntohs(udp->dest);
		if (port == TS_PORT_VXLAN || port == TS_PORT_VXLAN_LINUX) {
			if (!cursor_take(&c, 8)) /* flags, VNI */
				return 0;
			inner_type = bpf_htons(TS_ETH_P_TEB);
		} else if (port == TS_PORT_GENEVE) {
			__u8 *g = c.pos;

			if ((void *)(g + 8) > c.end)
				return 0;
			inner_type = *(__be16 *)(g + 2);
			if (!cursor_take(&c, 8 + (g[0] & 0x3f) * 4)) /* options: 4-byte words */
				return 0;
		} else {
			return 0;
		}
		break;
	}
	case IPPROTO_GRE: {
		__u8 *g = c.pos;
		__u32 len = 4;

		if ((void *)(g + 4) > c.end || (g[1] & 0x07)) /* GRE version 0 only */
			return 0;
		len += (g[0] & 0x80 ? 4 : 0) + (g[0] & 0x20 ? 4 : 0) + (g[0] & 0x10 ? 4 : 0); /* C, K, S */
		inner_type = *(__be16 *)(g + 2);
		if (!cursor_take(&c, len))
			return 0;
		break;
	}
	case IPPROTO_IPIP:
		inner_type = bpf_htons(ETH_P_IP);
		break;
	case IPPROTO_IPV6:
		inner_type = bpf_htons(ETH_P_IPV6);
		break;
	default:
		return 0;
	}

	if (inner_type == bpf_htons(TS_ETH_P_TEB)) {
		struct ethhdr *eth = cursor_take(&c, sizeof(*eth));

		if (!eth)
			return 0;
		inner_type = eth->h_proto;
		if (inner_type == bpf_htons(ETH_P_8021Q)) {
			struct vlan_hdr_ *vh = cursor_take(&c, sizeof(*vh));

			if (!vh)
				return 0;
			inner_type = vh->proto;
		}
	}
	if (inner_type == bpf_htons(ETH_P_IPV6))
		inner_v6 = true;
	else if (inner_type != bpf_htons(ETH_P_IP))
		return 0;
	return parse_ip_chain_out(skb, false, data, c, inner_v6, NULL, 0) >> 16;
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
 * included, and `tags` VLAN tags the driver stripped (as TC does); generic
 * XDP, a GSO super-packet as its segments (as TC does).
 * `keyed` is a compile-time constant: the entry points without the keyed
 * table are compiled without it, so its key costs no registers or stack.
 */
static __always_inline int count_xdp(struct xdp_md *ctx, __u32 tags, __u32 wire_len, __u64 ts,
				     const bool keyed, const bool generic)
{
	const __u32 epoch = this_epoch();
	struct ts_stats *s = this_cpu_stats(epoch);
	struct parse_result r = {};
	struct ts_flow_key key = {};
	const bool table = keyed && tables_on;
	void *data = (void *)(long)ctx->data;
	struct cursor l3;
	__u64 bytes, segs = 1;

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

	/* Generic XDP: a super-packet counts as the wire segments it stands for,
	 * as at TC. `generic` is a compile-time constant: the other entries keep
	 * one packet per frame without a register or a branch for it. */
	if (generic && max_wire_frame) {
		segs = generic_xdp_segments(ctx);
		if (bytes > max_wire_frame)
			add(&s->super_packets, 1, bytes);
	}
	parse_frame_l2(data, (void *)(long)ctx->data_end, tags, &r, &l3);
	if (is_ip(&r))
		set_l4(&r, parse_ip_chain_out(ctx, true, data, l3, r.l3 == TS_CLASS_IPV6, table ? &key : NULL,
					      table ? key_fields : 0));
	if (segs > 1 && r.hdr_len)
		bytes += (segs - 1) * r.hdr_len;
	bytes += tags * TS_VLAN_TAG_LEN;
	account(s, &r, segs, bytes);
	if (size_histogram)
		add(&s->size_hist[size_bucket(segs > 1 ? bytes / segs : bytes)], segs, bytes);
	if (table && is_ip(&r))
		account_key(s, epoch, &key, r.tcp_flags, segs, bytes, ts, &replay_mode);
	return XDP_PASS;
}

/* The XDP entry for native mode without device binding, and tests; _keyed with the keyed table. */
SEC("xdp.frags")
int trafstat_xdp(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, false, false);
}

SEC("xdp.frags")
int trafstat_xdp_keyed(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, true, false);
}

/* The XDP entry for generic mode: GSO super-packets counted as their segments. */
SEC("xdp.frags")
int trafstat_xdpgen(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, false, true);
}

SEC("xdp.frags")
int trafstat_xdpgen_keyed(struct xdp_md *ctx)
{
	return count_xdp(ctx, 0, 0, 0, true, true);
}

/*
 * The XDP entry for native mode, loaded device-bound to one interface: a NIC
 * (or veth) with VLAN offload strips the tag before XDP runs, and only the
 * driver's metadata still has it.
 */
static __always_inline __u32 stripped_vlan_tags(struct xdp_md *ctx)
{
#ifdef TS_NO_VLAN_KFUNC
	return 0; /* never loaded: the loader refuses device binding to this build */
#else
	__be16 proto;
	__u16 tci;

	return bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0 ? 1 : 0;
#endif
}

SEC("xdp.frags")
int trafstat_xdpdev(struct xdp_md *ctx)
{
	return count_xdp(ctx, stripped_vlan_tags(ctx), 0, 0, false, false);
}

SEC("xdp.frags")
int trafstat_xdpdev_keyed(struct xdp_md *ctx)
{
	return count_xdp(ctx, stripped_vlan_tags(ctx), 0, 0, true, false);
}

/*
 * One replayed frame: the live XDP path with the bytes the capture recorded.
 * A global function, so the verifier checks it once rather than in each
 * round of trafstat_replay's loop.
 */
__noinline int ts_count_replayed(struct xdp_md *ctx, __u32 wire_len, __u64 ts_ns)
{
	return count_xdp(ctx, 0, wire_len, ts_ns, true, false);
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
		/* Pointers die with every adjust: re-derive them. The mask changes
		 * nothing (i < count) but gives the verifier a bound on i. */
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
	const __u32 epoch = this_epoch();
	struct ts_stats *s = this_cpu_stats(epoch);
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
		/* Headers longer than the first pull (a 2 KB IPv6 option) ran past
		 * the linear area of a non-linear skb: they are not short. Pull all
		 * the parser can follow and parse the IP part again; only such
		 * packets pay for it. */
		if (r.l4 == TS_CLASS_MALFORMED_L4 && (__u64)skb->data_end - skb->data < skb->len) {
			bpf_skb_pull_data(skb, skb->len < TS_TC_HEADERS_MAX ? skb->len : TS_TC_HEADERS_MAX);
			__builtin_memset(&key, 0, sizeof(key));
			if (keyed)
				set_l4(&r, ts_parse_ip_tc(skb, r.l3_off, r.l3 == TS_CLASS_IPV6, table ? &key : NULL));
			else
				set_l4(&r, ts_reparse_ip_tc(skb, r.l3_off, r.l3 == TS_CLASS_IPV6));
		}
	}

	if (segs > 1) {
		/* A tunnel's super-packet repeats its inner headers in every segment. */
		__u32 hdr_len = is_ip(&r) ? ts_tunnel_hdr_len_tc(skb, r.l3_off, r.l3 == TS_CLASS_IPV6) : 0;

		bytes += (segs - 1) * (hdr_len ? hdr_len : r.hdr_len);
	}
	bytes += tags * TS_VLAN_TAG_LEN * segs;
	account(s, &r, segs, bytes);
	if (size_histogram)
		add(&s->size_hist[size_bucket(bytes / segs)], segs, bytes); /* a super-packet's segments: their mean size */
	if (table && is_ip(&r))
		account_key(s, epoch, &key, r.tcp_flags, segs, bytes, 0, &replay_mode);
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
