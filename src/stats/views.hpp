// Views derived from the keyed table's entries (docs/tables.md): talkers
// (per address, as source and as destination), ports (per protocol and
// port, as destination and as source) and flows, each sorted and cut to the
// top N. Pure: unit-tested without privileges.
#pragma once

#include "stats/flows.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

enum class SortKey { bps, pps, bytes, packets };
// "bps", "pps", "bytes", "packets" (--sort) and back; an unknown name is bps.
std::string_view sort_name(SortKey key);
SortKey sort_key(std::string_view name);

struct Talker {
    std::array<std::uint8_t, 16> ip{};
    std::uint8_t ip_version = 0;
    Counter sent;      // as source
    Counter received;  // as destination
    Counter total() const { return {sent.packets + received.packets, sent.bytes + received.bytes}; }
};

struct Port {
    std::uint8_t proto = 0;
    std::uint16_t port = 0;
    Counter as_dst;  // packets to this port
    Counter as_src;  // packets from it
    Counter total() const { return {as_dst.packets + as_src.packets, as_dst.bytes + as_src.bytes}; }
};

// Talkers and ports need the key fields they are made of: none when the
// table is keyed without them (ports from a talkers-only table).
std::vector<Talker> talkers_of(std::span<const FlowEntry> entries);
std::vector<Port> ports_of(std::span<const FlowEntry> entries);

// Largest first by `key` (bps and bytes order alike, as do pps and packets
// over one interval); ties by address/port, so the order is stable. At most
// `top` rows (0: all).
// Talkers in order of what they sent + received, of what they sent (as
// source), or of what they received (as destination).
enum class TalkerSide { total, src, dst };
// "total", "src", "dst" (--talkers-by) and back; an unknown name is total.
std::string_view side_name(TalkerSide side);
TalkerSide talker_side(std::string_view name);
void sort_top(std::vector<Talker>& rows, SortKey key, std::size_t top, TalkerSide side = TalkerSide::total);
void sort_top(std::vector<Port>& rows, SortKey key, std::size_t top);
void sort_top(std::vector<FlowEntry>& rows, SortKey key, std::size_t top);

// How a row is named on screen: "tcp 10.0.0.1:40000 > 10.0.0.9:443",
// "icmp 10.0.0.2 > 10.0.0.9 type 8 code 0"; "tcp/443 (https)".
std::string flow_label(const FlowEntry& f);
std::string port_label(const Port& p);

// Ports that have one: TCP, UDP, SCTP.
bool has_ports(std::uint8_t proto);
// The system's name for a port (getservbyport: /etc/services), if any.
std::optional<std::string> service_name(std::uint16_t port, std::uint8_t proto);

}  // namespace trafstat
