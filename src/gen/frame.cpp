#include "gen/frame.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <stdexcept>

namespace trafstat::gen {
namespace {

constexpr std::size_t kIp4Header = 20;
constexpr std::size_t kIp6Header = 40;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kTcpHeader = 20;
constexpr std::size_t kIcmpEchoHeader = 8;

constexpr std::uint8_t kIpProtoIcmp = 1;
constexpr std::uint8_t kIpProtoTcp = 6;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint8_t kIpProtoIcmp6 = 58;
constexpr std::uint8_t kIcmpEchoRequest = 8;
constexpr std::uint8_t kIcmp6EchoRequest = 128;
constexpr std::uint8_t kTcpFlagsPshAck = 0x18;
constexpr std::uint8_t kTtl = 64;
constexpr std::uint16_t kTcpWindow = 65535;

void put16(std::vector<std::uint8_t>& f, std::size_t off, std::uint32_t v)
{
    f[off] = static_cast<std::uint8_t>(v >> 8);
    f[off + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::span<std::uint8_t> f, std::size_t off, std::uint32_t v)
{
    f[off] = static_cast<std::uint8_t>(v >> 24);
    f[off + 1] = static_cast<std::uint8_t>(v >> 16);
    f[off + 2] = static_cast<std::uint8_t>(v >> 8);
    f[off + 3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get16(std::span<const std::uint8_t> f, std::size_t off)
{
    return std::uint32_t{f[off]} << 8 | std::uint32_t{f[off + 1]};
}

std::uint32_t get32(std::span<const std::uint8_t> f, std::size_t off)
{
    return std::uint32_t{f[off]} << 24 | std::uint32_t{f[off + 1]} << 16 | std::uint32_t{f[off + 2]} << 8 |
           std::uint32_t{f[off + 3]};
}

// The unfolded one's complement sum of big-endian 16-bit words (an odd last byte padded with zero).
std::uint32_t sum16(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0)
{
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2)
        sum += std::uint32_t{bytes[i]} << 8 | bytes[i + 1];
    if (i < bytes.size())
        sum += std::uint32_t{bytes[i]} << 8;
    return sum;
}

std::uint16_t fold_complement(std::uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// ~x as a 16-bit one's complement term.
std::uint32_t neg(std::uint32_t x)
{
    return ~x & 0xffff;
}

template <std::size_t N>
void put_bytes(std::vector<std::uint8_t>& f, std::size_t off, const std::array<std::uint8_t, N>& a)
{
    std::copy(a.begin(), a.end(), f.begin() + static_cast<std::ptrdiff_t>(off));
}

}  // namespace

bool is_ipv6(Proto p)
{
    return p == Proto::udp6 || p == Proto::tcp6 || p == Proto::icmp6;
}

std::size_t header_len(Proto p)
{
    const std::size_t l3 = kEthHeader + (is_ipv6(p) ? kIp6Header : kIp4Header);
    switch (p) {
    case Proto::udp4:
    case Proto::udp6:
        return l3 + kUdpHeader;
    case Proto::tcp4:
    case Proto::tcp6:
        return l3 + kTcpHeader;
    case Proto::icmp4:
    case Proto::icmp6:
        return l3 + kIcmpEchoHeader;
    }
    return l3;
}

std::size_t min_frame_size(std::span<const Proto> protos)
{
    std::size_t n = kMinFrame;
    for (Proto p : protos)
        n = std::max(n, header_len(p));
    return n;
}

std::optional<Mac> parse_mac(std::string_view text)
{
    if (text.size() != 17)
        return std::nullopt;
    Mac mac{};
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    const char sep = text[2];
    if (sep != ':' && sep != '-')
        return std::nullopt;
    for (std::size_t i = 0; i < 6; ++i) {
        const std::size_t at = i * 3;
        const int hi = hex(text[at]);
        const int lo = hex(text[at + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[at + 2] != sep))
            return std::nullopt;
        mac[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return mac;
}

std::string format_mac(const Mac& m)
{
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::optional<IpAddress> parse_ip(std::string_view text)
{
    const std::string s{text};
    IpAddress out;
    Ip4 a4{};
    Ip6 a6{};
    if (inet_pton(AF_INET, s.c_str(), a4.data()) == 1)
        out.v4 = a4;
    else if (inet_pton(AF_INET6, s.c_str(), a6.data()) == 1)
        out.v6 = a6;
    else
        return std::nullopt;
    return out;
}

std::string format_ip4(const Ip4& a)
{
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, a.data(), buf, sizeof buf);
    return buf;
}

std::string format_ip6(const Ip6& a)
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
    return buf;
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial)
{
    return fold_complement(sum16(bytes, initial));
}

Template build_template(Proto p, const Addresses& a, std::size_t size)
{
    const std::size_t hlen = header_len(p);
    if (size < std::max(hlen, kMinFrame) || size > kMaxFrame)
        throw std::invalid_argument(fmt::format("a {} frame of {} bytes: must be {} .. {}", proto_name(p), size,
                                                std::max(hlen, kMinFrame), kMaxFrame));
    Template t;
    t.proto = p;
    std::vector<std::uint8_t>& f = t.frame;
    f.assign(size, 0);

    // Ethernet
    put_bytes(f, 0, a.dst_mac);
    put_bytes(f, 6, a.src_mac);
    const bool v6 = is_ipv6(p);
    put16(f, 12, v6 ? 0x86dd : 0x0800);

    const std::uint8_t l4proto = p == Proto::udp4 || p == Proto::udp6   ? kIpProtoUdp
                                 : p == Proto::tcp4 || p == Proto::tcp6 ? kIpProtoTcp
                                 : v6                                   ? kIpProtoIcmp6
                                                                        : kIpProtoIcmp;
    const std::size_t l3 = kEthHeader;
    const std::size_t l4 = l3 + (v6 ? kIp6Header : kIp4Header);
    const std::size_t l4len = size - l4;
    std::span<const std::uint8_t> src, dst;
    if (v6) {
        put32(f, l3, 0x60000000u);  // version 6, traffic class 0, flow label 0
        put16(f, l3 + 4, static_cast<std::uint32_t>(l4len));
        f[l3 + 6] = l4proto;
        f[l3 + 7] = kTtl;
        put_bytes(f, l3 + 8, a.src6);
        put_bytes(f, l3 + 24, a.dst6);
        src = std::span(f).subspan(l3 + 8, 16);
        dst = std::span(f).subspan(l3 + 24, 16);
        t.abi.saddr_off = static_cast<__u16>(l3 + 8 + 12);  // the last 32 bits vary
    } else {
        f[l3] = 0x45;  // version 4, IHL 5
        put16(f, l3 + 2, static_cast<std::uint32_t>(size - l3));
        put16(f, l3 + 6, 0x4000);  // DF, offset 0
        f[l3 + 8] = kTtl;
        f[l3 + 9] = l4proto;
        put_bytes(f, l3 + 12, a.src4);
        put_bytes(f, l3 + 16, a.dst4);
        src = std::span(f).subspan(l3 + 12, 4);
        dst = std::span(f).subspan(l3 + 16, 4);
        t.abi.saddr_off = static_cast<__u16>(l3 + 12);
        t.abi.ip_csum_off = static_cast<__u16>(l3 + 10);
    }

    // L4 header; checksums after.
    std::uint16_t sport = a.src_port;
    switch (p) {
    case Proto::udp4:
    case Proto::udp6:
        put16(f, l4, sport);
        put16(f, l4 + 2, a.dst_port);
        put16(f, l4 + 4, static_cast<std::uint32_t>(l4len));
        t.abi.sport_off = static_cast<__u16>(l4);
        t.abi.l4_csum_off = static_cast<__u16>(l4 + 6);
        t.abi.udp = 1;
        break;
    case Proto::tcp4:
    case Proto::tcp6:
        put16(f, l4, sport);
        put16(f, l4 + 2, a.dst_port);
        put32(f, l4 + 4, 1);  // sequence number
        put32(f, l4 + 8, 1);  // acknowledgement number
        f[l4 + 12] = 5 << 4;  // data offset: 5 words, no options
        f[l4 + 13] = kTcpFlagsPshAck;
        put16(f, l4 + 14, kTcpWindow);
        t.abi.sport_off = static_cast<__u16>(l4);
        t.abi.l4_csum_off = static_cast<__u16>(l4 + 16);
        break;
    case Proto::icmp4:
    case Proto::icmp6:
        f[l4] = v6 ? kIcmp6EchoRequest : kIcmpEchoRequest;
        put16(f, l4 + 4, sport);  // echo identifier: the flow's "port"
        put16(f, l4 + 6, 1);      // echo sequence number
        t.abi.sport_off = static_cast<__u16>(l4 + 4);
        t.abi.l4_csum_off = static_cast<__u16>(l4 + 2);
        break;
    }
    t.abi.l4_pseudo = p != Proto::icmp4;  // ICMPv4 alone has no pseudo header

    if (!v6)
        put16(f, t.abi.ip_csum_off, internet_checksum(std::span(f).subspan(l3, kIp4Header)));
    std::uint32_t pseudo = 0;
    if (t.abi.l4_pseudo) {
        pseudo = sum16(src, sum16(dst));
        pseudo += static_cast<std::uint32_t>(l4proto);
        pseudo += static_cast<std::uint32_t>(l4len & 0xffff) + static_cast<std::uint32_t>(l4len >> 16);
    }
    std::uint16_t l4csum = internet_checksum(std::span(f).subspan(l4), pseudo);
    if (t.abi.udp && l4csum == 0)
        l4csum = 0xffff;
    put16(f, t.abi.l4_csum_off, l4csum);

    // How the program varies it (gen_abi.h): the terms of flow 0 taken out of each checksum.
    const std::uint32_t saddr0 = get32(f, t.abi.saddr_off);
    const std::uint32_t addr_out = neg(saddr0 >> 16) + neg(saddr0 & 0xffff);
    t.abi.saddr0 = saddr0;
    t.abi.sport0 = sport;
    if (!v6)
        t.abi.ip_csum_base = neg(get16(f, t.abi.ip_csum_off)) + addr_out;
    t.abi.l4_csum_base = neg(get16(f, t.abi.l4_csum_off)) + neg(sport) + (t.abi.l4_pseudo ? addr_out : 0);
    std::copy_n(f.begin(), std::min<std::size_t>(size, TS_GEN_HDR_MAX), t.abi.hdr);
    return t;
}

std::size_t rewrite_len(std::span<const Template> templates)
{
    std::size_t n = 0;
    for (const Template& t : templates)
        n = std::max(n, header_len(t.proto));
    return n;
}

void apply_flow(const Template& t, std::size_t len, std::uint32_t flow, std::span<std::uint8_t> frame)
{
    const ts_gen_template& a = t.abi;
    std::copy_n(a.hdr, len, frame.begin());
    const std::uint32_t saddr = a.saddr0 + flow;
    const auto sport = static_cast<std::uint16_t>(a.sport0 + flow % TS_GEN_PORT_SPAN);
    const std::uint32_t addr_sum = (saddr >> 16) + (saddr & 0xffff);
    auto store16 = [&](std::size_t off, std::uint16_t v) {
        frame[off] = static_cast<std::uint8_t>(v >> 8);
        frame[off + 1] = static_cast<std::uint8_t>(v);
    };
    put32(frame, a.saddr_off, saddr);
    store16(a.sport_off, sport);
    if (a.ip_csum_off)
        store16(a.ip_csum_off, fold_complement(a.ip_csum_base + addr_sum));
    std::uint16_t l4 = fold_complement(a.l4_csum_base + sport + (a.l4_pseudo ? addr_sum : 0));
    if (a.udp && l4 == 0)
        l4 = 0xffff;
    store16(a.l4_csum_off, l4);
}

}  // namespace trafstat::gen
