/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Benchmark references only: the keys and values of bench/peers.bpf.c, shared
 * by the programs and trafstat-bench (which checks what they counted).
 */
#ifndef TRAFSTAT_BENCH_PEERS_H
#define TRAFSTAT_BENCH_PEERS_H

#include <linux/bpf.h>
#include <linux/types.h>

/* A 5-tuple, IPv4 as ::ffff:a.b.c.d: the same 40 bytes trafstat hashes. */
struct peer_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport; /* host order */
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* One source address (the node agent's per-IP table). */
struct peer_addr_key {
	__u8 addr[16];
};

struct peer_counts {
	__u64 packets;
	__u64 bytes;
};

/* NetObserv's shared value: its fields change only under the lock. */
struct netobserv_value {
	struct bpf_spin_lock lock;
	__u32 flags; /* OR of the TCP flags seen */
	__u64 packets;
	__u64 bytes;
};

#endif
