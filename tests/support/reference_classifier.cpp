// Written from docs/classes.md and docs/tables.md, rule by rule; see the header.
#include "support/reference_classifier.hpp"

#include "output/labels.hpp"
#include "stats/counters.hpp"

#include <array>
#include <cstring>
#include <sstream>

namespace trafstat::test {
namespace {

// The frame's bytes from an offset on, with the length checks the rules speak of.
class FrameView {
public:
    explicit FrameView(std::span<const std::uint8_t> frame) : frame_(frame) {}
    bool holds(std::size_t at, std::size_t n) const { return at <= frame_.size() && frame_.size() - at >= n; }
    std::uint8_t u8(std::size_t at) const { return frame_[at]; }
    std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(frame_[at] << 8 | frame_[at + 1]); }
    const std::uint8_t* at(std::size_t at) const { return frame_.data() + at; }

private:
    std::span<const std::uint8_t> frame_;
};

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherArp = 0x0806;
constexpr std::uint16_t kEtherCTag = 0x8100;
constexpr std::uint16_t kEtherSTag = 0x88a8;
constexpr std::uint16_t kEtherPppoeSession = 0x8864;
constexpr std::uint16_t kPppIpv4 = 0x0021;
constexpr std::uint16_t kPppIpv6 = 0x0057;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kPppoeAndPpp = 8;  // 6-byte PPPoE session header, 2-byte PPP protocol
constexpr std::size_t kIpv4Header = 20;
constexpr std::size_t kIpv6Header = 40;

bool is_ipv6_extension(std::uint8_t next)
{
    return next == 0 || next == 43 || next == 44 || next == 60 || next == 51;
}

// The L4 class of protocol `proto` whose header starts at `l4`, and the key's
// ports (or ICMP type and code) and the TCP flags it reads.
void classify_l4(const FrameView& b, std::size_t l4, std::uint8_t proto, ReferenceVerdict& v)
{
    FlowKey& key = *v.key;
    key.proto = proto;
    const auto needs = [&](std::size_t n, ts_class c) {
        v.l4 = b.holds(l4, n) ? c : TS_CLASS_MALFORMED_L4;
        return *v.l4 == c;
    };
    switch (proto) {
    case 6: {
        if (!needs(20, TS_CLASS_TCP))
            return;
        const std::size_t header = (b.u8(l4 + 12) >> 4) * 4u;
        if (header < 20 || !b.holds(l4, header)) {
            v.l4 = TS_CLASS_MALFORMED_L4;
            return;
        }
        key.sport = b.u16(l4);
        key.dport = b.u16(l4 + 2);
        v.tcp_flags = b.u8(l4 + 13);
        v.tcp_udp_headers = l4 + header;
        return;
    }
    case 17:
    case 132:
        if (needs(proto == 17 ? 8 : 12, proto == 17 ? TS_CLASS_UDP : TS_CLASS_SCTP)) {
            key.sport = b.u16(l4);
            key.dport = b.u16(l4 + 2);
            if (proto == 17)
                v.tcp_udp_headers = l4 + 8;
        }
        return;
    case 1:
    case 58:
        if (needs(8, proto == 1 ? TS_CLASS_ICMP : TS_CLASS_ICMPV6)) {
            key.sport = b.u8(l4);      // type
            key.dport = b.u8(l4 + 1);  // code
        }
        return;
    case 47:
        needs(4, TS_CLASS_GRE);
        return;
    case 50:
        needs(8, TS_CLASS_ESP);
        return;
    default:
        v.l4 = TS_CLASS_OTHER_L4;
        return;
    }
}

void classify_ipv4(const FrameView& b, std::size_t l3, ReferenceVerdict& v)
{
    v.l3 = TS_CLASS_IPV4;
    v.l4 = TS_CLASS_MALFORMED_L4;
    if (!b.holds(l3, kIpv4Header))
        return;  // no address to read: unkeyed
    // A header of another version, or shorter than its fixed part, holds no
    // addresses: unkeyed.
    const std::size_t header = (b.u8(l3) & 0x0f) * 4u;
    if (b.u8(l3) >> 4 != 4 || header < kIpv4Header)
        return;
    FlowKey key;
    key.ip_version = 4;
    key.src[10] = key.src[11] = key.dst[10] = key.dst[11] = 0xff;  // ::ffff:a.b.c.d
    std::memcpy(key.src.data() + 12, b.at(l3 + 12), 4);
    std::memcpy(key.dst.data() + 12, b.at(l3 + 16), 4);
    key.proto = b.u8(l3 + 9);
    v.key = key;
    if (!b.holds(l3, header))
        return;
    if ((b.u16(l3 + 6) & 0x1fff) != 0) {
        v.l4 = TS_CLASS_FRAGMENT;
        return;
    }
    classify_l4(b, l3 + header, key.proto, v);
}

void classify_ipv6(const FrameView& b, std::size_t l3, ReferenceVerdict& v)
{
    v.l3 = TS_CLASS_IPV6;
    v.l4 = TS_CLASS_MALFORMED_L4;
    if (!b.holds(l3, kIpv6Header) || b.u8(l3) >> 4 != 6)
        return;  // unkeyed
    FlowKey key;
    key.ip_version = 6;
    std::memcpy(key.src.data(), b.at(l3 + 8), 16);
    std::memcpy(key.dst.data(), b.at(l3 + 24), 16);
    std::uint8_t next = b.u8(l3 + 6);
    key.proto = next;
    v.key = key;
    std::size_t at = l3 + kIpv6Header;
    // The key's protocol is the one after the chain. A chain that ends early
    // (truncated) leaves the fixed header's next header; one longer than the
    // bound, the first header past it.
    for (int walked = 0; is_ipv6_extension(next); ++walked) {
        if (walked == TS_MAX_IPV6_EXT_HDRS) {
            v.key->proto = next;
            v.l4 = TS_CLASS_OTHER_L4;
            return;
        }
        if (!b.holds(at, 8))
            return;  // malformed_l4
        if (next == 44) {
            if ((b.u16(at + 2) & 0xfff8) != 0) {
                v.key->proto = b.u8(at);
                v.l4 = TS_CLASS_FRAGMENT;
                return;
            }
            next = b.u8(at);
            at += 8;
            continue;
        }
        const std::size_t length = next == 51 ? (b.u8(at + 1) + 2u) * 4 : (b.u8(at + 1) + 1u) * 8;
        if (!b.holds(at, length))
            return;  // malformed_l4
        next = b.u8(at);
        at += length;
    }
    classify_l4(b, at, next, v);
}

}  // namespace

