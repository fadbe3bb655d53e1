// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Benchmark references, not part of counting: the map designs of trafstat's
 * peers, written here from their documentation (no code of theirs), each
 * counting packets and bytes per 5-tuple so that trafstat-bench can set them
 * against trafstat's keyed tables on the same frames.
 *
 *   peer_pktstat     pktstat-bpf: an LRU per-CPU hash, looked up and updated.
 *   peer_node_agent  the per-node traffic counter agent: a per-CPU hash per
 *                    source address, plus a shared LRU hash of flows updated
 *                    with atomic adds.
 *   peer_netobserv   NetObserv's agent: a shared hash whose values are
 *                    updated under a bpf_spin_lock.
 *
 * One minimal parser for all three (Ethernet, IPv4 or IPv6, TCP/UDP ports;
 * no VLAN, no IPv6 extension headers). Every program returns XDP_PASS.
 *
 * max_entries below are placeholders: trafstat-bench sets every map's size at
 * load time (bpf_map__set_max_entries) to hold all the keys of its run without
 * eviction, so the designs are compared and not their eviction.
 */
#include <linux/bpf.h>
#include <asm-generic/errno-base.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "peers.h"

/* pktstat-bpf: per-CPU values, evicted least recently used first. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct peer_flow_key);
	__type(value, struct peer_counts);
} pktstat_flows SEC(".maps");

/* The node agent: per-CPU counts per source address ... */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct peer_addr_key);
	__type(value, struct peer_counts);
} agent_sources SEC(".maps");

/* ... and one shared value per flow, added to atomically. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct peer_flow_key);
	__type(value, struct peer_counts);
} agent_flows SEC(".maps");

/* NetObserv: one shared value per flow, its fields updated under the lock. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct peer_flow_key);
	__type(value, struct netobserv_value);
} netobserv_flows SEC(".maps");

/*
 * Fills *key from the frame; returns 0 when it holds no IPv4/IPv6 packet.
 * *tcp_flags gets the flags byte of a TCP header (0 otherwise).
 */
static __always_inline int parse_flow(void *data, void *data_end, struct peer_flow_key *key, __u8 *tcp_flags)
{
	struct ethhdr *eth = data;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return 0;
		key->src[10] = key->src[11] = key->dst[10] = key->dst[11] = 0xff;
		__builtin_memcpy(&key->src[12], &iph->saddr, 4);
		__builtin_memcpy(&key->dst[12], &iph->daddr, 4);
		key->proto = iph->protocol;
		l4 = (void *)iph + iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		__builtin_memcpy(key->src, &ip6->saddr, 16);
		__builtin_memcpy(key->dst, &ip6->daddr, 16);
		key->proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (key->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return 1;
		key->sport = bpf_ntohs(tcp->source);
		key->dport = bpf_ntohs(tcp->dest);
		*tcp_flags = ((__u8 *)tcp)[13];
	} else if (key->proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return 1;
		key->sport = bpf_ntohs(udp->source);
		key->dport = bpf_ntohs(udp->dest);
	}
	return 1;
}

SEC("xdp")
int peer_pktstat(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct peer_flow_key key = {};
	struct peer_counts *c;
	__u8 flags = 0;

	if (!parse_flow(data, data_end, &key, &flags))
		return XDP_PASS;
	c = bpf_map_lookup_elem(&pktstat_flows, &key);
	if (c) {
		/* This CPU's own copy: no atomics needed. */
		c->packets++;
		c->bytes += data_end - data;
	} else {
		struct peer_counts first = { .packets = 1, .bytes = data_end - data };

		bpf_map_update_elem(&pktstat_flows, &key, &first, BPF_ANY);
	}
	return XDP_PASS;
}

SEC("xdp")
int peer_node_agent(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct peer_flow_key key = {};
	struct peer_addr_key source;
	struct peer_counts *c, first;
	__u64 bytes = data_end - data;
	__u8 flags = 0;

	if (!parse_flow(data, data_end, &key, &flags))
		return XDP_PASS;
	first.packets = 1;
	first.bytes = bytes;

	__builtin_memcpy(source.addr, key.src, sizeof source.addr);
	c = bpf_map_lookup_elem(&agent_sources, &source);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	} else {
		bpf_map_update_elem(&agent_sources, &source, &first, BPF_NOEXIST);
	}

	c = bpf_map_lookup_elem(&agent_flows, &key);
	if (!c) {
		if (bpf_map_update_elem(&agent_flows, &key, &first, BPF_NOEXIST) != -EEXIST)
			return XDP_PASS;
		/* Another CPU inserted it in between: add to that one. */
		c = bpf_map_lookup_elem(&agent_flows, &key);
		if (!c)
			return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, bytes);
	return XDP_PASS;
}

SEC("xdp")
int peer_netobserv(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct peer_flow_key key = {};
	struct netobserv_value *v;
	__u64 bytes = data_end - data;
	__u8 flags = 0;

	if (!parse_flow(data, data_end, &key, &flags))
		return XDP_PASS;
	v = bpf_map_lookup_elem(&netobserv_flows, &key);
	if (!v) {
		struct netobserv_value first = { .flags = flags, .packets = 1, .bytes = bytes };

		if (bpf_map_update_elem(&netobserv_flows, &key, &first, BPF_NOEXIST) != -EEXIST)
			return XDP_PASS;
		/* Another CPU inserted it in between: count under its lock. */
		v = bpf_map_lookup_elem(&netobserv_flows, &key);
		if (!v)
			return XDP_PASS;
	}
	bpf_spin_lock(&v->lock);
	v->packets++;
	v->bytes += bytes;
	v->flags |= flags;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
