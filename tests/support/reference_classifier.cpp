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

void classify_ipv4(const FrameView& b, std::size_t l3, ReferenceVerdict& v);
void classify_ipv6(const FrameView& b, std::size_t l3, ReferenceVerdict& v);

// Where the L4 header of a classified packet ends, for the classes that have
// one with a fixed or stated size; 0 for the others.
std::size_t l4_header_end(const FrameView& b, const ReferenceVerdict& v, std::size_t l4)
{
    if (!v.l4)
        return 0;
    switch (*v.l4) {
    case TS_CLASS_TCP:
        return l4 + (b.u8(l4 + 12) >> 4) * 4u;
    case TS_CLASS_UDP:
    case TS_CLASS_ICMP:
    case TS_CLASS_ICMPV6:
    case TS_CLASS_ESP:
        return l4 + 8;
    case TS_CLASS_SCTP:
        return l4 + 12;
    case TS_CLASS_GRE:
        return l4 + 4;
    default:
        return 0;
    }
}

// docs/classes.md: the tunnels whose super-packets repeat their inner headers.
// The tunnel header of protocol `proto` (UDP: to port `dport`) starts at
// `after`; returns where the inner packet's L4 header ends, or 0.
std::size_t tunnel_inner_end(const FrameView& b, std::size_t after, std::uint8_t proto, std::uint16_t dport)
{
    constexpr std::uint16_t kTeb = 0x6558;  // an Ethernet frame inside
    std::size_t at = after;
    std::uint16_t inner = 0;
    if (proto == 17 && (dport == 4789 || dport == 8472)) {  // VXLAN: 8 bytes
        if (!b.holds(at, 8))
            return 0;
        at += 8;
        inner = kTeb;
    } else if (proto == 17 && dport == 6081) {  // Geneve: 8 bytes, then options in 4-byte words
        if (!b.holds(at, 8))
            return 0;
        inner = b.u16(at + 2);
        at += 8 + (b.u8(at) & 0x3f) * 4u;
    } else if (proto == 47) {  // GRE version 0; checksum, key and sequence add a word each
        if (!b.holds(at, 4) || (b.u8(at + 1) & 0x07) != 0)
            return 0;
        const std::uint8_t flags = b.u8(at);
        inner = b.u16(at + 2);
        at += 4 + 4u * (((flags >> 7) & 1) + ((flags >> 5) & 1) + ((flags >> 4) & 1));
    } else if (proto == 4 || proto == 41) {  // IPIP, SIT: IP straight after
        inner = proto == 4 ? kEtherIpv4 : kEtherIpv6;
    } else {
        return 0;
    }
    if (inner == kTeb) {
        if (!b.holds(at, kEthernetHeader))
            return 0;
        inner = b.u16(at + 12);
        at += kEthernetHeader;
        if (inner == kEtherCTag) {  // one 802.1Q tag
            if (!b.holds(at, kVlanTag))
                return 0;
            inner = b.u16(at + 2);
            at += kVlanTag;
        }
    }
    if (inner != kEtherIpv4 && inner != kEtherIpv6)
        return 0;
    ReferenceVerdict in;
    if (inner == kEtherIpv4)
        classify_ipv4(b, at, in);
    else
        classify_ipv6(b, at, in);
    return in.l4_end;
}

// The L4 class of protocol `proto` whose header starts at `l4`, and the key's
// ports (or ICMP type and code) and the TCP flags it reads.
void classify_l4_header(const FrameView& b, std::size_t l4, std::uint8_t proto, ReferenceVerdict& v)
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
        return;
    }
    case 17:
    case 132:
        if (needs(proto == 17 ? 8 : 12, proto == 17 ? TS_CLASS_UDP : TS_CLASS_SCTP)) {
            key.sport = b.u16(l4);
            key.dport = b.u16(l4 + 2);
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

// classify_l4_header, and where the header ends; `tunnel`: a tunnel's inner
// headers are followed (not after IPv6 extension headers, which the rule skips).
void classify_l4(const FrameView& b, std::size_t l4, std::uint8_t proto, ReferenceVerdict& v, bool tunnel)
{
    classify_l4_header(b, l4, proto, v);
    v.l4_end = l4_header_end(b, v, l4);
    if (!tunnel)
        return;
    if (v.l4 == TS_CLASS_UDP)
        v.tunnel_headers = tunnel_inner_end(b, l4 + 8, proto, b.u16(l4 + 2));
    else if (v.l4 == TS_CLASS_GRE || v.l4 == TS_CLASS_OTHER_L4)
        v.tunnel_headers = tunnel_inner_end(b, l4, proto, 0);
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
    classify_l4(b, l3 + header, key.proto, v, true);
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
    classify_l4(b, at, next, v, at == l3 + kIpv6Header);
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
    v.bytes += (segments - 1) * std::uint64_t{v.tunnel_headers ? v.tunnel_headers : v.l4_end};
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
