// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `trafstat gen`: the packet generator's program. Never attached: userspace
 * runs it with BPF_PROG_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES),
 * where the kernel feeds it frames from a page pool and honours its verdict:
 * XDP_TX sends the frame out of the interface named in the run's context,
 * XDP_PASS injects it into the stack as if received there.
 *
 * Per frame: pick slot and flow from this CPU's sequence number → write the
 * slot's headers → patch source address, source port and checksums for the
 * flow → count → return the action. The recipe, and why every header byte is
 * written each time, is in include/trafstat/gen_abi.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <trafstat/gen_abi.h>

/* Templates and settings, set by userspace before load. Aligned so that the
 * 8-byte template reads below are aligned. */
const volatile struct ts_gen_config gen_config __attribute__((aligned(8))) = {};

/* The frame sequence and the counters: one entry, one copy per CPU. A CPU
 * runs one BPF_PROG_RUN batch at a time with softirqs off, so the plain
 * read-modify-writes below never race. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_gen_stats);
} gen_stats SEC(".maps");

/* Offsets come from the (read-only) config: masked, the verifier can bound
 * every access made through them. */
#define OFF_MASK 0x7f

/* ~(one's complement sum), from an unfolded sum of at most a few dozen
 * 16-bit words (two folds are enough). */
static __always_inline __u16 csum_finish(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline int store16(void *data, void *data_end, __u32 off, __u16 host)
{
	void *p = data + (off & OFF_MASK);

	if (p + sizeof(__u16) > data_end)
		return -1;
	*(__be16 *)p = bpf_htons(host);
	return 0;
}

static __always_inline int store32(void *data, void *data_end, __u32 off, __u32 host)
{
	void *p = data + (off & OFF_MASK);

	if (p + sizeof(__u32) > data_end)
		return -1;
	*(__be32 *)p = bpf_htonl(host);
	return 0;
}

/* The first `len` bytes of the frame from the template: whole 8-byte words,
 * then one last word ending exactly at `len` (it may overlap the previous
 * one; both write the template's bytes). len is 8 .. TS_GEN_HDR_MAX and, read
 * from rodata, a constant to the verifier. */
static __always_inline int write_headers(void *data, void *data_end, const volatile __u8 *hdr, __u64 len)
{
	void *p;

#pragma unroll
	for (int i = 0; i < TS_GEN_HDR_MAX / 8; i++) {
		if ((i + 1) * 8 > len)
			break;
		if (data + (i + 1) * 8 > data_end)
			return -1;
		*(__u64 *)(data + i * 8) = *(const volatile __u64 *)(hdr + i * 8);
	}
	if (len % 8) {
		__u64 off = len - 8;

		p = data + off;
		if (p + sizeof(__u64) > data_end)
			return -1;
		/* unaligned: fine on the architectures with efficient unaligned access */
		*(__u64 *)p = *(const volatile __u64 *)(hdr + off);
	}
	return 0;
}

SEC("xdp")
int trafstat_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const __u32 zero = 0;
	struct ts_gen_stats *st = bpf_map_lookup_elem(&gen_stats, &zero);
	const __u32 nslots = gen_config.nslots;
	const __u32 nflows = gen_config.nflows;
	const volatile struct ts_gen_template *t;

	if (!st)
		return XDP_ABORTED;
	if (nslots == 0 || nslots > TS_GEN_MAX_SLOTS || nflows == 0)
		goto abort;

	__u64 seq = st->seq++;
	__u64 slot = seq % nslots; /* 64-bit: bounded in the register used to index */
	__u32 flow = (__u32)((seq / nslots) % nflows);

	/* Always true; an opaque barrier keeps clang from dropping the mask the
	 * verifier needs to bound the index. */
	asm volatile("" : "+r"(slot));
	slot &= TS_GEN_MAX_SLOTS - 1;
	t = &gen_config.tpl[slot];

	/* parse nothing: write the headers, then vary them */
	__u64 len = gen_config.hdr_len;
	if (len < 8 || len > TS_GEN_HDR_MAX || write_headers(data, data_end, t->hdr, len))
		goto abort;

	__u32 saddr = t->saddr0 + flow;
	__u16 sport = (__u16)(t->sport0 + flow % TS_GEN_PORT_SPAN);
	__u32 addr_sum = (saddr >> 16) + (saddr & 0xffff);

	if (store32(data, data_end, t->saddr_off, saddr) || store16(data, data_end, t->sport_off, sport))
		goto abort;
	if (t->ip_csum_off && store16(data, data_end, t->ip_csum_off, csum_finish(t->ip_csum_base + addr_sum)))
		goto abort;
	__u16 l4 = csum_finish(t->l4_csum_base + sport + (t->l4_pseudo ? addr_sum : 0));
	if (t->udp && l4 == 0)
		l4 = 0xffff; /* RFC 768: 0 means "no checksum" */
	if (store16(data, data_end, t->l4_csum_off, l4))
		goto abort;

	/* account */
	st->packets[slot]++;
	st->bytes[slot] += (__u64)(data_end - data);
	return gen_config.action;

abort:
	st->aborted++;
	return XDP_DROP;
}

/* The live-frames probe: run once before sending, it shows whether the
 * kernel accepts BPF_F_TEST_XDP_LIVE_FRAMES on this interface while sending
 * nothing (every frame is dropped). */
SEC("xdp")
int trafstat_gen_probe(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
