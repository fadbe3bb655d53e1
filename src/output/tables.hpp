// The keyed tables of one attachment across a run, for the reports: each
// drained interval's entries become that interval's TableReports and views;
// the run's totals become the summary's. Pure: live and replay feed it with
// what CounterProgram::drain_tables read.
#pragma once

#include "cli/options.hpp"
#include "output/report.hpp"
#include "stats/flows.hpp"

#include <array>
#include <cstddef>
#include <string>

namespace trafstat {

class TableTracker {
public:
    explicit TableTracker(const Options& o) : o_(o) {}

    // One drained interval: `raw` as drain_tables read it (a slot per key and
    // CPU). Sets `into`'s tables and views, cut to `top` rows (0: all).
    void interval(const TableEntries& raw, const TableCapacities& capacity, std::size_t top,
                  AttachmentReport& into);
    // Entries drained outside any interval line (the last partial interval, or
    // replay without -i): into the totals only.
    void absorb(const TableEntries& raw);
    // Since start; `all_rows`: the views whole (JSON), else cut to --top.
    void summary(const TableCapacities& capacity, bool all_rows, AttachmentReport& into) const;

private:
    std::uint64_t max_idle_intervals() const;
    bool on(int table) const { return o_.tables & TS_TABLE_BIT(table); }
    // The view of `table` from its entries (one per key).
    void add_view(ViewsReport& v, int table, std::span<const FlowEntry> entries, std::size_t top) const;

    const Options& o_;
    std::array<FlowTotals, TS_TABLES> totals_;
};

}  // namespace trafstat
