// The keyed tables in userspace: entries from the kernel (abi.h struct
// ts_flow_key / ts_flow_entry), merged, compared, printed.
// Pure: no libbpf, unit-tested without privileges.
#pragma once

#include "base/names.hpp"
#include "stats/counters.hpp"

#include <trafstat/abi.h>

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace trafstat {

struct FlowKey {
    std::array<std::uint8_t, 16> src{};  // IPv6, or IPv4-mapped
    std::array<std::uint8_t, 16> dst{};
    std::uint16_t sport = 0;  // ICMP: type
    std::uint16_t dport = 0;  // ICMP: code
    std::uint8_t proto = 0;
    std::uint8_t ip_version = 0;  // 4 or 6
    friend auto operator<=>(const FlowKey&, const FlowKey&) = default;
};

struct FlowStats {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    std::uint64_t first_ns = 0;  // ns since the epoch: replay, capture time; live, the end of the interval
                                 // it was counted in (first and last seen have -i resolution)
    std::uint64_t last_ns = 0;
    std::uint8_t tcp_flags = 0;
    // Adds another share of the same flow (another CPU, another interval).
    void merge(const FlowStats& other);
    friend bool operator==(const FlowStats&, const FlowStats&) = default;
};

struct FlowEntry {
    FlowKey key;
    FlowStats stats;
};

struct FlowKeyHash {
    std::size_t operator()(const FlowKey& k) const noexcept;
};

FlowKey flow_key_of(const ts_flow_key& k);
ts_flow_key kernel_key_of(const FlowKey& k);
// One entry per key: the kernel keeps one per CPU that saw it.
std::vector<FlowEntry> merge_by_key(std::span<const FlowEntry> entries);

// Per keyed table (enum ts_table): the keys it holds per interval, all CPUs
// together (at least: its shared part has twice as many slots, rounded up to a
// power of two, and each CPU has a cache in front of it; docs/tables.md).
using TableSizes = std::array<std::uint32_t, TS_TABLES>;
inline constexpr TableSizes kDefaultTableSizes = {65536, 65536, 65536};
// Slots per interval of each table, all CPUs together (0: off).
using TableCapacities = std::array<std::size_t, TS_TABLES>;
// What one drain read, per keyed table (empty for a table that is off).
using TableEntries = std::array<std::vector<FlowEntry>, TS_TABLES>;

// Every key seen since start, with its totals: the drained intervals merged.
// Keys idle for `max_idle` intervals are aged out of memory; their counts
// stay in aged() (so counted() = entries + aged, always).
class FlowTotals {
public:
    void add(std::span<const FlowEntry> interval);
    // Ends an interval: keys not seen in the last `max_idle` intervals (0: never) leave.
    void end_interval(std::uint64_t max_idle);
    std::size_t size() const { return totals_.size(); }
    const Counter& counted() const { return counted_; }
    const Counter& aged() const { return aged_; }
    std::uint64_t aged_keys() const { return aged_keys_; }
    std::vector<FlowEntry> entries() const;

private:
    struct Kept {
        FlowStats stats;
        std::uint64_t last_interval = 0;
    };
    std::unordered_map<FlowKey, Kept, FlowKeyHash> totals_;
    Counter counted_;
    Counter aged_;
    std::uint64_t aged_keys_ = 0;
    std::uint64_t interval_ = 0;
};

// Packets and bytes the entries hold.
Counter sum_of(std::span<const FlowEntry> entries);

// A keyed table's name (enum ts_table), in options, reports and the JSON.
inline constexpr auto kTableNames = name_table<ts_table>({
    {TS_TABLE_TALKERS, "talkers"},
    {TS_TABLE_PORTS, "ports"},
    {TS_TABLE_FLOWS, "flows"},
});
constexpr std::string_view table_name(int table)
{
    return kTableNames.name(static_cast<ts_table>(table));
}

// A keyed table's rule (abi.h): its entries + its overflow + its paused
// share + unkeyed = ipv4 + ipv6. One line per violation; empty when it adds up.
std::vector<std::string> reconcile_table(const ClassCounters& totals, ts_table table,
                                         std::span<const FlowEntry> entries);
// The same rule with what the entries hold already summed (`counted`).
std::vector<std::string> reconcile_table(const ClassCounters& totals, ts_table table, const Counter& counted);

}  // namespace trafstat
