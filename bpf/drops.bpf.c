// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trafstat's drop counter (issue 13): what the kernel drops on the monitored
 * interfaces, by reason, and XDP's own failures there.
 *
 * Which frees the tracepoints see (net/core/skbuff.c, Linux 6.2+):
 * kfree_skb_reason(), sk_skb_reason_drop() and the kfree_skb_list/irq/any
 * variants end in __sk_skb_reason_drop(), which fires skb:consume_skb for
 * SKB_CONSUMED (a packet used up normally) and skb:kfree_skb for any other
 * reason. consume_skb(), napi_consume_skb() and __kfree_skb() never fire
 * kfree_skb. So every kfree_skb event is a drop and nothing else: the
 * program attaches to kfree_skb alone, and a packet that is not dropped
 * costs nothing. (Before 6.2, kfree_skb_reason(skb, SKB_CONSUMED) fired
 * kfree_skb; the program skips SKB_CONSUMED in case.)
 *
 * No vmlinux.h: the few kernel fields read are local types with the
 * kernel's layout taken at load time (CO-RE), as counter.bpf.c does.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include <trafstat/abi.h>

#include "parse.bpf.h"

/* enum skb_drop_reason's value that is not a drop (see above), from the
 * kernel's BTF (CO-RE): SKB_CONSUMED is 1 since Linux 6.2; before, 1 is
 * SKB_DROP_REASON_NOT_SPECIFIED, a drop (Debian 12's 6.1). */
enum skb_drop_reason___ts { SKB_CONSUMED = 1 };
/* sk_buff's header offsets: (u16)~0 when unset */
#define TS_HEADER_UNSET 0xffff

struct net___ts {
	__u64 net_cookie;
} __attribute__((preserve_access_index));

struct net_device___ts {
	int ifindex;
	struct {
		struct net___ts *net;
	} nd_net;
} __attribute__((preserve_access_index));

struct sk_buff___ts {
	struct net_device___ts *dev;
	int skb_iif;
	unsigned int len;
	__be16 protocol;
	__u16 mac_header;
	__u16 network_header;
	unsigned int tail; /* an offset from head on 64-bit kernels */
	unsigned char *head;
	unsigned char *data;
} __attribute__((preserve_access_index));

/* Set at load time by userspace: the monitored interfaces, the flow table's capacity per parity. */
const volatile __u32 drop_slots = 1;
const volatile __u32 drop_flow_capacity = 1;

/* The drop counter's epoch (abi.h): its parity is the half a drop counts in. */
__u32 drop_epoch = 0;
/* Entries of drop_flows per parity, and what they had no room for (abi.h). */
__u32 drop_flows_used[TS_DROP_HALVES] = {};
struct ts_counter drop_flow_overflow[TS_DROP_HALVES][TS_DROP_MAX_IFACES][TS_DROP_DIRECTIONS] = {};

/* The monitored interfaces: (namespace, ifindex) → slot, written by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_DROP_MAX_IFACES);
	__type(key, struct ts_drop_iface);
	__type(value, __u32);
} drop_ifaces SEC(".maps");

/* Drops per (parity, slot, direction, reason, class), TS_DROP_INDEX(); sized
 * by userspace for the monitored interfaces, read through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_counter);
} drop_counts SEC(".maps");

/* Drops per (parity, slot, direction, reason, 5-tuple); max_entries set by
 * userspace: both parities' capacity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ts_drop_flow_key);
	__type(value, struct ts_counter);
} drop_flows SEC(".maps");

/* A dropped packet as the counter would see it: class, 5-tuple, frame bytes. */
struct dropped {
	__u32 cls;
	__u64 bytes;
	struct ts_flow_key flow;
};

/* Reads `len` bytes at `off` of the frame into `to`; false past the end of
 * the linear data (`end`, an offset from head). */
static __always_inline bool read_at(void *to, __u32 len, const unsigned char *head, __u32 off, __u32 end)
{
	return off + len <= end && bpf_probe_read_kernel(to, len, head + off) == 0;
}

