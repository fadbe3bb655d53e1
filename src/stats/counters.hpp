// Pure arithmetic over the kernel's counters: per-CPU sums, deltas, rates,
// reconciliation. No libbpf, no I/O: unit-tested without privileges.
#pragma once

#include <trafstat/abi.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trafstat {

struct Counter {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    friend bool operator==(const Counter&, const Counter&) = default;
};

// The per-attachment totals, summed over CPUs (same shape as ts_stats).
struct ClassCounters {
    std::array<Counter, TS_CLASS_MAX> cls{};
    std::array<std::array<Counter, TS_L4_COUNT>, TS_IP_VERSIONS> l4_by_ip{};
    // Each keyed table's share of ipv4 + ipv6 that no entry holds (abi.h).
    std::array<Counter, TS_TABLES> table_overflow{};
    Counter table_unkeyed;
    // Each table's share that came while it was switched off at run time (trafstat control).
    std::array<Counter, TS_TABLES> table_paused{};
    std::array<Counter, TS_SIZE_BUCKETS> size_hist{};
    // Generic XDP: frames longer than the interface's largest wire frame (abi.h).
    Counter super_packets;

    Counter& operator[](ts_class c) { return cls[static_cast<std::size_t>(c)]; }
    const Counter& operator[](ts_class c) const { return cls[static_cast<std::size_t>(c)]; }
    friend bool operator==(const ClassCounters&, const ClassCounters&) = default;
};

// One half of the counters (abi.h, TS_STATS_HALVES): the parity of the
// epochs it holds, and what they counted since load, summed over CPUs.
struct HalfCounters {
    std::uint32_t half = 0;
    ClassCounters since_load;
};

// Stable names used in every output ("all", "ipv4", ..., "malformed_l4", "vlan", "pppoe").
std::string_view class_name(ts_class c);
// Inverse of class_name; nullopt for an unknown name.
std::optional<ts_class> class_from_name(std::string_view name);
// "ipv4" / "ipv6"
std::string_view ip_version_name(ts_ip_version v);

// Sums one value per possible CPU (as returned by a per-CPU map lookup).
ClassCounters sum_per_cpu(std::span<const ts_stats> per_cpu);

// now - before of one counter. Counters only grow; a smaller `now` means the
// counter started again (map or interface recreated), so the whole of `now` is new.
constexpr std::uint64_t grown(std::uint64_t now, std::uint64_t before)
{
    return now >= before ? now - before : now;
}

// now - before, field by field. Counters only grow; a field that went backwards
// (map recreated) yields `now` for that field rather than a huge wrapped value.
ClassCounters delta(const ClassCounters& now, const ClassCounters& before);

// Element-wise sum, for the "total" row over several attachments.
ClassCounters& operator+=(ClassCounters& acc, const ClassCounters& add);

// The packet-size histogram's buckets (RMON etherStats), by frame bytes.
struct SizeBucket {
    std::uint64_t min = 0;
    std::optional<std::uint64_t> max;  // none: and larger
};
SizeBucket size_bucket(std::size_t index);  // index < TS_SIZE_BUCKETS
// Each bucket's share of the histogram's packets, 0..1 (all 0 when empty).
std::array<double, TS_SIZE_BUCKETS> size_shares(const ClassCounters& c);

struct Rate {
    double pps = 0;
    double bps = 0;  // bits per second: bytes * 8 / seconds
};
// Rate of a delta over `seconds` (> 0; returns zeros for seconds <= 0).
Rate rate(const Counter& delta, double seconds);

// Checks the documented reconciliation rules (see abi.h). Returns one
// human-readable line per violated rule; empty when everything adds up.
std::vector<std::string> reconcile(const ClassCounters& c);
// With the histogram counted: its buckets hold every frame, so they add up
// to `all`. One line per violation.
std::vector<std::string> reconcile_histogram(const ClassCounters& c);

}  // namespace trafstat
