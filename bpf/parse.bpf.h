/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Header-cursor parsing shared by the XDP and TC entry points. Every step is
 * bounds-checked against data_end; nothing here writes to the packet.
 */
#ifndef TRAFSTAT_PARSE_BPF_H
#define TRAFSTAT_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stdbool.h>

#include <trafstat/abi.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#define ETH_P_PPP_SES_ 0x8864
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

/* IPv4 fragment bits (host order after bpf_ntohs) */
#define IP_OFFSET_MASK 0x1FFF

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif
#define IPV6_NEXTHDR_HOP 0
#define IPV6_NEXTHDR_ROUTING 43
#define IPV6_NEXTHDR_FRAGMENT 44
#define IPV6_NEXTHDR_AUTH 51
#define IPV6_NEXTHDR_DEST 60

/* Minimum header bytes that must be present for an L4 class to be trusted. */
#define TS_MIN_UDP 8
#define TS_MIN_ICMP 8
#define TS_MIN_SCTP 12
#define TS_MIN_GRE 4
#define TS_MIN_ESP 8

struct cursor {
	void *pos;
	void *end;
};

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

struct pppoe_hdr_ {
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;
	__be16 ppp_proto;
};

struct ipv6_opt_hdr_ {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_hdr_ {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | res | M */
	__be32 id;
};

/* Result of parsing one frame: what the accounting step needs. */
struct parse_result {
	__u32 l3;	  /* TS_CLASS_IPV4 .. TS_CLASS_MALFORMED */
	__u32 l4;	  /* TS_CLASS_TCP .. TS_CLASS_MALFORMED_L4, valid for IP */
	__u32 hdr_len;	  /* bytes of L2+L3+L4 headers, for GSO byte accounting; 0 if unknown */
	__u32 l3_off;	  /* where the L3 header starts */
	__u8 vlan;	  /* tagged (in data or, at TC, in skb metadata) */
	__u8 pppoe;	  /* PPPoE session frame */
	__u8 tcp_flags;	  /* TCP: the header's flags byte */
};

static __always_inline bool is_ip(const struct parse_result *r)
{
	return r->l3 == TS_CLASS_IPV4 || r->l3 == TS_CLASS_IPV6;
}

/* Advance the cursor over a header of `len` bytes; NULL if it does not fit. */
static __always_inline void *cursor_take(struct cursor *c, __u32 len)
{
	void *hdr = c->pos;

	if (hdr + len > c->end)
		return NULL;
	c->pos = hdr + len;
	return hdr;
}

/* parse_l2's answer for a frame too short for its own L2 headers: not a
 * possible ethertype (0x0000 is one, counted as other_l3). */
#define TS_L2_TRUNCATED 0x10000

/*
 * Ethernet, up to TS_MAX_VLAN_TAGS 802.1Q/802.1ad tags, PPPoE session.
 * Returns the L3 ethertype (host order) with the cursor at the L3 header,
 * TS_L2_TRUNCATED when the frame is too short for one of these headers.
 * `tags` is the number of tags already removed by the stack (TC only).
 */
static __always_inline __u32 parse_l2(struct cursor *c, struct parse_result *r, __u32 tags)
{
	struct ethhdr *eth = cursor_take(c, sizeof(*eth));
	__u16 proto;

	if (!eth)
		return TS_L2_TRUNCATED;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < TS_MAX_VLAN_TAGS; i++) {
		struct vlan_hdr_ *vh;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (tags >= TS_MAX_VLAN_TAGS)
			break; /* a tag beyond the bound: left as other_l3 */
		vh = cursor_take(c, sizeof(*vh));
		if (!vh)
			return TS_L2_TRUNCATED;
		r->vlan = 1;
		tags++;
		proto = bpf_ntohs(vh->proto);
	}

