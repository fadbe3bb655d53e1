// `trafstat gen`'s frames (src/gen/frame.cpp) and report (src/output/gen_summary.cpp):
// every template's lengths and checksums, checked here by an independent
// implementation, and the per-flow recipe the BPF program follows
// (apply_flow) against templates built from scratch for the same flow.
#include "gen/frame.hpp"
#include "output/gen_summary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace trafstat::gen {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint32_t be16(const Bytes& f, std::size_t off)
{
    return std::uint32_t{f[off]} << 8 | f[off + 1];
}
std::uint32_t be32(const Bytes& f, std::size_t off)
{
    return be16(f, off) << 16 | be16(f, off + 2);
}

// An independent RFC 1071 sum: true when the bytes (checksum field included)
// plus `pseudo` add up to 0xffff, i.e. the checksum verifies.
bool verifies(const Bytes& f, std::size_t from, std::size_t to, std::uint64_t pseudo = 0)
{
    std::uint64_t sum = pseudo;
    for (std::size_t i = from; i < to; i += 2)
        sum += (std::uint64_t{f[i]} << 8) | (i + 1 < to ? f[i + 1] : 0);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

std::uint64_t words(const Bytes& f, std::size_t off, std::size_t n)
{
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < n; i += 2)
        sum += be16(f, off + i);
    return sum;
}

struct Layout {
    bool v6;
    std::size_t l4;
    std::uint8_t proto;
};

Layout layout(Proto p)
{
    const bool v6 = is_ipv6(p);
    const std::uint8_t proto = (p == Proto::udp4 || p == Proto::udp6)   ? 17
                               : (p == Proto::tcp4 || p == Proto::tcp6) ? 6
                               : v6                                     ? 58
                                                                        : 1;
    return {v6, v6 ? 54u : 34u, proto};
}

// Checks a whole frame of `p`: lengths, protocol numbers, every checksum.
void check_frame(Proto p, const Bytes& f, std::size_t size)
{
    SCOPED_TRACE(std::string{proto_name(p)} + " " + std::to_string(size));
    ASSERT_EQ(f.size(), size);
    const Layout l = layout(p);
    EXPECT_EQ(be16(f, 12), l.v6 ? 0x86ddu : 0x0800u);
    const std::size_t l4len = size - l.l4;
    std::uint64_t pseudo = 0;
    if (l.v6) {
        EXPECT_EQ(f[14] >> 4, 6);
        EXPECT_EQ(be16(f, 18), l4len);  // payload length
        EXPECT_EQ(f[20], l.proto);
        EXPECT_EQ(f[21], 64);
        pseudo = words(f, 22, 32) + l4len + l.proto;
    } else {
        EXPECT_EQ(f[14], 0x45);
        EXPECT_EQ(be16(f, 16), size - 14);  // total length
        EXPECT_EQ(f[22], 64);
        EXPECT_EQ(f[23], l.proto);
        EXPECT_TRUE(verifies(f, 14, 34)) << "IPv4 header checksum";
        pseudo = words(f, 26, 8) + l4len + l.proto;
    }
    switch (p) {
    case Proto::udp4:
    case Proto::udp6:
        EXPECT_EQ(be16(f, l.l4 + 4), l4len) << "UDP length";
        EXPECT_NE(be16(f, l.l4 + 6), 0u) << "UDP checksum 0 means none";
        EXPECT_TRUE(verifies(f, l.l4, size, pseudo)) << "UDP checksum";
        break;
    case Proto::tcp4:
    case Proto::tcp6:
        EXPECT_EQ(f[l.l4 + 12] >> 4, 5) << "TCP data offset";
        EXPECT_TRUE(verifies(f, l.l4, size, pseudo)) << "TCP checksum";
        break;
    case Proto::icmp4:
        EXPECT_EQ(f[l.l4], 8) << "echo request";
        EXPECT_TRUE(verifies(f, l.l4, size)) << "ICMP checksum (no pseudo header)";
        break;
    case Proto::icmp6:
        EXPECT_EQ(f[l.l4], 128) << "echo request";
        EXPECT_TRUE(verifies(f, l.l4, size, pseudo)) << "ICMPv6 checksum";
        break;
    }
    for (std::size_t i = header_len(p); i < size; ++i)
        ASSERT_EQ(f[i], 0) << "payload byte " << i;
}

