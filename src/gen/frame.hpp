// `trafstat gen`'s frames, built in userspace: the template of each protocol
// (whole Ethernet frame, headers with correct lengths and checksums, zero
// payload), the precomputed checksum bases that let the BPF program vary
// source address and port per packet with an incremental update (RFC 1624),
// and apply_flow(), the reference of what the program writes for a flow.
// Pure: unit-tested (tests/unit/gen_frame_test.cpp).
#pragma once

#include "base/names.hpp"

#include <trafstat/gen_abi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat::gen {

enum class Proto : std::uint8_t { udp4, tcp4, icmp4, udp6, tcp6, icmp6 };
inline constexpr auto kProtoNames = name_table<Proto>({
    {Proto::udp4, "udp4"},
    {Proto::tcp4, "tcp4"},
    {Proto::icmp4, "icmp4"},
    {Proto::udp6, "udp6"},
    {Proto::tcp6, "tcp6"},
    {Proto::icmp6, "icmp6"},
});
inline constexpr auto kAllProtos = kProtoNames.values();

constexpr std::string_view proto_name(Proto p)
{
    return kProtoNames.name(p);
}  // "udp4", ...
constexpr std::optional<Proto> proto_from_name(std::string_view name)
{
    return kProtoNames.parse(name);
}
bool is_ipv6(Proto p);

// Ethernet + IP + L4 header bytes of a frame of `p`.
std::size_t header_len(Proto p);

inline constexpr std::size_t kEthHeader = 14;
inline constexpr std::size_t kMinFrame = 60;    // Ethernet minimum without FCS
inline constexpr std::size_t kMaxFrame = 3000;  // what a live frame (one page) always holds
inline constexpr std::size_t kDefaultFrame = 64;
inline constexpr std::uint32_t kMaxFlows = 1u << 24;
// Per frame on the wire besides its bytes: preamble + SFD (8), inter-frame gap (12), FCS (4).
inline constexpr std::size_t kWireOverhead = 24;

// The smallest frame every protocol of `protos` fits in: max(60, longest header).
std::size_t min_frame_size(std::span<const Proto> protos);

using Mac = std::array<std::uint8_t, 6>;
using Ip4 = std::array<std::uint8_t, 4>;
using Ip6 = std::array<std::uint8_t, 16>;

inline constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Addresses of flow 0. Defaults: RFC 2544's benchmarking range 198.18.0.0/15
// and RFC 3849's documentation prefix 2001:db8::/32.
struct Addresses {
    Mac src_mac{};
    Mac dst_mac = kBroadcast;
    Ip4 src4 = {198, 18, 0, 1};
    Ip4 dst4 = {198, 19, 0, 1};
    Ip6 src6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // 2001:db8:1::1
    Ip6 dst6 = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // 2001:db8:2::1
    std::uint16_t src_port = 1024;  // flow f: src_port + f % TS_GEN_PORT_SPAN (ICMP: echo identifier)
    std::uint16_t dst_port = 9;     // discard
};

// "02:00:00:00:0a:01" (also with '-'); nullopt when not six hex pairs.
std::optional<Mac> parse_mac(std::string_view text);
std::string format_mac(const Mac& mac);
// One IPv4 or IPv6 address (inet_pton); which one it is comes back set.
struct IpAddress {
    std::optional<Ip4> v4;
    std::optional<Ip6> v6;
};
std::optional<IpAddress> parse_ip(std::string_view text);
std::string format_ip4(const Ip4& a);
std::string format_ip6(const Ip6& a);

// The template of one protocol: the whole frame of flow 0, and how the
// program varies it (the fields of ts_gen_template, gen_abi.h).
struct Template {
    Proto proto{};
    std::vector<std::uint8_t> frame;  // frame_size bytes
    ts_gen_template abi{};            // hdr = frame's first TS_GEN_HDR_MAX bytes (zero beyond the frame)
};

// Throws std::invalid_argument when frame_size is below header_len(p) or
// kMinFrame, or above kMaxFrame.
Template build_template(Proto p, const Addresses& addresses, std::size_t frame_size);

// The first bytes of every frame the program writes for a list of templates:
// the longest header among them.
std::size_t rewrite_len(std::span<const Template> templates);

// What the BPF program writes into a frame for `flow` (the reference the unit
// tests hold the program's recipe to; the end-to-end tests check the real
// frames with tshark). `frame` holds any earlier frame's bytes.
void apply_flow(const Template& t, std::size_t rewrite_len, std::uint32_t flow, std::span<std::uint8_t> frame);

// The Internet checksum (RFC 1071) of `bytes` added to an unfolded `initial`
// sum, complemented: what goes into a checksum field.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);

}  // namespace trafstat::gen
