// The keyed tables of one attachment across a run, for the reports: each
// drained interval's entries become that interval's TableReports and views;
// the run's totals become the summary's, with keys idle longer than the
// idle timeout aged out of memory. Pure: the counting engine feeds it.
#pragma once

#include "engine/config.hpp"
#include "stats/flows.hpp"
#include "stats/report.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace trafstat {

class TableTracker {
public:
    // `interval_s`: the length of the intervals interval() closes (live -i,
    // replay's bins of capture time), over which idle keys are counted.
    TableTracker(const CountingConfig& config, double interval_s);

    // One drained interval: `raw` as drained (a slot per key and CPU). Sets
    // `into`'s tables and views, cut to `top` rows (0: all).
    void interval(const TableEntries& raw, const TableCapacities& capacity, std::size_t top, AttachmentReport& into);
    // Entries drained outside any interval line (the last partial interval, or
    // replay without -i): into the totals only.
    void absorb(const TableEntries& raw);
    // Since start; `all_rows`: the views whole (JSON), else cut to --top.
    void summary(const TableCapacities& capacity, bool all_rows, AttachmentReport& into) const;

private:
    // The view of `table` from its entries (one per key).
    void add_view(ViewsReport& v, int table, std::span<const FlowEntry> entries, std::size_t top) const;

    CountingConfig config_;
    std::uint64_t max_idle_intervals_ = 0;  // 0: keys never age
    std::array<FlowTotals, TS_TABLES> totals_;
};

}  // namespace trafstat
