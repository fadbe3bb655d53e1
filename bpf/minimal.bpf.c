// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Benchmark reference, not part of counting: the minimal per-CPU protocol
 * counter that bptraf and the XDP packet-counter tutorial are built on. One
 * ethertype switch, one IP-protocol switch, one per-CPU array update. The
 * performance goals of trafstat are ratios against this program's cost.
 * (It has the bugs trafstat fixes: no VLAN, no IPv6 extension headers, no
 * bounds on IHL; that is what "minimal" means here.)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { MIN_OTHER, MIN_IPV4, MIN_IPV6, MIN_TCP, MIN_UDP, MIN_ICMP, MIN_SLOTS };

struct min_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MIN_SLOTS);
	__type(key, __u32);
	__type(value, struct min_counter);
} minimal_stats SEC(".maps");

static __always_inline __u32 l4_slot(__u8 proto, __u32 fallback)
{
	switch (proto) {
	case IPPROTO_TCP:
		return MIN_TCP;
	case IPPROTO_UDP:
		return MIN_UDP;
	case IPPROTO_ICMP:
	case 58: /* ICMPv6 */
		return MIN_ICMP;
	default:
		return fallback;
	}
}

SEC("xdp")
int minimal_counter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct min_counter *c;
	__u32 slot = MIN_OTHER;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	switch (bpf_ntohs(eth->h_proto)) {
	case ETH_P_IP: {
		struct iphdr *iph = (void *)(eth + 1);

		slot = MIN_IPV4;
		if ((void *)(iph + 1) <= data_end)
			slot = l4_slot(iph->protocol, MIN_IPV4);
		break;
	}
	case ETH_P_IPV6: {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		slot = MIN_IPV6;
		if ((void *)(ip6 + 1) <= data_end)
			slot = l4_slot(ip6->nexthdr, MIN_IPV6);
		break;
	}
	}
	c = bpf_map_lookup_elem(&minimal_stats, &slot);
	if (c) {
		c->packets++;
		c->bytes += data_end - data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