/* L4 class of `proto` whose header is at `off`, as classify_l4 (parse.bpf.h). */
static __always_inline __u32 dropped_l4(struct key_out *k, const unsigned char *head, __u32 off, __u32 end,
					__u8 proto)
{
	__u8 l4[20];
	__u32 need, cls;

	k->key->proto = proto;
	if (proto == IPPROTO_TCP) {
		if (!read_at(l4, 20, head, off, end))
			return TS_CLASS_MALFORMED_L4;
		need = (l4[12] >> 4) * 4;
		if (need < 20 || off + need > end)
			return TS_CLASS_MALFORMED_L4;
		key_l4(k, l4, proto);
		return TS_CLASS_TCP;
	}
	cls = fixed_l4(proto, &need);
	if (!cls)
		return TS_CLASS_OTHER_L4;
	if (!read_at(l4, 4, head, off, end) || off + need > end)
		return TS_CLASS_MALFORMED_L4;
	if (cls != TS_CLASS_GRE && cls != TS_CLASS_ESP)
		key_l4(k, l4, proto);
	return cls;
}

/* IPv4 at `off`, as parse_ipv4. */
static __always_inline __u32 dropped_ipv4(struct key_out *k, const unsigned char *head, __u32 off, __u32 end)
{
	struct iphdr iph;
	__u32 ihl;

	if (!read_at(&iph, sizeof(iph), head, off, end) || iph.version != 4 || iph.ihl < 5)
		return TS_CLASS_MALFORMED_L4;
	key_ip(k, 4, &iph.saddr, &iph.daddr, 4, iph.protocol);
	ihl = iph.ihl * 4;
	if (off + ihl > end)
		return TS_CLASS_MALFORMED_L4;
	if (bpf_ntohs(iph.frag_off) & IP_OFFSET_MASK)
		return TS_CLASS_FRAGMENT;
	return dropped_l4(k, head, off + ihl, end, iph.protocol);
}

/* IPv6 at `off` and its extension headers, as parse_ipv6. */
static __always_inline __u32 dropped_ipv6(struct key_out *k, const unsigned char *head, __u32 off, __u32 end)
{
	struct ipv6hdr ip6;
	__u8 nexthdr;

	if (!read_at(&ip6, sizeof(ip6), head, off, end) || ip6.version != 6)
		return TS_CLASS_MALFORMED_L4;
	nexthdr = ip6.nexthdr;
	key_ip(k, 6, &ip6.saddr, &ip6.daddr, 16, nexthdr);
	off += sizeof(ip6);
	for (int i = 0; i < TS_MAX_IPV6_EXT_HDRS; i++) {
		struct ipv6_frag_hdr_ h; /* the first bytes of any extension header */

		if (!is_ipv6_ext(nexthdr))
			return dropped_l4(k, head, off, end, nexthdr);
		if (!read_at(&h, nexthdr == IPV6_NEXTHDR_FRAGMENT ? sizeof(h) : 2, head, off, end))
			return TS_CLASS_MALFORMED_L4;
		if (nexthdr == IPV6_NEXTHDR_FRAGMENT && (bpf_ntohs(h.frag_off) & ~7)) {
			k->key->proto = h.nexthdr;
			return TS_CLASS_FRAGMENT;
		}
		off += nexthdr == IPV6_NEXTHDR_FRAGMENT ? sizeof(h)
		       : nexthdr == IPV6_NEXTHDR_AUTH	? ((__u32)h.reserved + 2) * 4
							: ((__u32)h.reserved + 1) * 8;
		if (off > end)
			return TS_CLASS_MALFORMED_L4;
		nexthdr = h.nexthdr;
	}
	if (is_ipv6_ext(nexthdr)) {
		k->key->proto = nexthdr;
		return TS_CLASS_OTHER_L4;
	}
	return dropped_l4(k, head, off, end, nexthdr);
}

/*
 * The frame from its L2 header (skb->mac_header) when the skb has one, as
 * parse_frame_l2 and parse_ip do; else from its network header by
 * skb->protocol (a packet built here and dropped before its L2 header was
 * written). Headers are read from the linear data: the stack pulls a header
 * there before it looks at it.
 */
