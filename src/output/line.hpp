// Human line output: one aligned block per interval, and a final summary block.
#pragma once

#include "output/report.hpp"

#include <string>

namespace trafstat {

struct LineOptions {
    bool hide_zero = false;  // hide classes with no packets in this block (never "all")
};

// Block for one interval. Layout (columns aligned, units automatic, local time):
//   15:04:05  veth0 xdp/native
//   class                pps         bps     packets         bytes
//   all            1.23 Kpps   12.3 Mbps        1234       1540000
//   ...
// One sub-block per attachment, then a "total" sub-block when there is more than one,
// separated by an empty line. Every line ends with '\n', and the block ends with an
// empty line that separates it from the next interval: print it as is.
// With --drops (r.drops), a drops section follows the interfaces: per interface
// and direction that dropped, the total (pps, bps, packets, bytes), the top
// reasons with their classes, the top dropped flows, the flow table's overflow;
// the interface's own counters that moved ("link counters (driver and stack)");
// "drops: none on veth0" when nothing moved at all, a line -z hides.
std::string render_interval(const IntervalReport& r, const LineOptions& o);
// Totals since start with average rates over duration_s, the same layout with
// "summary after 12.3s" in place of the time, drops in packets and bytes.
// Ends with '\n' (no empty line).
std::string render_summary(const SummaryReport& r, const LineOptions& o);

}  // namespace trafstat
