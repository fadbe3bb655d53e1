// Flow records from the flows table, for export (docs/ipfix.md): each key is
// followed from its first drained share, and exported as a delta when it
// ends (TCP FIN or RST), when it has been idle for the idle timeout, every
// active timeout while it lasts, and at the exporter's end. Pure: fed with
// drained entries and the time, unit-tested without a kernel.
#pragma once

#include "stats/flow_records.hpp"
#include "stats/flows.hpp"

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace trafstat {

struct FlowTimeouts {
    double active_s = 60;  // a flow that lasts is exported this often
    double idle_s = 15;    // a flow with no packet for this long has ended
};

class FlowExport {
public:
    // The attachment's interface and direction, put in every record.
    FlowExport(FlowTimeouts timeouts, std::uint32_t ifindex, bool egress);

    // One drained epoch of the flows table (one or more entries per key,
    // dated by their first_ns/last_ns), up to `now_ms` (Unix ms; replay:
    // capture time). Returns the records due: flows ended, idle, or active
    // for the active timeout.
    std::vector<FlowRecord> add(std::span<const FlowEntry> entries, std::uint64_t now_ms);
    // Every flow still followed, as a record that ends it (forced end).
    std::vector<FlowRecord> flush();

    // The counters of the same epochs (their delta): what the flows table
    // could not hold, and every IP packet, for the totals record.
    void count(const ClassCounters& delta);
    // The account so far; `not_sent_records` is the transport's to fill in.
    ExporterTotals totals() const { return totals_; }

    std::size_t followed() const { return flows_.size(); }

private:
    struct Followed {
        std::uint64_t start_ms = 0;  // of the delta not exported yet
        std::uint64_t last_ms = 0;   // its last packet
        std::uint64_t packets = 0;
        std::uint64_t octets = 0;
        std::uint8_t tcp_flags = 0;
    };
    FlowRecord record_of(const FlowKey& key, const Followed& f, EndReason why) const;

    std::uint64_t active_ms_;
    std::uint64_t idle_ms_;
    std::uint32_t ifindex_;
    bool egress_;
    std::unordered_map<FlowKey, Followed, FlowKeyHash> flows_;
    ExporterTotals totals_;
};

}  // namespace trafstat