	if (proto == ETH_P_PPP_SES_) {
		struct pppoe_hdr_ *ph = cursor_take(c, sizeof(*ph));

		if (!ph)
			return TS_L2_TRUNCATED;
		r->pppoe = 1;
		switch (bpf_ntohs(ph->ppp_proto)) {
		case PPP_IPV4:
			return ETH_P_IP;
		case PPP_IPV6:
			return ETH_P_IPV6;
		default:
			return ETH_P_PPP_SES_; /* LCP, IPCP, ...: other_l3 */
		}
	}
	return proto;
}

/*
 * What parse_ip_at fills in for the keyed table: the key fields chosen at load
 * time (TS_KEY_*; none when the table is off) and the TCP flags.
 */
struct key_out {
	struct ts_flow_key *key; /* NULL: no table */
	__u32 fields;
	__u8 tcp_flags;
};

/* Ports, ICMP type/code: the first bytes of the L4 header (checked present). */
static __always_inline void key_l4(struct key_out *k, const void *l4, __u8 proto)
{
	const __u8 *b = l4;

	if (!k->key || !(k->fields & TS_KEY_PORTS))
		return;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		k->key->sport = b[0]; /* type */
		k->key->dport = b[1]; /* code */
		return;
	}
	k->key->sport = ((__u16)b[0] << 8) | b[1];
	k->key->dport = ((__u16)b[2] << 8) | b[3];
}

/* The IP part of the key: version, addresses, protocol, as asked. */
static __always_inline void key_ip(struct key_out *k, __u8 version, const void *src, const void *dst,
				   __u32 addr_len, __u8 proto)
{
	struct ts_flow_key *key = k->key;

	if (!key || !k->fields)
		return;
	key->ip_version = version;
	if (k->fields & TS_KEY_PORTS)
		key->proto = proto;
	if (!(k->fields & TS_KEY_ADDRS))
		return;
	if (addr_len == 4) {
		/* IPv4-mapped IPv6 (::ffff:a.b.c.d): one key type for both versions */
		key->src[10] = key->src[11] = 0xff;
		key->dst[10] = key->dst[11] = 0xff;
		__builtin_memcpy(&key->src[12], src, 4);
		__builtin_memcpy(&key->dst[12], dst, 4);
	} else {
		__builtin_memcpy(key->src, src, 16);
		__builtin_memcpy(key->dst, dst, 16);
	}
}

/*
 * The class of an L4 protocol whose header has a fixed minimum, and that
 * minimum (*need): what must be present for the class to be trusted. 0 for
 * TCP (its header says its length) and protocols the classes do not name.
 */
static __always_inline __u32 fixed_l4(__u8 proto, __u32 *need)
{
	switch (proto) {
	case IPPROTO_UDP:
		*need = TS_MIN_UDP;
		return TS_CLASS_UDP;
	case IPPROTO_ICMP:
		*need = TS_MIN_ICMP;
		return TS_CLASS_ICMP;
	case IPPROTO_ICMPV6:
		*need = TS_MIN_ICMP;
		return TS_CLASS_ICMPV6;
	case IPPROTO_SCTP:
		*need = TS_MIN_SCTP;
		return TS_CLASS_SCTP;
	case IPPROTO_GRE:
		*need = TS_MIN_GRE;
		return TS_CLASS_GRE;
	case IPPROTO_ESP:
		*need = TS_MIN_ESP;
		return TS_CLASS_ESP;
	default:
		return 0;
	}
}

