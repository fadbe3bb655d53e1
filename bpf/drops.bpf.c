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

/* enum skb_drop_reason: the value that is not a drop (see above) */
#define TS_SKB_CONSUMED 1

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
} __attribute__((preserve_access_index));

/* The monitored interfaces: (namespace, ifindex) → slot, written by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_DROP_MAX_IFACES);
	__type(key, struct ts_drop_iface);
	__type(value, __u32);
} drop_ifaces SEC(".maps");

/* Drops per (slot, direction, reason), TS_DROP_INDEX(); one copy per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_DROP_COUNTERS);
	__type(key, __u32);
	__type(value, struct ts_counter);
} drop_counts SEC(".maps");

static __always_inline void count_drop(__u64 netns_cookie, __u32 ifindex, __u32 direction, __u32 reason,
				       __u64 bytes)
{
	struct ts_drop_iface iface = { .netns_cookie = netns_cookie, .ifindex = ifindex };
	__u32 *slot = bpf_map_lookup_elem(&drop_ifaces, &iface);
	struct ts_counter *c;
	__u32 index;

	if (!slot || *slot >= TS_DROP_MAX_IFACES)
		return;
	index = TS_DROP_INDEX(*slot, direction, reason);
	c = bpf_map_lookup_elem(&drop_counts, &index);
	if (!c)
		return;
	/* Per-CPU value: only this CPU writes it, no atomic needed. */
	c->packets += 1;
	c->bytes += bytes;
}

/*
 * A dropped skb counts on the interface it was received on (skb_iif) and,
 * if it was leaving through another one (skb->dev), there too: a forwarded
 * packet dropped between two monitored interfaces counts on each. Both
 * ifindexes are read in skb->dev's namespace. skb->dev shares a union with
 * dev_scratch and rbnode (UDP receive queues, TCP's out-of-order and
 * retransmit queues): for such an skb it is not a device, and reads through
 * it are fault-safe loads that at worst match no monitored interface.
 */
/* Program names: 15 characters at most (the kernel keeps no more). */
SEC("tp_btf/kfree_skb")
int BPF_PROG(trafstat_drop, struct sk_buff___ts *skb, void *location, __u32 reason)
{
	struct net_device___ts *dev = skb->dev;
	__u32 bucket = reason < TS_DROP_KERNEL_REASONS ? reason : TS_DROP_REASON_UNKNOWN;
	__u64 cookie;
	__u32 iif, out;

	if (reason == TS_SKB_CONSUMED || !dev)
		return 0;
	cookie = dev->nd_net.net->net_cookie;
	iif = skb->skb_iif;
	out = dev->ifindex;
	if (iif)
		count_drop(cookie, iif, TS_DROP_RECEIVED, bucket, skb->len);
	if (out && out != iif)
		count_drop(cookie, out, TS_DROP_LEAVING, bucket, skb->len);
	return 0;
}

/*
 * An XDP program's failure on a monitored interface (drivers and generic
 * XDP): XDP_ABORTED, or an action that could not be carried out. The event
 * has no packet, so these drops count no bytes. Generic XDP then frees the
 * skb with kfree_skb too: such a packet also counts under that reason.
 */
SEC("tp_btf/xdp_exception")
int BPF_PROG(trafstat_xdpexc, const struct net_device___ts *dev, const void *prog, __u32 act)
{
	__u32 reason = act == XDP_ABORTED ? TS_DROP_REASON_XDP_ABORTED : TS_DROP_REASON_XDP_INVALID;

	if (!dev)
		return 0;
	count_drop(dev->nd_net.net->net_cookie, dev->ifindex, TS_DROP_RECEIVED, reason, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
