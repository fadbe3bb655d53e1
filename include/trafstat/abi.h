/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one kernel/user ABI of trafstat. Included by every BPF program (clang
 * -target bpf) and by the C++ userspace; never copy these definitions.
 *
 * Rules: fixed-width types only, largest fields first, explicit padding,
 * sizes asserted on both sides.
 */
#ifndef TRAFSTAT_ABI_H
#define TRAFSTAT_ABI_H

#include <linux/types.h>

/*
 * Counter classes: the index into ts_stats.cls.
 *
 * Reconciliation rules (tested):
 *   all  = ipv4 + ipv6 + arp + other_l3 + malformed           (one L3 class per frame)
 *   ipv4 = sum over L4 classes of the IPv4 row of ts_stats.l4_by_ip   (one L4 class per IP packet)
 *   ipv6 = same for the IPv6 row
 *   tcp + udp + ... + malformed_l4 = ipv4 + ipv6
 * `vlan` and `pppoe` are flags counted on top of the above.
 */
enum ts_class {
	TS_CLASS_ALL = 0,
	/* L3: exactly one per frame */
	TS_CLASS_IPV4,
	TS_CLASS_IPV6,
	TS_CLASS_ARP,
	TS_CLASS_OTHER_L3,
	TS_CLASS_MALFORMED, /* too short for its Ethernet/VLAN/PPPoE header */
	/* L4: exactly one per IPv4/IPv6 packet */
	TS_CLASS_TCP,
	TS_CLASS_UDP,
	TS_CLASS_ICMP,
	TS_CLASS_ICMPV6,
	TS_CLASS_SCTP,
	TS_CLASS_GRE,
	TS_CLASS_ESP,
	TS_CLASS_OTHER_L4,
	TS_CLASS_FRAGMENT,     /* non-first fragment: no L4 header */
	TS_CLASS_MALFORMED_L4, /* an IP or L4 header claims more than the packet holds */
	/* flags, on top */
	TS_CLASS_VLAN,
	TS_CLASS_PPPOE,
	TS_CLASS_MAX,
};

#define TS_L3_FIRST TS_CLASS_IPV4
#define TS_L3_LAST TS_CLASS_MALFORMED
#define TS_L4_FIRST TS_CLASS_TCP
#define TS_L4_LAST TS_CLASS_MALFORMED_L4
#define TS_L4_COUNT (TS_L4_LAST - TS_L4_FIRST + 1)

/* Rows of the per-IP-version L4 breakdown (`l4_by_ip` map). */
enum ts_ip_version {
	TS_IP_V4 = 0,
	TS_IP_V6 = 1,
	TS_IP_VERSIONS,
};

/* The keyed tables (struct ts_flow_key): the index into ts_stats.table_overflow. */
enum ts_table {
	TS_TABLE_TALKERS = 0,
	TS_TABLE_PORTS,
	TS_TABLE_FLOWS,
	TS_TABLES,
};

/* Limits of the parser, documented in docs/classes.md. */
#define TS_MAX_VLAN_TAGS 2
#define TS_MAX_IPV6_EXT_HDRS 8

/*
 * Packet-size histogram buckets, RMON etherStats style, by frame bytes:
 * <=64, 65-127, 128-255, 256-511, 512-1023, 1024-1518, 1519+.
 */
#define TS_SIZE_BUCKETS 7

/* One per-CPU counter slot. Userspace sums it over all possible CPUs. */
struct ts_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Everything one attachment counts, as the single value of a one-entry
 * per-CPU array: one map lookup per packet, then plain indexed adds on this
 * CPU's copy (no atomics needed, no sharing).
 *
 * The program writes one counter per frame: l4_by_ip[version][l4] for an IP
 * packet, cls[l3] for any other frame (arp, other_l3, malformed), plus the
 * vlan/pppoe flags; in drop mode, cls[all] alone. Userspace derives the rest
 * when it sums the CPUs: ipv4/ipv6 = their l4_by_ip row, each L4 class = its
 * column, all = cls[all] + ipv4 + ipv6 + arp + other_l3 + malformed.
 *
 * The stats map holds TS_STATS_HALVES of them per CPU, indexed by the parity
 * of the counting epoch (.bss counting_epoch) when a keyed table or the
 * histogram is on (rodata epoch_halves), else half 0 alone. Userspace closes
 * an epoch by moving to the next and waiting until no run can still count
 * into the old one: that half then holds exactly the epoch's packets, the
 * same packets as the tables' slots of that epoch, so every interval's
 * counters, histogram and tables reconcile with each other.
 */