static __always_inline void parse_dropped(const struct sk_buff___ts *skb, struct dropped *d)
{
	struct key_out k = { .key = &d->flow, .fields = TS_KEY_ADDRS | TS_KEY_PORTS };
	const unsigned char *head = skb->head;
	__u32 data = skb->data - head;
	__u32 end = skb->tail;
	__u32 mac = skb->mac_header, net = skb->network_header;
	__u32 off, proto, l4;

	d->cls = TS_DROP_CLASS_UNPARSED;
	d->bytes = skb->len;
	if (mac != TS_HEADER_UNSET && mac + ETH_HLEN <= net && net != TS_HEADER_UNSET && mac <= data) {
		struct ethhdr eth;

		d->bytes += data - mac;
		off = mac;
		if (!read_at(&eth, sizeof(eth), head, off, end)) {
			d->cls = TS_DROP_CLASS_NON_IP(TS_CLASS_MALFORMED);
			return;
		}
		off += sizeof(eth);
		proto = bpf_ntohs(eth.h_proto);
		for (int i = 0; i < TS_MAX_VLAN_TAGS; i++) {
			struct vlan_hdr_ vh;

			if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
				break;
			if (!read_at(&vh, sizeof(vh), head, off, end)) {
				d->cls = TS_DROP_CLASS_NON_IP(TS_CLASS_MALFORMED);
				return;
			}
			off += sizeof(vh);
			proto = bpf_ntohs(vh.proto);
		}
		if (proto == ETH_P_PPP_SES_) {
			struct pppoe_hdr_ ph;

			if (!read_at(&ph, sizeof(ph), head, off, end)) {
				d->cls = TS_DROP_CLASS_NON_IP(TS_CLASS_MALFORMED);
				return;
			}
			off += sizeof(ph);
			proto = bpf_ntohs(ph.ppp_proto) == PPP_IPV4	  ? ETH_P_IP
				: bpf_ntohs(ph.ppp_proto) == PPP_IPV6 ? ETH_P_IPV6
								      : ETH_P_PPP_SES_;
		}
	} else if (net != TS_HEADER_UNSET && net <= data) {
		d->bytes += data - net;
		off = net;
		proto = bpf_ntohs(skb->protocol);
	} else {
		return;
	}
	switch (proto) {
	case ETH_P_IP:
		l4 = dropped_ipv4(&k, head, off, end);
		d->cls = TS_DROP_CLASS_IP(TS_IP_V4, l4);
		break;
	case ETH_P_IPV6:
		l4 = dropped_ipv6(&k, head, off, end);
		d->cls = TS_DROP_CLASS_IP(TS_IP_V6, l4);
		break;
	case ETH_P_ARP:
		d->cls = TS_DROP_CLASS_NON_IP(TS_CLASS_ARP);
		break;
	default:
		d->cls = TS_DROP_CLASS_NON_IP(TS_CLASS_OTHER_L3);
		break;
	}
}

static __always_inline void count_drop(__u32 slot, __u32 direction, __u32 reason, const struct dropped *d)
{
	__u32 parity = *(volatile __u32 *)&drop_epoch & 1;
	__u32 index = TS_DROP_INDEX(drop_slots, parity, slot, direction, reason, d->cls);
	struct ts_drop_flow_key key = {
		.parity = parity, .slot = slot, .direction = direction, .cls = d->cls, .reason = reason,
	};
	struct ts_counter *c = bpf_map_lookup_elem(&drop_counts, &index);

	if (!c)
		return;
	/* Shared by the CPUs: atomic adds. */
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, d->bytes);

	key.flow = d->flow;
	c = bpf_map_lookup_elem(&drop_flows, &key);
	if (!c) {
		const struct ts_counter zero = {};

		/* A new flow takes room of its parity, if any is left. */
		if (__sync_fetch_and_add(&drop_flows_used[parity], 1) < drop_flow_capacity) {
			if (bpf_map_update_elem(&drop_flows, &key, &zero, BPF_NOEXIST) != 0)
				__sync_fetch_and_sub(&drop_flows_used[parity], 1); /* another CPU made it */
			c = bpf_map_lookup_elem(&drop_flows, &key);
		} else {
			__sync_fetch_and_sub(&drop_flows_used[parity], 1);
		}
	}
	if (!c && slot < TS_DROP_MAX_IFACES && direction < TS_DROP_DIRECTIONS)
		c = &drop_flow_overflow[parity][slot][direction];
	if (!c)
		return;
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, d->bytes);
}