Addresses test_addresses()
{
    Addresses a;
    a.src_mac = {0x02, 0, 0, 0, 0x0a, 0x01};
    a.dst_mac = {0x02, 0, 0, 0, 0x0b, 0x01};
    return a;
}

TEST(GenFrame, HeaderLengths)
{
    EXPECT_EQ(header_len(Proto::udp4), 42u);
    EXPECT_EQ(header_len(Proto::tcp4), 54u);
    EXPECT_EQ(header_len(Proto::icmp4), 42u);
    EXPECT_EQ(header_len(Proto::udp6), 62u);
    EXPECT_EQ(header_len(Proto::tcp6), 74u);
    EXPECT_EQ(header_len(Proto::icmp6), 62u);
    for (Proto p : kAllProtos)
        EXPECT_LE(header_len(p), std::size_t{TS_GEN_HDR_MAX});
    const std::vector<Proto> v4 = {Proto::udp4, Proto::icmp4};
    const std::vector<Proto> mix = {Proto::udp4, Proto::tcp6, Proto::icmp4};
    EXPECT_EQ(min_frame_size(v4), 60u);
    EXPECT_EQ(min_frame_size(mix), 74u);
    EXPECT_EQ(min_frame_size(std::vector<Proto>{Proto::icmp6}), 62u);
}

TEST(GenFrame, ProtoNames)
{
    for (Proto p : kAllProtos)
        EXPECT_EQ(proto_from_name(proto_name(p)), p);
    EXPECT_EQ(proto_from_name("udp"), std::nullopt);
    EXPECT_EQ(proto_from_name("UDP4"), std::nullopt);
    EXPECT_EQ(proto_from_name(""), std::nullopt);
}

TEST(GenFrame, EveryTemplateHasCorrectLengthsAndChecksums)
{
    const Addresses a = test_addresses();
    for (Proto p : kAllProtos) {
        for (std::size_t size : {std::max<std::size_t>(60, header_len(p)), std::size_t{61}, std::size_t{64},
                                 std::size_t{75}, std::size_t{128}, std::size_t{1514}, kMaxFrame}) {
            if (size < header_len(p))
                continue;
            const Template t = build_template(p, a, size);
            check_frame(p, t.frame, size);
            EXPECT_EQ(t.proto, p);
            // Addresses where they belong.
            EXPECT_TRUE(std::equal(a.dst_mac.begin(), a.dst_mac.end(), t.frame.begin()));
            EXPECT_TRUE(std::equal(a.src_mac.begin(), a.src_mac.end(), t.frame.begin() + 6));
            // The ABI copy: the frame's first bytes, zero beyond the frame.
            for (std::size_t i = 0; i < TS_GEN_HDR_MAX; ++i)
                ASSERT_EQ(t.abi.hdr[i], i < size ? t.frame[i] : 0) << i;
            EXPECT_EQ(t.abi.saddr0, be32(t.frame, t.abi.saddr_off));
            EXPECT_EQ(t.abi.sport0, be16(t.frame, t.abi.sport_off));
            EXPECT_EQ(t.abi.sport0, a.src_port);
        }
    }
}