#define TS_STATS_HALVES 2

struct ts_stats {
	struct ts_counter cls[TS_CLASS_MAX];
	/* L4 classes split by IP version, so each version reconciles on its own */
	struct ts_counter l4_by_ip[TS_IP_VERSIONS][TS_L4_COUNT];
	/* Each keyed table's own reconciliation (see enum ts_table):
	 *   sum of its entries + table_overflow[table] + table_paused[table] + table_unkeyed = ipv4 + ipv6 */
	struct ts_counter table_overflow[TS_TABLES]; /* IP packets a full table had no room for */
	struct ts_counter table_unkeyed; /* IP packets whose addresses could not be read: in no table */
	/* IP packets that came while a loaded table was switched off at run time
	 * (ts_control.tables_active, `trafstat control`) */
	struct ts_counter table_paused[TS_TABLES];
	/* Frame sizes (bytes on the wire, without FCS), RMON-style buckets */
	struct ts_counter size_hist[TS_SIZE_BUCKETS];
	/* Generic XDP only (rodata max_wire_frame): frames longer than the
	 * interface's largest wire frame, GSO/GRO super-packets, as received
	 * (one packet per frame, its bytes). A flag on top, as vlan and pppoe. */
	struct ts_counter super_packets;
};

/*
 * The keyed tables (docs/tables.md), each enabled on its own at load time
 * (rodata tables_on) with its own capacity; a table that is off costs
 * nothing per packet. All share one key type, each with the fields it is
 * keyed by and the others zero:
 *   talkers: addresses (ip_version, src, dst)        --talkers, --ip-table-size
 *   ports:   protocol and ports (ip_version, proto, sport, dport)
 *                                                    --ports, --port-table-size
 *   flows:   the 5-tuple, both of the above          --flows, --flow-table-size
 * An IP packet updates every table that is on, so each reconciles with the
 * totals on its own, and one table filling up leaves the others exact.
 */
#define TS_KEY_ADDRS (1U << 0) /* ip_version, src, dst */
#define TS_KEY_PORTS (1U << 1) /* ip_version, proto, sport, dport */
#define TS_TABLE_BIT(table) (1U << (table)) /* in rodata tables_on */
#define TS_TABLE_KEY_FIELDS(table) \
	((table) == TS_TABLE_TALKERS ? TS_KEY_ADDRS : (table) == TS_TABLE_PORTS ? TS_KEY_PORTS : TS_KEY_ADDRS | TS_KEY_PORTS)

