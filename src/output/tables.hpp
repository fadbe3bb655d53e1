// The keyed table of one attachment across a run, for the reports: each
// drained interval's entries become that interval's TableReport and views;
// the run's totals become the summary's. Pure: live and replay feed it with
// what CounterProgram::drain_flows read.
#pragma once

#include "cli/options.hpp"
#include "output/report.hpp"
#include "stats/flows.hpp"

#include <span>
#include <string>
#include <utility>

namespace trafstat {

// "flows", "talkers" or "ports": what the table is keyed by.
std::string table_name(std::uint32_t key_fields);
// bps, pps, bytes, packets.
SortKey sort_key(const std::string& name);
// --talkers-by: total, src, dst.
TalkerSide talker_side(const std::string& name);

class TableTracker {
public:
    explicit TableTracker(const Options& o) : o_(o) {}

    // One drained interval: `raw` as drain_flows read it (a slot per key and
    // CPU); views cut to `top` rows (0: all).
    std::pair<TableReport, ViewsReport> interval(std::span<const FlowEntry> raw, std::size_t capacity,
                                                 std::size_t top);
    // Entries drained outside any interval line (the last partial interval, or
    // replay without -i): into the totals only.
    void absorb(std::span<const FlowEntry> raw) { totals_.add(raw); }
    // Since start; `all_rows`: the views whole (JSON), else cut to --top.
    std::pair<TableReport, ViewsReport> summary(std::size_t capacity, bool all_rows) const;

private:
    std::uint64_t max_idle_intervals() const;
    ViewsReport views_of(std::span<const FlowEntry> entries, std::size_t top) const;

    const Options& o_;
    FlowTotals totals_;
};

}  // namespace trafstat