TEST(GenFrame, FieldOffsets)
{
    const Addresses a = test_addresses();
    const Template u4 = build_template(Proto::udp4, a, 64);
    EXPECT_EQ(u4.abi.saddr_off, 26);
    EXPECT_EQ(u4.abi.ip_csum_off, 24);
    EXPECT_EQ(u4.abi.sport_off, 34);
    EXPECT_EQ(u4.abi.l4_csum_off, 40);
    EXPECT_EQ(u4.abi.udp, 1);
    EXPECT_EQ(u4.abi.l4_pseudo, 1);
    EXPECT_EQ(be16(u4.frame, 36), a.dst_port);
    const Template t6 = build_template(Proto::tcp6, a, 128);
    EXPECT_EQ(t6.abi.saddr_off, 34);  // the last 32 bits of the source address
    EXPECT_EQ(t6.abi.ip_csum_off, 0);
    EXPECT_EQ(t6.abi.sport_off, 54);
    EXPECT_EQ(t6.abi.l4_csum_off, 70);
    EXPECT_EQ(t6.abi.udp, 0);
    const Template i4 = build_template(Proto::icmp4, a, 64);
    EXPECT_EQ(i4.abi.sport_off, 38);  // echo identifier
    EXPECT_EQ(i4.abi.l4_csum_off, 36);
    EXPECT_EQ(i4.abi.l4_pseudo, 0);
    const Template i6 = build_template(Proto::icmp6, a, 64);
    EXPECT_EQ(i6.abi.l4_pseudo, 1);
}

TEST(GenFrame, SizeBounds)
{
    const Addresses a = test_addresses();
    EXPECT_THROW(build_template(Proto::udp4, a, 59), std::invalid_argument);
    EXPECT_THROW(build_template(Proto::tcp6, a, 73), std::invalid_argument);
    EXPECT_THROW(build_template(Proto::udp6, a, 61), std::invalid_argument);
    EXPECT_THROW(build_template(Proto::udp4, a, kMaxFrame + 1), std::invalid_argument);
    EXPECT_NO_THROW(build_template(Proto::udp4, a, 60));
    EXPECT_NO_THROW(build_template(Proto::tcp6, a, 74));
}

TEST(GenFrame, RewriteLenIsTheLongestHeader)
{
    const Addresses a = test_addresses();
    std::vector<Template> ts = {build_template(Proto::udp4, a, 100), build_template(Proto::icmp4, a, 100)};
    EXPECT_EQ(rewrite_len(ts), 42u);
    ts.push_back(build_template(Proto::tcp6, a, 100));
    EXPECT_EQ(rewrite_len(ts), 74u);
}

// apply_flow() on a frame must give what a template built from scratch for
// that flow's address and port holds (checksum fields may differ only in the
// representation of zero), whatever the frame held before.
TEST(GenFrame, ApplyFlowMatchesATemplateBuiltForTheFlow)
{
    const Addresses base = test_addresses();
    const std::vector<std::uint32_t> flows = {0,     1,     2,     255,   256,    1000,         65535,
                                              65536, 64511, 64512, 64513, 131071, kMaxFlows - 1};
    for (std::size_t size : {std::size_t{74}, std::size_t{128}, std::size_t{1514}}) {
        std::vector<Template> ts;
        for (Proto p : kAllProtos)
            ts.push_back(build_template(p, base, size));
        const std::size_t len = rewrite_len(ts);
        Bytes frame(size, 0);
        for (std::uint32_t flow : flows) {
            for (const Template& t : ts) {
                SCOPED_TRACE(std::string{proto_name(t.proto)} + " flow " + std::to_string(flow) + " size " +
                             std::to_string(size));
                // `frame` still holds the previous protocol's frame: a recycled live frame.
                apply_flow(t, len, flow, frame);
                check_frame(t.proto, frame, size);

                Addresses a = base;
                const std::uint32_t saddr = t.abi.saddr0 + flow;
                auto* last4 = is_ipv6(t.proto) ? a.src6.data() + 12 : a.src4.data();
                last4[0] = static_cast<std::uint8_t>(saddr >> 24);
                last4[1] = static_cast<std::uint8_t>(saddr >> 16);
                last4[2] = static_cast<std::uint8_t>(saddr >> 8);
                last4[3] = static_cast<std::uint8_t>(saddr);
                a.src_port = static_cast<std::uint16_t>(base.src_port + flow % TS_GEN_PORT_SPAN);
                const Template want = build_template(t.proto, a, size);
                EXPECT_EQ(be32(frame, t.abi.saddr_off), saddr);
                EXPECT_EQ(be16(frame, t.abi.sport_off), a.src_port);
                for (std::size_t i = 0; i < size; ++i) {
                    const bool csum = (t.abi.ip_csum_off && (i == t.abi.ip_csum_off || i == t.abi.ip_csum_off + 1u)) ||
                                      i == t.abi.l4_csum_off || i == t.abi.l4_csum_off + 1u;
                    if (!csum)
                        ASSERT_EQ(frame[i], want.frame[i]) << "byte " << i;
                }
            }
        }
    }
}

