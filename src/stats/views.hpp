// Views derived from the keyed table's entries (docs/tables.md): talkers
// (per address, as source and as destination), ports (per protocol and
// port, as destination and as source) and flows, each sorted and cut to the
// top N. Pure: unit-tested without privileges. Their labels are output's
// (output/labels.hpp).
#pragma once

#include "base/names.hpp"
#include "stats/flows.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

// The order of the views (--sort).
enum class SortKey { bps, pps, bytes, packets };
inline constexpr auto kSortKeyNames = name_table<SortKey>({
    {SortKey::bps, "bps"},
    {SortKey::pps, "pps"},
    {SortKey::bytes, "bytes"},
    {SortKey::packets, "packets"},
});
constexpr std::string_view sort_name(SortKey key)
{
    return kSortKeyNames.name(key);
}

// Talkers in order of what they sent + received, of what they sent (as
// source), or of what they received (as destination) (--talkers-by).
enum class TalkerSide { total, src, dst };
inline constexpr auto kTalkerSideNames = name_table<TalkerSide>({
    {TalkerSide::total, "total", "sent + received"},
    {TalkerSide::src, "src", "as source"},
    {TalkerSide::dst, "dst", "as destination"},
});
constexpr std::string_view side_name(TalkerSide side)
{
    return kTalkerSideNames.name(side);
}

// What the views show: their order and how many rows.
struct ViewOptions {
    SortKey sort = SortKey::bps;
    TalkerSide talkers_by = TalkerSide::total;
    std::size_t top = 10;  // rows per view and interval (0: all)
};

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
void sort_top(std::vector<Talker>& rows, SortKey key, std::size_t top, TalkerSide side = TalkerSide::total);
void sort_top(std::vector<Port>& rows, SortKey key, std::size_t top);
void sort_top(std::vector<FlowEntry>& rows, SortKey key, std::size_t top);

// Protocols that have ports: TCP, UDP, SCTP.
bool has_ports(std::uint8_t proto);

}  // namespace trafstat
