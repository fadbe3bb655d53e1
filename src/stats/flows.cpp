#include "stats/flows.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <unordered_map>

namespace trafstat {

void FlowStats::merge(const FlowStats& other)
{
    if (other.packets == 0)
        return;
    if (packets == 0 || other.first_ns < first_ns)
        first_ns = other.first_ns;
    last_ns = std::max(last_ns, other.last_ns);
    packets += other.packets;
    bytes += other.bytes;
    tcp_flags |= other.tcp_flags;
}

std::size_t FlowKeyHash::operator()(const FlowKey& k) const noexcept
{
    // FNV-1a over the fields: keys come from the kernel, not from an attacker
    // able to choose collisions against this process.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](const std::uint8_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 1099511628211ULL;
        }
    };
    mix(k.src.data(), k.src.size());
    mix(k.dst.data(), k.dst.size());
    const std::uint8_t rest[6] = {static_cast<std::uint8_t>(k.sport >> 8),
                                  static_cast<std::uint8_t>(k.sport),
                                  static_cast<std::uint8_t>(k.dport >> 8),
                                  static_cast<std::uint8_t>(k.dport),
                                  k.proto,
                                  k.ip_version};
    mix(rest, sizeof rest);
    return static_cast<std::size_t>(h);
}

FlowKey flow_key_of(const ts_flow_key& k)
{
    FlowKey out;
    std::memcpy(out.src.data(), k.src, sizeof k.src);
    std::memcpy(out.dst.data(), k.dst, sizeof k.dst);
    out.sport = k.sport;
    out.dport = k.dport;
    out.proto = k.proto;
    out.ip_version = k.ip_version;
    return out;
}

ts_flow_key kernel_key_of(const FlowKey& k)
{
    ts_flow_key out{};
    std::memcpy(out.src, k.src.data(), sizeof out.src);
    std::memcpy(out.dst, k.dst.data(), sizeof out.dst);
    out.sport = k.sport;
    out.dport = k.dport;
    out.proto = k.proto;
    out.ip_version = k.ip_version;
    return out;
}

std::vector<FlowEntry> merge_by_key(std::span<const FlowEntry> entries)
{
    std::unordered_map<FlowKey, std::size_t, FlowKeyHash> index;
    index.reserve(entries.size());
    std::vector<FlowEntry> out;
    out.reserve(entries.size());
    for (const FlowEntry& e : entries) {
        auto [it, fresh] = index.try_emplace(e.key, out.size());
        if (fresh)
            out.push_back(e);
        else
            out[it->second].stats.merge(e.stats);
    }
    return out;
}

void FlowTotals::add(std::span<const FlowEntry> interval)
{
    for (const FlowEntry& e : interval) {
        Kept& k = totals_[e.key];
        k.stats.merge(e.stats);
        k.last_interval = interval_;
    }
    const Counter c = sum_of(interval);
    counted_.packets += c.packets;
    counted_.bytes += c.bytes;
}

void FlowTotals::end_interval(std::uint64_t max_idle)
{
    ++interval_;
    if (!max_idle)
        return;
    std::erase_if(totals_, [&](const auto& item) {
        const Kept& k = item.second;
        if (interval_ - 1 - k.last_interval <= max_idle)  // whole intervals without the key
            return false;
        aged_.packets += k.stats.packets;
        aged_.bytes += k.stats.bytes;
        ++aged_keys_;
        return true;
    });
}

Counter sum_of(std::span<const FlowEntry> entries)
{
    Counter c;
    for (const FlowEntry& e : entries) {
        c.packets += e.stats.packets;
        c.bytes += e.stats.bytes;
    }
    return c;
}

std::vector<FlowEntry> FlowTotals::entries() const
{
    std::vector<FlowEntry> out;
    out.reserve(totals_.size());
    for (const auto& [key, kept] : totals_)
        out.push_back({key, kept.stats});
    return out;
}

std::vector<std::string> reconcile_table(const ClassCounters& totals, ts_table which, const Counter& counted)
{
    const Counter& overflow = totals.table_overflow[which];
    const Counter& paused = totals.table_paused[which];
    const Counter table{counted.packets + overflow.packets + paused.packets + totals.table_unkeyed.packets,
                        counted.bytes + overflow.bytes + paused.bytes + totals.table_unkeyed.bytes};
    const Counter& v4 = totals[TS_CLASS_IPV4];
    const Counter& v6 = totals[TS_CLASS_IPV6];
    const Counter ip{v4.packets + v6.packets, v4.bytes + v6.bytes};
    std::vector<std::string> out;
    if (table.packets != ip.packets)
        out.push_back(fmt::format("{}.packets {} != ipv4 + ipv6 {}", table_name(which), table.packets, ip.packets));
    if (table.bytes != ip.bytes)
        out.push_back(fmt::format("{}.bytes {} != ipv4 + ipv6 {}", table_name(which), table.bytes, ip.bytes));
    return out;
}

std::vector<std::string> reconcile_table(const ClassCounters& totals, ts_table which,
                                         std::span<const FlowEntry> entries)
{
    return reconcile_table(totals, which, sum_of(entries));
}

}  // namespace trafstat