TEST(GenFrame, EveryFlowOfARangeVerifies)
{
    // Many flows, so that every checksum path (carries, the UDP zero) is taken.
    const Addresses base = test_addresses();
    for (Proto p : kAllProtos) {
        const Template t = build_template(p, base, 90);
        Bytes frame = t.frame;  // live frames start as the template; the payload is never written
        for (std::uint32_t flow = 0; flow < 140000; flow += 7) {
            apply_flow(t, header_len(p), flow, frame);
            const Layout l = layout(p);
            const std::size_t l4len = 90 - l.l4;
            const std::uint64_t pseudo = (l.v6 ? words(frame, 22, 32) : words(frame, 26, 8)) + l4len + l.proto;
            ASSERT_TRUE(verifies(frame, l.l4, 90, p == Proto::icmp4 ? 0 : pseudo)) << proto_name(p) << " " << flow;
            if (!l.v6)
                ASSERT_TRUE(verifies(frame, 14, 34)) << flow;
        }
    }
}

TEST(GenFrame, UdpChecksumZeroIsSentAsAllOnes)
{
    // Find the source port whose UDP checksum computes to zero, then check
    // both the template and the per-flow update send 0xffff instead.
    Addresses a = test_addresses();
    bool found = false;
    for (std::uint32_t port = 1; port < 65536 && !found; ++port) {
        a.src_port = static_cast<std::uint16_t>(port);
        const Template t = build_template(Proto::udp4, a, 64);
        if (be16(t.frame, 40) != 0xffff)
            continue;
        Bytes f = t.frame;
        f[40] = f[41] = 0;  // is 0xffff there because the true sum is zero?
        if (!verifies(f, 34, 64, words(f, 26, 8) + 30 + 17))
            continue;
        found = true;
        Bytes g(64, 0);
        apply_flow(t, 42, 0, g);
        EXPECT_EQ(be16(g, 40), 0xffffu);
        // The flow one port lower, then back: the update lands on zero and must say 0xffff.
        Addresses b = a;
        b.src_port = static_cast<std::uint16_t>(port - 1);
        b.src4[3] = static_cast<std::uint8_t>(b.src4[3] - 1);
        const Template before = build_template(Proto::udp4, b, 64);
        apply_flow(before, 42, 1, g);
        EXPECT_EQ(be16(g, 40), 0xffffu);
        EXPECT_EQ(be16(g, 34), port);
    }
    EXPECT_TRUE(found);
}

TEST(GenFrame, Macs)
{
    EXPECT_EQ(parse_mac("02:00:00:00:0a:01"), (Mac{2, 0, 0, 0, 0x0a, 1}));
    EXPECT_EQ(parse_mac("FF-ff-FF-ff-FF-ff"), kBroadcast);
    EXPECT_EQ(parse_mac("02:00:00:00:0a"), std::nullopt);
    EXPECT_EQ(parse_mac("02:00:00:00:0a:0g"), std::nullopt);
    EXPECT_EQ(parse_mac("02:00-00:00:0a:01"), std::nullopt);
    EXPECT_EQ(parse_mac("02:00:00:00:0a:011"), std::nullopt);
    EXPECT_EQ(format_mac({2, 0, 0, 0, 0x0a, 1}), "02:00:00:00:0a:01");
}

