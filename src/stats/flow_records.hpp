// Flow records as exported (IPFIX, docs/ipfix.md): each a delta of one flow
// of the flows table over part of its life, with why it ended; and the
// totals that let a collector check that nothing was lost. Pure data: the
// engine makes them (engine/flow_export), output/ipfix encodes them.
#pragma once

#include "base/names.hpp"
#include "stats/flows.hpp"

#include <cstdint>

namespace trafstat {

// flowEndReason (IANA IPFIX IE 136).
enum class EndReason : std::uint8_t {
    idle_timeout = 1,
    active_timeout = 2,
    end_of_flow = 3,  // TCP FIN or RST seen
    forced_end = 4,   // the exporter stops
    lack_of_resources = 5,
};
inline constexpr auto kEndReasonNames = name_table<EndReason>({
    {EndReason::idle_timeout, "idle-timeout", "no packet for the idle timeout"},
    {EndReason::active_timeout, "active-timeout", "still active at the active timeout (a long flow's share)"},
    {EndReason::end_of_flow, "end-of-flow", "TCP FIN or RST seen"},
    {EndReason::forced_end, "forced-end", "trafstat stopped (exit, end of the capture)"},
    {EndReason::lack_of_resources, "lack-of-resources", "the flow table was full"},
});

struct FlowRecord {
    FlowKey key;                 // ip_version picks the template; ICMP: sport = type, dport = code
    std::uint64_t start_ms = 0;  // Unix ms: the first packet of this delta
    std::uint64_t end_ms = 0;    // the last
    std::uint64_t packets = 0;   // deltas; bytes as trafstat counts them (L2, docs/ipfix.md)
    std::uint64_t octets = 0;
    std::uint8_t tcp_flags = 0;  // OR of the flags seen in this delta
    std::uint32_t ifindex = 0;   // ingressInterface, or egressInterface with `egress`
    bool egress = false;         // flowDirection
    EndReason end_reason = EndReason::active_timeout;
    friend bool operator==(const FlowRecord&, const FlowRecord&) = default;
};

// One exporter's account of one attachment, as of its last records: what
// the records hold plus `ignored` is every IP packet seen, once every flow
// has ended (docs/ipfix.md).
struct ExporterTotals {
    std::uint32_t ifindex = 0;
    bool egress = false;
    std::uint64_t ignored_packets = 0;  // the flows table's overflow, unkeyed and paused
    std::uint64_t ignored_octets = 0;
    std::uint64_t exported_records = 0;  // records handed to the transport
    std::uint64_t not_sent_records = 0;  // of those, records it could not send
    std::uint64_t packets_total = 0;     // IP packets and bytes seen
    std::uint64_t octets_total = 0;
    friend bool operator==(const ExporterTotals&, const ExporterTotals&) = default;
};

}  // namespace trafstat
