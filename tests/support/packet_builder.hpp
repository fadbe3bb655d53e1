// A small packet builder for the packet tests: Ethernet, 802.1Q/802.1ad tags,
// PPPoE, ARP, IPv4 (options, IHL, fragments), IPv6 and its extension headers,
// TCP (doff, options), UDP, ICMP, ICMPv6, SCTP, GRE, ESP, raw payload, and
// truncation. Pure: no libbpf, no privileges.
//
// Layers are appended outermost first. A layer's "next protocol" field
// (ethertype, PPP protocol, IP protocol / next header) is filled from the layer
// that follows, unless given explicitly (a layer option or next()); lying is
// therefore always explicit. build() then fills lengths (IPv4 total length,
// IPv6 payload length, UDP length, PPPoE length) and checksums (IPv4 header,
// TCP/UDP/ICMP/ICMPv6 with their pseudo headers, SCTP CRC32c) for the whole
// frame, and only then truncates it (cut()/truncate()), as a capture of a frame
// cut short would look.
//
//     Bytes f = PacketBuilder().eth().vlan(100).ipv4().tcp({.option_words = 3}).payload(100).build();
//     Bytes g = PacketBuilder().eth().ipv4().tcp().cut(19).build();  // 19 bytes of TCP header
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace trafstat::test {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;
using Ip4Addr = std::array<std::uint8_t, 4>;
using Ip6Addr = std::array<std::uint8_t, 16>;

// Protocol numbers (host order). Own names, not the <linux/...> macros.
namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;  // 802.1Q C-tag
inline constexpr std::uint16_t qinq = 0x88a8;  // 802.1ad S-tag
inline constexpr std::uint16_t ipv6 = 0x86dd;
inline constexpr std::uint16_t pppoe_discovery = 0x8863;
inline constexpr std::uint16_t pppoe_session = 0x8864;
inline constexpr std::uint16_t lldp = 0x88cc;
inline constexpr std::uint16_t teb = 0x6558;  // transparent Ethernet bridging (Ethernet in GRE)
}  // namespace ethertype

namespace pppproto {
inline constexpr std::uint16_t ipv4 = 0x0021;
inline constexpr std::uint16_t ipv6 = 0x0057;
inline constexpr std::uint16_t ipcp = 0x8021;
inline constexpr std::uint16_t lcp = 0xc021;
}  // namespace pppproto

namespace ipproto {
inline constexpr std::uint8_t hop_by_hop = 0;
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t ipip = 4;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t ipv6 = 41;
inline constexpr std::uint8_t routing = 43;
inline constexpr std::uint8_t fragment = 44;
inline constexpr std::uint8_t gre = 47;
inline constexpr std::uint8_t esp = 50;
inline constexpr std::uint8_t ah = 51;
inline constexpr std::uint8_t icmpv6 = 58;
inline constexpr std::uint8_t no_next = 59;
inline constexpr std::uint8_t dest_opts = 60;
inline constexpr std::uint8_t sctp = 132;
}  // namespace ipproto

// Header sizes without options.
inline constexpr std::size_t eth_len = 14;
inline constexpr std::size_t vlan_len = 4;
inline constexpr std::size_t pppoe_len = 8;  // PPPoE session header (6) + PPP protocol (2)
inline constexpr std::size_t arp_len = 28;
inline constexpr std::size_t ipv4_len = 20;
inline constexpr std::size_t ipv6_len = 40;
inline constexpr std::size_t ipv6_frag_len = 8;
inline constexpr std::size_t tcp_len = 20;
inline constexpr std::size_t udp_len = 8;
inline constexpr std::size_t icmp_len = 8;
inline constexpr std::size_t sctp_len = 12;
inline constexpr std::size_t gre_len = 4;
inline constexpr std::size_t esp_len = 8;

struct Ipv4 {
    std::optional<std::uint8_t> protocol{};  // default: from the next layer
    std::uint8_t option_words = 0;           // 32-bit words of options written (0..10)
    std::optional<std::uint8_t> ihl{};       // IHL field written; default 5 + option_words
    std::uint8_t version = 4;
    bool dont_fragment = false;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0;            // in 8-byte units (13 bits)
    std::optional<std::uint16_t> total_length{};  // default: to the end of the frame (before padding)
    std::uint8_t ttl = 64;
    Ip4Addr src{192, 0, 2, 1};
    Ip4Addr dst{198, 51, 100, 2};
};

