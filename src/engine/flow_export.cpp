#include "engine/flow_export.hpp"

#include <algorithm>
#include <cmath>

namespace trafstat {
namespace {

constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpRst = 0x04;
constexpr std::uint8_t kTcp = 6;

std::uint64_t ms_of(std::uint64_t ns)
{
    return ns / 1'000'000;
}

std::uint64_t to_ms(double s)
{
    return static_cast<std::uint64_t>(std::llround(s * 1000));
}

}  // namespace

FlowExport::FlowExport(FlowTimeouts timeouts, std::uint32_t ifindex, bool egress)
    : active_ms_(to_ms(timeouts.active_s)), idle_ms_(to_ms(timeouts.idle_s)), ifindex_(ifindex), egress_(egress)
{
    totals_.ifindex = ifindex;
    totals_.egress = egress;
}

void FlowExport::count(const ClassCounters& delta)
{
    const auto add = [](std::uint64_t& packets, std::uint64_t& octets, const Counter& c) {
        packets += c.packets;
        octets += c.bytes;
    };
    add(totals_.packets_total, totals_.octets_total, delta[TS_CLASS_IPV4]);
    add(totals_.packets_total, totals_.octets_total, delta[TS_CLASS_IPV6]);
    add(totals_.ignored_packets, totals_.ignored_octets, delta.table_overflow[TS_TABLE_FLOWS]);
    add(totals_.ignored_packets, totals_.ignored_octets, delta.table_paused[TS_TABLE_FLOWS]);
    add(totals_.ignored_packets, totals_.ignored_octets, delta.table_unkeyed);
}

FlowRecord FlowExport::record_of(const FlowKey& key, const Followed& f, EndReason why) const
{
    return FlowRecord{key, f.start_ms, f.last_ms, f.packets, f.octets, f.tcp_flags, ifindex_, egress_, why};
}

std::vector<FlowRecord> FlowExport::add(std::span<const FlowEntry> entries, std::uint64_t now_ms)
{
    std::vector<FlowRecord> out;
    for (const FlowEntry& e : merge_by_key(entries)) {
        Followed& f = flows_[e.key];
        if (f.packets == 0)
            f.start_ms = ms_of(e.stats.first_ns);
        f.start_ms = std::min(f.start_ms, ms_of(e.stats.first_ns));
        f.last_ms = std::max(f.last_ms, ms_of(e.stats.last_ns));
        f.packets += e.stats.packets;
        f.octets += e.stats.bytes;
        f.tcp_flags |= e.stats.tcp_flags;
        // A TCP flow ends with its FIN or RST: what follows (the last ACK)
        // starts another record, as with every flow exporter.
        if (e.key.proto == kTcp && (e.stats.tcp_flags & (kTcpFin | kTcpRst))) {
            out.push_back(record_of(e.key, f, EndReason::end_of_flow));
            flows_.erase(e.key);
        }
    }
    totals_.exported_records += out.size();
    const std::size_t ended = out.size();
    for (auto it = flows_.begin(); it != flows_.end();) {
        Followed& f = it->second;
        if (now_ms >= f.last_ms + idle_ms_) {
            if (f.packets)
                out.push_back(record_of(it->first, f, EndReason::idle_timeout));
            it = flows_.erase(it);
            continue;
        }
        if (f.packets && now_ms >= f.start_ms + active_ms_) {
            out.push_back(record_of(it->first, f, EndReason::active_timeout));
            // Followed on for its idle timer; the next delta starts with its next packet.
            f = Followed{0, f.last_ms, 0, 0, 0};
        }
        ++it;
    }
    totals_.exported_records += out.size() - ended;
    return out;
}

std::vector<FlowRecord> FlowExport::flush()
{
    std::vector<FlowRecord> out;
    for (const auto& [key, f] : flows_)
        if (f.packets)
            out.push_back(record_of(key, f, EndReason::forced_end));
    flows_.clear();
    totals_.exported_records += out.size();
    return out;
}

}  // namespace trafstat