/* L4 class of `proto` whose header starts at the cursor. */
static __always_inline __u32 classify_l4(struct cursor *c, __u8 proto, __u32 *l4_len, struct key_out *k)
{
	__u32 need;
	__u32 cls;

	if (k->key && (k->fields & TS_KEY_PORTS))
		k->key->proto = proto;

	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;
		__u32 doff;

		if ((void *)(th + 1) > c->end)
			return TS_CLASS_MALFORMED_L4;
		doff = th->doff * 4;
		if (doff < sizeof(*th) || c->pos + doff > c->end)
			return TS_CLASS_MALFORMED_L4;
		*l4_len = doff;
		key_l4(k, th, proto);
		k->tcp_flags = ((__u8 *)th)[13];
		return TS_CLASS_TCP;
	}
	cls = fixed_l4(proto, &need);
	if (!cls)
		return TS_CLASS_OTHER_L4;
	if (c->pos + need > c->end)
		return TS_CLASS_MALFORMED_L4;
	*l4_len = need;
	/* GRE and ESP have no ports: keyed by addresses and protocol only */
	if (cls != TS_CLASS_GRE && cls != TS_CLASS_ESP)
		key_l4(k, c->pos, proto);
	return cls;
}

/* IPv4: honours IHL, rejects IHL < 5, non-first fragments have no L4. */
static __always_inline __u32 parse_ipv4(struct cursor *c, __u32 *l4_len, struct key_out *k)
{
	struct iphdr *iph = c->pos;
	__u32 ihl;

	if ((void *)(iph + 1) > c->end)
		return TS_CLASS_MALFORMED_L4;
	ihl = iph->ihl;
	if (iph->version != 4 || ihl < 5)
		return TS_CLASS_MALFORMED_L4;
	key_ip(k, 4, &iph->saddr, &iph->daddr, 4, iph->protocol);
	ihl *= 4;
	if (c->pos + ihl > c->end)
		return TS_CLASS_MALFORMED_L4;
	if (bpf_ntohs(iph->frag_off) & IP_OFFSET_MASK)
		return TS_CLASS_FRAGMENT;
	c->pos += ihl;
	return classify_l4(c, iph->protocol, l4_len, k);
}

static __always_inline bool is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPV6_NEXTHDR_HOP || nexthdr == IPV6_NEXTHDR_ROUTING || nexthdr == IPV6_NEXTHDR_DEST ||
	       nexthdr == IPV6_NEXTHDR_AUTH || nexthdr == IPV6_NEXTHDR_FRAGMENT;
}

/*
 * IPv6 extension headers from the cursor: hop-by-hop, routing, fragment,
 * destination options and AH, at most TS_MAX_IPV6_EXT_HDRS of them (a longer
 * chain is other_l4), then the L4 header.
 */
static __always_inline __u32 parse_ipv6_chain(struct cursor *c, __u8 nexthdr, __u32 *l4_len, struct key_out *k)
{
#pragma unroll
	for (int i = 0; i < TS_MAX_IPV6_EXT_HDRS; i++) {
		struct ipv6_opt_hdr_ *oh;
		__u32 len;

		switch (nexthdr) {
		case IPV6_NEXTHDR_HOP:
		case IPV6_NEXTHDR_ROUTING:
		case IPV6_NEXTHDR_DEST:
			oh = c->pos;
			if ((void *)(oh + 1) > c->end)
				return TS_CLASS_MALFORMED_L4;
			len = ((__u32)oh->hdrlen + 1) * 8;
			break;
		case IPV6_NEXTHDR_AUTH:
			oh = c->pos;
			if ((void *)(oh + 1) > c->end)
				return TS_CLASS_MALFORMED_L4;
			len = ((__u32)oh->hdrlen + 2) * 4; /* AH counts 32-bit words */
			break;
		case IPV6_NEXTHDR_FRAGMENT: {
			struct ipv6_frag_hdr_ *fh = c->pos;

			if ((void *)(fh + 1) > c->end)
				return TS_CLASS_MALFORMED_L4;
			if (bpf_ntohs(fh->frag_off) & ~7) {
				/* offset != 0: keyed by the protocol it carries, no ports */
				if (k->key && (k->fields & TS_KEY_PORTS))
					k->key->proto = fh->nexthdr;
				return TS_CLASS_FRAGMENT;
			}
			oh = (void *)fh;
			len = sizeof(*fh);
			break;
		}
		default:
			return classify_l4(c, nexthdr, l4_len, k);
		}
		if (c->pos + len > c->end)
			return TS_CLASS_MALFORMED_L4;
		nexthdr = oh->nexthdr;
		c->pos += len;
	}
	/* Still an extension header after the bound: chain too long to follow. */
	switch (nexthdr) {
	case IPV6_NEXTHDR_HOP:
	case IPV6_NEXTHDR_ROUTING:
	case IPV6_NEXTHDR_DEST:
	case IPV6_NEXTHDR_AUTH:
	case IPV6_NEXTHDR_FRAGMENT:
		if (k->key && (k->fields & TS_KEY_PORTS))
			k->key->proto = nexthdr;
		return TS_CLASS_OTHER_L4;
	default:
		return classify_l4(c, nexthdr, l4_len, k);
	}
}

