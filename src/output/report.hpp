// What the output layer renders: plain data, filled by the poll loop (live)
// and later by replay. Renderers never touch BPF.
#pragma once

#include "stats/counters.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace trafstat {

struct AttachmentReport {
    std::string ifname;     // "veth0"
    std::string hook;       // "xdp", "tc-ingress", "tc-egress"
    std::string mode;       // "native", "generic", "tcx", "clsact"
    ClassCounters counters;  // interval: the delta; summary: totals since start
};

struct IntervalReport {
    std::chrono::system_clock::time_point time;  // end of the interval
    double interval_s = 0;                       // measured length, not the nominal one
    std::vector<AttachmentReport> attachments;
};

struct SummaryReport {
    double duration_s = 0;
    std::vector<AttachmentReport> attachments;
};

// Sum over attachments (the "total" row/object).
ClassCounters total_of(const std::vector<AttachmentReport>& attachments);

}  // namespace trafstat