/* The slot of a monitored interface, TS_DROP_MAX_IFACES for any other. */
#define TS_NOT_MONITORED TS_DROP_MAX_IFACES
static __always_inline __u32 monitored(__u64 netns_cookie, __u32 ifindex)
{
	struct ts_drop_iface iface = { .netns_cookie = netns_cookie, .ifindex = ifindex };
	__u32 *slot = bpf_map_lookup_elem(&drop_ifaces, &iface);

	return slot && *slot < drop_slots ? *slot : TS_NOT_MONITORED;
}

/*
 * A dropped skb counts on the interface it was received on (skb_iif) and,
 * if it was leaving through another one (skb->dev), there too: a forwarded
 * packet dropped between two monitored interfaces counts on each. Both
 * ifindexes are read in skb->dev's namespace. skb->dev shares a union with
 * dev_scratch and rbnode (UDP receive queues, TCP's out-of-order and
 * retransmit queues): for such an skb it is not a device, and reads through
 * it are fault-safe loads that at worst match no monitored interface.
 * The packet is parsed only when it belongs to a monitored interface.
 */
static __always_inline int count_freed(const struct sk_buff___ts *skb, __u32 reason)
{
	struct net_device___ts *dev = skb->dev;
	__u32 in = TS_NOT_MONITORED, out = TS_NOT_MONITORED;
	struct dropped d = {};
	__u64 cookie;
	__u32 iif, oif;

	if (!dev)
		return 0;
	cookie = dev->nd_net.net->net_cookie;
	iif = skb->skb_iif;
	oif = dev->ifindex;
	if (iif)
		in = monitored(cookie, iif);
	if (oif && oif != iif)
		out = monitored(cookie, oif);
	if (in == TS_NOT_MONITORED && out == TS_NOT_MONITORED)
		return 0;
	parse_dropped(skb, &d);
	if (in != TS_NOT_MONITORED)
		count_drop(in, TS_DROP_RECEIVED, reason, &d);
	if (out != TS_NOT_MONITORED)
		count_drop(out, TS_DROP_LEAVING, reason, &d);
	return 0;
}

/* Program names: 15 characters at most (the kernel keeps no more). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(trafstat_drop, struct sk_buff___ts *skb, void *location, __u32 reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason___ts, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason___ts, SKB_CONSUMED))
		return 0;
	return count_freed(skb, reason < TS_DROP_KERNEL_REASONS ? reason : TS_DROP_REASON_UNKNOWN);
}

/* A kernel before 5.17 has no reason argument: every drop is unknown (loaded
 * instead of trafstat_drop when its BTF has no enum skb_drop_reason). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(trafstat_dropnr, struct sk_buff___ts *skb, void *location)
{
	return count_freed(skb, TS_DROP_REASON_UNKNOWN);
}

/*
 * An XDP program's failure on a monitored interface (drivers and generic
 * XDP): XDP_ABORTED, or an action that could not be carried out. The event
 * has no packet: these drops are unparsed and count no bytes. Generic XDP
 * then frees the skb with kfree_skb too: such a packet also counts under
 * that reason.
 */
SEC("tp_btf/xdp_exception")
int BPF_PROG(trafstat_xdpexc, const struct net_device___ts *dev, const void *prog, __u32 act)
{
	__u32 reason = act == XDP_ABORTED ? TS_DROP_REASON_XDP_ABORTED : TS_DROP_REASON_XDP_INVALID;
	const struct dropped d = {};
	__u32 slot;

	if (!dev)
		return 0;
	slot = monitored(dev->nd_net.net->net_cookie, dev->ifindex);
	if (slot != TS_NOT_MONITORED)
		count_drop(slot, TS_DROP_RECEIVED, reason, &d);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