/*
 * An IPv6 extension-header chain that parse_ip_at left to its caller, to
 * walk out of line with parse_ipv6_chain_at.
 */
struct ipv6_chain {
	__u32 off;	/* where it starts, from the frame's start */
	__u8 nexthdr;	/* its first header */
	bool left;	/* false: there was none to leave */
};

/* The IPv6 fixed header: its next header and the key's addresses; false when unreadable. */
static __always_inline bool parse_ipv6_fixed(struct cursor *c, struct key_out *k, __u8 *nexthdr)
{
	struct ipv6hdr *ip6 = cursor_take(c, sizeof(*ip6));

	if (!ip6 || ip6->version != 6)
		return false;
	*nexthdr = ip6->nexthdr;
	key_ip(k, 6, &ip6->saddr, &ip6->daddr, 16, *nexthdr);
	return true;
}

/* IPv6: the fixed header, then the chain. */
static __always_inline __u32 parse_ipv6(struct cursor *c, __u32 *l4_len, struct key_out *k)
{
	__u8 nexthdr;

	if (!parse_ipv6_fixed(c, k, &nexthdr))
		return TS_CLASS_MALFORMED_L4;
	return parse_ipv6_chain(c, nexthdr, l4_len, k);
}

/*
 * parse_ip_at's answer: the L4 class in bits 0-7, the TCP flags in bits 8-15
 * and, when the L4 header is known (l4_len > 0, the cursor at its start),
 * the offset of its end (the L2-L4 header length) in bits 16-31.
 */
static __always_inline __u32 pack_l4(void *data, const struct cursor *c, __u32 l4, __u32 l4_len, __u8 tcp_flags)
{
	__u64 hdr_len;

	l4 |= (__u32)tcp_flags << 8;
	if (!l4_len)
		return l4;
	hdr_len = c->pos - data;
	/* Keep clang from folding this into scalar-minus-pointer arithmetic,
	 * which the verifier rejects. */
	asm volatile("" : "+r"(hdr_len));
	return l4 | ((__u32)(hdr_len + l4_len) << 16);
}

/* Largest L3 offset parse_l2 can produce: Ethernet + 2 tags + PPPoE. */
#define TS_MAX_L3_OFF (sizeof(struct ethhdr) + TS_MAX_VLAN_TAGS * sizeof(struct vlan_hdr_) + \
		       sizeof(struct pppoe_hdr_))
/* Largest offset an IPv6 extension chain is followed from: past the L2
 * headers and an IPv6 header, or an inner IPv6 header inside a tunnel (outer
 * IPv4 with options, a Geneve header with options, an inner Ethernet frame). */
#define TS_MAX_IPV6_CHAIN_OFF 512

/*
 * L3/L4 of an IP packet whose header starts at the cursor, packed as pack_l4
 * says. With a key, fills the fields `fields` asks for (TS_KEY_*); the key's
 * ip_version stays 0 when the IP header is unreadable.
 *
 * With `chain`, an IPv6 extension-header chain is not walked here but left
 * in *chain (chain->left); parse_ipv6_chain_at's answer then replaces this
 * one.
 */
