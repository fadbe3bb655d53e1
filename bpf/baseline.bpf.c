// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reference programs, not part of counting: a bare XDP_PASS (a stand-in for
 * "someone else's XDP program" in tests), a bare XDP_DROP and a bare TC
 * program (the floors for benchmarks).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int baseline_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int baseline_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int baseline_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