struct ts_flow_key {
	__u8 src[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	__u8 dst[16];
	__u16 sport; /* host order. ICMP/ICMPv6: the type. No L4 header (fragment, other): 0 */
	__u16 dport; /* host order. ICMP/ICMPv6: the code */
	__u8 proto;  /* IP protocol, after the IPv6 extension headers */
	__u8 ip_version; /* 4 or 6; never 0 in a key the program inserted */
	__u8 pad[2];
} __attribute__((aligned(8))); /* hashed and compared as five __u64 */

/*
 * One slot of a keyed table (docs/tables.md): open addressing in a plain
 * array. Each table and epoch parity has a small cache per CPU, written by
 * that CPU alone (no atomics), in front of one table shared by every CPU
 * (claimed with a compare-and-swap, counted with atomic adds); userspace
 * reads a quiet parity through mmap, only the slots its bitmap marks used.
 */
struct ts_flow_entry {
	struct ts_flow_key key;
	__u64 packets;
	__u64 bytes;
	__u32 epoch;	 /* the interval it was counted in; TS_SLOT_CLAIMING; any other value: a free slot */
	__u32 tcp_flags; /* OR of the TCP flags seen (FIN..CWR); 32 bits, for an atomic OR */
} __attribute__((aligned(64))); /* one cache line: a probe touches one line, not two */

/* A shared slot being claimed: its key is not written yet (never an epoch). */
#define TS_SLOT_CLAIMING 0xffffffffU

/*
 * Replay only: a slot's first and last capture times, at the same index of
 * the table_times array (live, userspace dates entries by the interval they
 * were drained in: a clock read per packet costs more than the whole update).
 */
struct ts_flow_times {
	__u64 first_ns; /* ~0: none of its records had a time (pcapng simple packet blocks) */
	__u64 last_ns;	/* 0: the same */
};

/* Slots tried from a key's hash: in its CPU's cache (consecutive slots, as
 * the per-CPU regions before it: a cache as large as the table's keys packs
 * them as densely, in as few pages), then in the shared table (three runs of
 * TS_SHARED_RUN, each from its own start); a key that finds all of them
 * taken by others is overflow. */
#define TS_CACHE_PROBES 8
#define TS_SHARED_RUN 16
#define TS_SHARED_PROBES (3 * TS_SHARED_RUN)

/*
 * The control block of one attachment (docs/agent.md): the program's .bss,
 * one global `control`, pinned as `control` with the attachment. The program
 * reads only the first two fields, once per packet; userspace writes them
 * through the map's mapping. The rest is written by userspace alone: the
 * attachment's identity and configuration at attach, so that `status`,
 * `dump` and a restarted agent read the layout from it and never guess; and
 * the agent's merge state. `bpftool map dump pinned DIR/control` prints it
 * with its field names.
 */
#define TS_LAYOUT_VERSION 1 /* of the pinned maps (docs/agent.md); bumped on any change to them */
#define TS_IFNAME_LEN 16
#define TS_NAME_LEN 16
#define TS_CONTROL_DROP_MODE (1U << 0) /* in ts_control.flags: XDP drop mode, every packet dropped */
#define TS_CONTROL_HISTOGRAM (1U << 1) /* frame sizes counted */

struct ts_control {
	__u32 counting_epoch; /* the epoch counted now (stats halves, table slots) */
	__u32 tables_active;  /* TS_TABLE_BIT()s of the loaded tables that count now (trafstat control) */
	__u32 layout_version; /* TS_LAYOUT_VERSION; 0 in a program not pinned */
	__u32 tables_on;      /* TS_TABLE_BIT()s of the tables loaded */
	__u32 flags;          /* TS_CONTROL_* */
	__u32 ifindex;
	__u64 netns_cookie;   /* of the interface's network namespace (0: unknown) */
	__u64 attached_at_ns; /* CLOCK_REALTIME */
	char ifname[TS_IFNAME_LEN];
	char hook[TS_NAME_LEN]; /* "xdp", "tc-ingress", "tc-egress" */
	char mode[TS_NAME_LEN]; /* "native", "generic", "tcx" */
	/* Each table: the keys asked for, and where its slots lie in `tables`
	 * and `table_used` (as the rodata the program was loaded with says). */
	__u32 table_keys[TS_TABLES];
	__u32 cache_slots[TS_TABLES];
	__u32 cache_probes[TS_TABLES];
	__u32 shared_slots[TS_TABLES];
	__u32 table_first[TS_TABLES];
	__u32 used_first[TS_TABLES];
	__u32 table_cpus;
	__u32 table_entries; /* slots of `tables` */
	__u32 table_words;   /* words of `table_used` */
	/* The agent's (or dump's) merge of closed epochs into key_totals */
	__u32 agent_pid;         /* the last agent that served it (status checks it is alive) */
	__u32 last_merged_epoch; /* every epoch up to it is in key_totals */
	__u32 merge_seq;         /* odd while a merge is written: a reader retries */
	__u32 table_occupancy[TS_TABLES]; /* keys of the last epoch merged */
	__u32 keys_kept[TS_TABLES];       /* keys in key_totals */
	/* Each half of `stats` as it was when its last epoch was merged, summed
	 * over CPUs: their sum holds the same packets as key_totals, so a dump
	 * reconciles exactly. */
	struct ts_stats merged_halves[TS_STATS_HALVES];
};

/*
 * key_totals (pinned, userspace's alone; the program never touches it): the
 * totals per key since attach, of every table, merged from closed epochs by
 * the agent or `dump`. What its capacity cannot hold goes to the table's
 * `other` row (key.ip_version 0, which no counted key has), so it reconciles.
 */
struct ts_total_key {
	__u32 table; /* enum ts_table */
	__u32 pad;
	struct ts_flow_key key;
};

#define TS_TOTAL_EXPORTED (1U << 0) /* exported as its own metric series (kept across restarts) */

struct ts_total {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns; /* the drain that first saw it (CLOCK_REALTIME) */
	__u64 last_ns;
	__u32 merged_epoch; /* the last epoch merged in: a merge of an epoch is never applied twice */
	__u32 tcp_flags;
	__u32 flags; /* TS_TOTAL_* */
	__u32 pad;
};

/*
 * Replay only (rodata replay_mode): BPF_PROG_TEST_RUN puts this in the XDP
 * metadata area in front of each frame. A capture may hold fewer bytes than
 * the wire carried (snap length), so the bytes counted come from here.
 */
struct ts_replay_meta {
	__u32 wire_len; /* the frame's original length on the wire */
	__u32 pad;      /* metadata length must be a multiple of 4 */
	__u64 ts_ns;    /* capture time: the keyed table's first/last seen */
};

/*
 * Replay batches (trafstat_replay): one BPF_PROG_TEST_RUN carries several
 * frames, so the per-call cost of the syscall is shared. Layout of the data:
 *   struct ts_replay_batch, count * struct ts_replay_frame, then the frames
 *   back to back, in order.
 * Each frame is counted by the same code as live XDP, with the packet window
 * narrowed to it (bpf_xdp_adjust_head/tail).
 */
#define TS_REPLAY_MAX_BATCH 64
/* A frame must be at least an Ethernet header long to get its own window. */
#define TS_REPLAY_MIN_FRAME 14

struct ts_replay_batch {
	__u32 count; /* frames in this batch, 1..TS_REPLAY_MAX_BATCH */
	__u32 pad;
};

struct ts_replay_frame {
	__u32 len;      /* bytes of the frame in the batch (>= TS_REPLAY_MIN_FRAME) */
	__u32 wire_len; /* the frame's original length: the bytes counted */
	__u64 ts_ns;    /* capture time */
};

/*
 * Drop statistics (bpf/drops.bpf.c, issue 13, docs/drops.md): what the kernel
 * frees as a drop (tracepoint skb:kfree_skb) and XDP's own failures
 * (xdp:xdp_exception) on the monitored interfaces. Userspace gives each
 * monitored interface a slot (map drop_ifaces: namespace and ifindex → slot).
 *
 * Two views, both in two halves by the parity of the drop counter's own epoch
 * (its .bss drop_epoch), closed by userspace as the counter's tables are, so
 * that an interval's halves reconcile exactly:
 *   drop_counts: one counter per (parity, slot, direction, reason, class),
 *     TS_DROP_INDEX(), in a shared array sized for the monitored interfaces
 *     (not per CPU: drops are the rare path, and its size must not grow with
 *     the CPUs);
 *   drop_flows: a hash of (parity, slot, direction, reason, 5-tuple) with
 *     its own capacity per parity (rodata drop_flow_capacity); a drop it has
 *     no room for counts in drop_flow_overflow[parity][slot][direction].
 * Per slot and direction: sum of drop_counts = sum of drop_flows + overflow.
 *
 * Reasons: the kernel's enum skb_drop_reason value itself, below
 * TS_DROP_KERNEL_REASONS (Linux 6.18 ends at 128; the rest is headroom), then
 * trafstat's own: `unknown` (a value beyond it, a subsystem's reason such as
 * mac80211's, or a kernel without reasons) and XDP's failures.
 */
#define TS_DROP_MAX_IFACES 16
#define TS_DROP_KERNEL_REASONS 256
#define TS_DROP_REASON_UNKNOWN (TS_DROP_KERNEL_REASONS + 0)
#define TS_DROP_REASON_XDP_ABORTED (TS_DROP_KERNEL_REASONS + 1) /* the program returned XDP_ABORTED */
/* An action the driver cannot carry out: an unknown one, or a failed XDP_TX/XDP_REDIRECT */
#define TS_DROP_REASON_XDP_INVALID (TS_DROP_KERNEL_REASONS + 2)
#define TS_DROP_REASONS (TS_DROP_KERNEL_REASONS + 3)

enum ts_drop_direction {
	TS_DROP_RECEIVED = 0, /* received on the interface (skb_iif; XDP: always) */
	TS_DROP_LEAVING = 1,  /* leaving through it (skb->dev, not the interface it came in on) */
	TS_DROP_DIRECTIONS,
};

/*
 * A dropped packet's class: the counter's partition of frames (docs/classes.md),
 * an IP packet by (IP version, L4 class), any other frame by its L3 class,
 * parsed from its L2 header as the counter parses.
 */
#define TS_DROP_CLASS_UNPARSED 0 /* no packet (XDP's failures) or no header to read */
#define TS_DROP_CLASS_NON_IP(l3) ((l3) - TS_CLASS_ARP + 1) /* arp, other_l3, malformed */
#define TS_DROP_CLASS_IP(version, l4) (4 + (version) * TS_L4_COUNT + ((l4) - TS_L4_FIRST))
#define TS_DROP_CLASSES (4 + TS_IP_VERSIONS * TS_L4_COUNT)

/* A key of drop_ifaces: an ifindex means something only in its network namespace. */
struct ts_drop_iface {
	__u64 netns_cookie; /* SO_NETNS_COOKIE of the interface's namespace */
	__u32 ifindex;
	__u32 pad;
};

#define TS_DROP_HALVES 2
/* The counters of one parity and slot: directions × reasons × classes. */
#define TS_DROP_PER_SLOT (TS_DROP_DIRECTIONS * TS_DROP_REASONS * TS_DROP_CLASSES)
#define TS_DROP_INDEX(slots, parity, slot, direction, reason, cls) \
	((((parity) * (slots) + (slot)) * TS_DROP_DIRECTIONS + (direction)) * TS_DROP_REASONS * TS_DROP_CLASSES + \
	 (reason) * TS_DROP_CLASSES + (cls))

/* A key of drop_flows. The flow is the counter's 5-tuple key (ts_flow_key);
 * all zero for a frame that is not IP or could not be read. */
struct ts_drop_flow_key {
	__u8 parity;
	__u8 slot;
	__u8 direction;
	__u8 cls; /* TS_DROP_CLASS_*: the flow's packets share it */
	__u32 reason;
	struct ts_flow_key flow;
};

#ifdef __cplusplus
static_assert(sizeof(struct ts_replay_batch) == 8 && sizeof(struct ts_replay_frame) == 16, "replay ABI");
static_assert(sizeof(struct ts_replay_meta) == 16, "ts_replay_meta ABI");
static_assert(sizeof(struct ts_stats) == 16 * (TS_CLASS_MAX + TS_IP_VERSIONS * TS_L4_COUNT + 2 * TS_TABLES + 1 + TS_SIZE_BUCKETS + 1),
              "ts_stats ABI");
static_assert(sizeof(struct ts_flow_key) == 40 && sizeof(struct ts_flow_entry) == 64 && sizeof(struct ts_flow_times) == 16, "keyed table ABI");
static_assert(sizeof(struct ts_counter) == 16, "ts_counter ABI");
static_assert(sizeof(struct ts_total_key) == 48 && sizeof(struct ts_total) == 48, "key_totals ABI");
static_assert(TS_CLASS_MAX == 18, "class table changed: update names and docs");
static_assert(sizeof(struct ts_drop_iface) == 16, "drop_ifaces ABI");
static_assert(sizeof(struct ts_drop_flow_key) == 48, "drop_flows ABI");
#else
_Static_assert(sizeof(struct ts_replay_batch) == 8 && sizeof(struct ts_replay_frame) == 16, "replay ABI");
_Static_assert(sizeof(struct ts_replay_meta) == 16, "ts_replay_meta ABI");
_Static_assert(sizeof(struct ts_stats) == 16 * (TS_CLASS_MAX + TS_IP_VERSIONS * TS_L4_COUNT + 2 * TS_TABLES + 1 + TS_SIZE_BUCKETS + 1),
	       "ts_stats ABI");
_Static_assert(sizeof(struct ts_flow_key) == 40 && sizeof(struct ts_flow_entry) == 64 && sizeof(struct ts_flow_times) == 16, "keyed table ABI");
_Static_assert(sizeof(struct ts_counter) == 16, "ts_counter ABI");
_Static_assert(sizeof(struct ts_total_key) == 48 && sizeof(struct ts_total) == 48, "key_totals ABI");
_Static_assert(TS_CLASS_MAX == 18, "class table changed: update names and docs");
_Static_assert(sizeof(struct ts_drop_iface) == 16, "drop_ifaces ABI");
_Static_assert(sizeof(struct ts_drop_flow_key) == 48, "drop_flows ABI");
#endif

#endif /* TRAFSTAT_ABI_H */