static __always_inline __u32 parse_ip_at(void *data, struct cursor c, bool is_v6,
					 struct ts_flow_key *key, __u32 fields, struct ipv6_chain *chain)
{
	struct key_out k = { .key = key, .fields = key ? fields : 0 };
	__u32 l4_len = 0;
	__u32 l4;

	if (chain)
		chain->left = false;
	if (is_v6 && chain) {
		__u8 nexthdr;

		if (!parse_ipv6_fixed(&c, &k, &nexthdr))
			return TS_CLASS_MALFORMED_L4;
		if (is_ipv6_ext(nexthdr)) {
			__u64 off = c.pos - data;

			/* a scalar now: keep clang from folding it back into pointers */
			asm volatile("" : "+r"(off));
			chain->left = true;
			chain->off = off;
			chain->nexthdr = nexthdr;
			return 0;
		}
		l4 = classify_l4(&c, nexthdr, &l4_len, &k);
	} else {
		l4 = is_v6 ? parse_ipv6(&c, &l4_len, &k) : parse_ipv4(&c, &l4_len, &k);
	}
	return pack_l4(data, &c, l4, l4_len, k.tcp_flags);
}

/* parse_ip_at for an IP header at data + l3_off (r->l3_off), chain and all. */
static __always_inline __u32 parse_ip(void *data, void *data_end, __u32 l3_off, bool is_v6,
				      struct ts_flow_key *key, __u32 fields)
{
	struct cursor c = { .pos = data, .end = data_end };

	if (l3_off > TS_MAX_L3_OFF)
		return TS_CLASS_MALFORMED_L4;
	c.pos += l3_off;
	return parse_ip_at(data, c, is_v6, key, fields, NULL);
}

/*
 * An IPv6 extension-header chain at data + off, as parse_ip_at left it,
 * walked to its L4 header; the answer packed as parse_ip_at's.
 */
static __always_inline __u32 parse_ipv6_chain_at(void *data, void *data_end, __u32 off, __u8 nexthdr,
						 struct ts_flow_key *key, __u32 fields)
{
	struct cursor c = { .pos = data, .end = data_end };
	struct key_out k = { .key = key, .fields = key ? fields : 0 };
	__u32 l4_len = 0;
	__u32 l4;

	if (off > TS_MAX_IPV6_CHAIN_OFF)
		return TS_CLASS_MALFORMED_L4;
	c.pos += off;
	l4 = parse_ipv6_chain(&c, nexthdr, &l4_len, &k);
	return pack_l4(data, &c, l4, l4_len, k.tcp_flags);
}

/*
 * Ethernet/VLAN/PPPoE, L3 class; r->l3_off is where the IP header starts,
 * *l3 a cursor there.
 */
static __always_inline void parse_frame_l2(void *data, void *data_end, __u32 tags,
					   struct parse_result *r, struct cursor *l3)
{
	struct cursor c = { .pos = data, .end = data_end };
	__u32 proto;

	r->vlan = tags > 0;
	proto = parse_l2(&c, r, tags);
	r->l3_off = (__u32)(c.pos - data);
	switch (proto) {
	case TS_L2_TRUNCATED:
		r->l3 = TS_CLASS_MALFORMED;
		break;
	case ETH_P_IP:
		r->l3 = TS_CLASS_IPV4;
		break;
	case ETH_P_IPV6:
		r->l3 = TS_CLASS_IPV6;
		break;
	case ETH_P_ARP:
		r->l3 = TS_CLASS_ARP;
		break;
	default:
		r->l3 = TS_CLASS_OTHER_L3;
		break;
	}
	*l3 = c;
}

/* Fills the L4 part of r from parse_ip_at's packed answer. */
static __always_inline void set_l4(struct parse_result *r, __u32 packed)
{
	r->l4 = packed & 0xff;
	r->tcp_flags = (packed >> 8) & 0xff;
	r->hdr_len = packed >> 16;
}

#endif /* TRAFSTAT_PARSE_BPF_H */