bool operator==(const ReferenceVerdict& a, const ReferenceVerdict& b)
{
    return a.l3 == b.l3 && a.l4 == b.l4 && a.vlan == b.vlan && a.pppoe == b.pppoe && a.key == b.key &&
           a.tcp_flags == b.tcp_flags && a.packets == b.packets && a.bytes == b.bytes;
}

ReferenceVerdict as_super_packet(ReferenceVerdict v, std::uint32_t segments)
{
    v.packets = segments;
    v.bytes += (segments - 1) * std::uint64_t{v.tcp_udp_headers};
    return v;
}

ReferenceVerdict classify_frame(std::span<const std::uint8_t> frame, std::uint64_t wire_bytes)
{
    const FrameView b(frame);
    ReferenceVerdict v;
    v.bytes = wire_bytes;
    if (!b.holds(0, kEthernetHeader))
        return v;         // malformed
    std::size_t at = 12;  // the ethertype
    std::uint16_t type = b.u16(at);
    for (int tags = 0; type == kEtherCTag || type == kEtherSTag; ++tags) {
        if (tags == TS_MAX_VLAN_TAGS) {
            v.l3 = TS_CLASS_OTHER_L3;  // a third tag
            return v;
        }
        if (!b.holds(at + 2, kVlanTag)) {
            v.l3 = TS_CLASS_MALFORMED;
            return v;
        }
        v.vlan = true;
        at += kVlanTag;
        type = b.u16(at);
    }
    at += 2;  // the L3 header
    if (type == kEtherPppoeSession) {
        if (!b.holds(at, kPppoeAndPpp)) {
            v.l3 = TS_CLASS_MALFORMED;
            return v;
        }
        v.pppoe = true;
        const std::uint16_t ppp = b.u16(at + 6);
        at += kPppoeAndPpp;
        type = ppp == kPppIpv4 ? kEtherIpv4 : ppp == kPppIpv6 ? kEtherIpv6 : 0;
    }
    if (type == kEtherIpv4)
        classify_ipv4(b, at, v);
    else if (type == kEtherIpv6)
        classify_ipv6(b, at, v);
    else
        v.l3 = type == kEtherArp ? TS_CLASS_ARP : TS_CLASS_OTHER_L3;
    return v;
}

std::string describe(const ReferenceVerdict& v)
{
    std::ostringstream s;
    s << class_name(v.l3);
    if (v.l4)
        s << '/' << class_name(*v.l4);
    if (v.vlan)
        s << " vlan";
    if (v.pppoe)
        s << " pppoe";
    if (v.key) {
        const FlowKey& k = *v.key;
        const auto end = [&](const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
            const std::string addr = format_ip(ip, k.ip_version);
            return (k.ip_version == 4 ? addr : '[' + addr + ']') + ':' + std::to_string(port);
        };
        s << " key v" << int(k.ip_version) << ' ' << end(k.src, k.sport) << " > " << end(k.dst, k.dport) << " proto "
          << int(k.proto);
    } else if (v.l4) {
        s << " unkeyed";
    }
    s << " tcp_flags 0x" << std::hex << int(v.tcp_flags) << std::dec;
    if (v.packets != 1)
        s << " packets " << v.packets;
    s << " bytes " << v.bytes;
    return s.str();
}

}  // namespace trafstat::test