struct Ipv6 {
    std::optional<std::uint8_t> next{};  // default: from the next layer
    std::uint8_t version = 6;
    std::uint8_t hop_limit = 64;
    Ip6Addr src{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    Ip6Addr dst{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
};

struct Tcp {
    std::uint16_t sport = 40000;
    std::uint16_t dport = 443;
    std::uint32_t seq = 1;
    std::uint32_t ack = 1;
    std::uint8_t flags = 0x18;           // PSH|ACK
    std::uint8_t option_words = 0;       // 32-bit words of options written (0..10)
    std::optional<std::uint8_t> doff{};  // data offset field written; default 5 + option_words
    std::uint16_t window = 64240;
};

class PacketBuilder {
public:
    // --- L2
    PacketBuilder& eth(std::optional<std::uint16_t> type = {}, Mac dst = {0x02, 0, 0, 0, 0, 0x02},
                       Mac src = {0x02, 0, 0, 0, 0, 0x01});
    // A VLAN tag; `tpid` is what the previous header announces it with (0x8100, 0x88a8).
    PacketBuilder& vlan(std::uint16_t vid, std::uint16_t tpid = ethertype::vlan,
                        std::optional<std::uint16_t> type = {});
    // PPPoE session header plus the PPP protocol field.
    PacketBuilder& pppoe_session(std::uint16_t session = 0x0001, std::optional<std::uint16_t> ppp_proto = {});
    // PPPoE discovery (PADI by default) with an empty Service-Name tag.
    PacketBuilder& pppoe_discovery(std::uint8_t code = 0x09);
    PacketBuilder& arp(std::uint16_t op = 1);
    // A minimal LLDPDU (chassis ID, port ID, TTL, end).
    PacketBuilder& lldp();

    // --- L3
    PacketBuilder& ipv4(const Ipv4& h = {});
    PacketBuilder& ipv6(const Ipv6& h = {});
    // IPv6 extension headers; `hdrlen` is the header's length field as written.
    PacketBuilder& hop_by_hop(std::uint8_t hdrlen = 0, std::optional<std::uint8_t> next = {});
    PacketBuilder& dest_opts(std::uint8_t hdrlen = 0, std::optional<std::uint8_t> next = {});
    PacketBuilder& routing(std::uint8_t hdrlen = 2, std::optional<std::uint8_t> next = {});  // SRH, type 4
    PacketBuilder& fragment6(std::uint16_t offset, bool more, std::uint32_t id = 0x12345678,
                             std::optional<std::uint8_t> next = {});
    // Authentication header; `payload_len` is its length field (32-bit words minus 2).
    PacketBuilder& ah(std::uint8_t payload_len = 4, std::optional<std::uint8_t> next = {});

    // --- L4
    PacketBuilder& tcp(const Tcp& h = {});
    PacketBuilder& udp(std::uint16_t sport = 40000, std::uint16_t dport = 9);
    PacketBuilder& icmp(std::uint8_t type = 8, std::uint8_t code = 0);      // echo request
    PacketBuilder& icmpv6(std::uint8_t type = 128, std::uint8_t code = 0);  // echo request
    PacketBuilder& sctp(std::uint16_t sport = 5000, std::uint16_t dport = 5001, std::uint32_t vtag = 0x1020304);
    PacketBuilder& gre(std::optional<std::uint16_t> type = {});
    PacketBuilder& esp(std::uint32_t spi = 0x1000, std::uint32_t seq = 1);

    // --- anything
    PacketBuilder& payload(std::size_t n);  // n bytes of a counting pattern
    PacketBuilder& bytes(std::span<const std::uint8_t> b);
    PacketBuilder& bytes(std::initializer_list<std::uint8_t> b);

    // Sets the pending "next protocol" field (of the last layer) explicitly.
    PacketBuilder& next(std::uint16_t proto);
    // Ethernet padding up to `frame_len` bytes: zeros not counted in IP/UDP lengths.
    PacketBuilder& pad_to(std::size_t frame_len);
    // The built frame ends `keep` bytes into the last layer added.
    PacketBuilder& cut(std::size_t keep);
    // The built frame is `frame_len` bytes long (at most).
    PacketBuilder& truncate(std::size_t frame_len);

    std::size_t size() const { return buf_.size(); }
    // Offset of the start of the last layer added.
    std::size_t last_layer_offset() const;
    Bytes build() const;

private:
    enum class Ns { ether, ppp, ip };  // numbering spaces of next-protocol fields
    enum class Kind {
        eth,
        vlan,
        pppoe_session,
        pppoe_discovery,
        arp,
        lldp,
        ipv4,
        ipv6,
        ext6,
        tcp,
        udp,
        icmp,
        icmpv6,
        sctp,
        gre,
        esp,
        raw,
    };
    struct Ids {
        std::optional<std::uint16_t> ether{}, ppp{}, ip{};
    };
    struct Pending {
        Ns ns;
        std::size_t offset;
        bool given;                             // written explicitly
        std::optional<std::uint16_t> fallback;  // used when nothing follows
        std::string owner;
    };
    struct Layer {
        Kind kind;
        std::size_t start;
        std::size_t header_len;
        bool fixed_length = false;  // a length field given explicitly: leave it alone
    };

    void begin(Kind kind, const Ids& ids, const char* name);
    void expect_next(Ns ns, std::size_t offset, std::optional<std::uint16_t> given,
                     std::optional<std::uint16_t> fallback, const char* owner);
    void put8(std::uint8_t v) { buf_.push_back(v); }
    void put16(std::uint16_t v);
    void put32(std::uint32_t v);
    void put(std::span<const std::uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
    void put(std::initializer_list<std::uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
    void ext6(std::uint8_t type, std::uint8_t hdrlen, std::optional<std::uint8_t> next, const char* name);

    Bytes buf_;
    std::vector<Layer> layers_;
    std::optional<Pending> pending_;
    std::optional<std::size_t> pad_start_;
    std::optional<std::size_t> truncate_;
};

// Internet checksum (RFC 1071) over `b`, folded, complemented.
std::uint16_t inet_checksum(std::span<const std::uint8_t> b, std::uint32_t seed = 0);
// CRC32c (Castagnoli), as SCTP uses it.
std::uint32_t crc32c(std::span<const std::uint8_t> b);
// "0000  02 00 00 ..." hex dump, 16 bytes a line, for failure messages.
std::string hex_dump(std::span<const std::uint8_t> b);

}  // namespace trafstat::test