TEST(GenFrame, IpAddresses)
{
    const auto v4 = parse_ip("10.1.2.3");
    ASSERT_TRUE(v4 && v4->v4);
    EXPECT_FALSE(v4->v6);
    EXPECT_EQ(format_ip4(*v4->v4), "10.1.2.3");
    const auto v6 = parse_ip("fd00::1");
    ASSERT_TRUE(v6 && v6->v6);
    EXPECT_EQ(format_ip6(*v6->v6), "fd00::1");
    EXPECT_EQ(parse_ip("10.1.2"), std::nullopt);
    EXPECT_EQ(parse_ip("nonsense"), std::nullopt);
    const Addresses d;
    EXPECT_EQ(format_ip4(d.src4), "198.18.0.1");
    EXPECT_EQ(format_ip4(d.dst4), "198.19.0.1");
    EXPECT_EQ(format_ip6(d.src6), "2001:db8:1::1");
    EXPECT_EQ(format_ip6(d.dst6), "2001:db8:2::1");
}

TEST(GenReport, Rates)
{
    EXPECT_DOUBLE_EQ(mpps(2'000'000, 2.0), 1.0);
    EXPECT_DOUBLE_EQ(gbps(125'000'000, 1.0), 1.0);
    // 1 000 000 frames of 64 bytes a second: 0.512 Gbps of frames, (64 + 24) * 8 = 0.704 on the wire.
    EXPECT_DOUBLE_EQ(gbps(64'000'000, 1.0), 0.512);
    EXPECT_DOUBLE_EQ(wire_gbps(1'000'000, 64'000'000, 1.0), 0.704);
    EXPECT_DOUBLE_EQ(mpps(5, 0), 0.0);
}

TEST(GenReport, Json)
{
    Summary s;
    s.ifname = "va0";
    s.frame_size = 64;
    s.threads = 2;
    s.flows = 10;
    s.packets = 1'000'000;
    s.bytes = 64'000'000;
    s.duration_s = 0.5;
    s.protos = {{"udp4", 500'000, 32'000'000}, {"tcp6", 500'000, 32'000'000}};
    const auto j = summary_json(s);
    EXPECT_EQ(j["type"], "gen");
    EXPECT_EQ(j["interface"], "va0");
    EXPECT_EQ(j["action"], "tx");
    EXPECT_EQ(j["packets"], 1'000'000u);
    EXPECT_EQ(j["bytes"], 64'000'000u);
    EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(j["mpps"].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(j["gbps"].get<double>(), 1.024);
    EXPECT_DOUBLE_EQ(j["wire_gbps"].get<double>(), 1.408);
    EXPECT_EQ(j["protos"]["tcp6"]["packets"], 500'000u);
    EXPECT_EQ(j["interrupted"], false);
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items())
        keys.push_back(k);
    EXPECT_EQ(keys.front(), "type");
    s.inject = true;
    EXPECT_EQ(summary_json(s)["action"], "pass");
}

TEST(GenReport, TextNamesTheWireRate)
{
    Summary s;
    s.ifname = "va0";
    s.frame_size = 64;
    s.threads = 1;
    s.flows = 1;
    s.packets = 10;
    s.bytes = 640;
    s.duration_s = 1;
    s.protos = {{"udp4", 10, 640}};
    const std::string text = summary_text(s);
    EXPECT_NE(text.find("sent 10 frames of 64 bytes"), std::string::npos) << text;
    EXPECT_NE(text.find("Gbps on the wire"), std::string::npos) << text;
    EXPECT_NE(text.find("preamble"), std::string::npos) << text;
    EXPECT_NE(text.find("XDP_TX"), std::string::npos) << text;
}

}  // namespace
}  // namespace trafstat::gen
