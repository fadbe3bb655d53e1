// The report model: plain data that the counting engine fills (live, replay,
// and next the agent) and the output layer renders. Renderers never touch BPF.
#pragma once

#include "stats/counters.hpp"
#include "stats/drops.hpp"
#include "stats/views.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trafstat {

// One keyed table of one attachment (docs/tables.md). Its overflow and
// unkeyed counts are in the attachment's counters (table_overflow[id]).
struct TableReport {
    ts_table id = TS_TABLE_FLOWS;
    std::string name;            // table_name(id): "talkers", "ports" or "flows"
    std::uint64_t entries = 0;   // interval: slots in use; summary: distinct keys since start
    std::uint64_t capacity = 0;  // slots per interval, all CPUs together
    Counter counted;             // what its entries hold: + overflow + unkeyed = ipv4 + ipv6
    // Summary: keys aged out of memory (idle longer than --idle-timeout) and
    // what they held; their counts are in `counted`, not in the views.
    std::uint64_t aged_keys = 0;
    Counter aged;
};

// The views asked for (--talkers, --ports, --flows), sorted, cut to --top
// (interval lines; the JSON summary has them whole).
struct ViewsReport {
    std::optional<std::vector<Talker>> talkers{};
    std::optional<std::vector<Port>> ports{};
    std::optional<std::vector<FlowEntry>> flows{};
};

struct AttachmentReport {
    std::string ifname;                 // "veth0"
    std::string hook;                   // "xdp", "tc-ingress", "tc-egress"
    std::string mode;                   // "native", "generic", "tcx", "clsact"
    ClassCounters counters;             // interval: the delta; summary: totals since start
    std::vector<TableReport> tables{};  // the keyed tables that are on, in enum ts_table order
    bool histogram = false;             // counters.size_hist is counted
    // Generic XDP: counters.super_packets is counted, and each GSO
    // super-packet counts as the wire segments it stands for.
    bool super_packets = false;
    ViewsReport views{};
};

struct IntervalReport {
    std::chrono::system_clock::time_point time;  // end of the interval
    double interval_s = 0;                       // measured length, not the nominal one
    std::vector<AttachmentReport> attachments;
    std::optional<DropsReport> drops{};  // --drops: what was dropped in the interval
};

struct SummaryReport {
    double duration_s = 0;
    std::vector<AttachmentReport> attachments;
    std::optional<DropsReport> drops{};  // --drops: since start, every dropped flow (JSON) or the top
};

// Sum over attachments (the "total" row/object).
ClassCounters total_of(const std::vector<AttachmentReport>& attachments);

}  // namespace trafstat
