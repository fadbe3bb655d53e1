#include "output/tables.hpp"

#include <algorithm>
#include <cmath>

namespace trafstat {

std::uint64_t TableTracker::max_idle_intervals() const
{
    if (!o_.idle_timeout_s)
        return 0;
    // Intervals of live time (-i) or of capture time (replay -i); at least one.
    const double interval = o_.command == Command::replay ? o_.replay_bin_s.value_or(1.0) : o_.interval_s;
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(*o_.idle_timeout_s / interval)));
}

void TableTracker::add_view(ViewsReport& v, int table, std::span<const FlowEntry> entries, std::size_t top) const
{
    const SortKey key = sort_key(o_.sort);
    switch (table) {
    case TS_TABLE_TALKERS: {
        v.talkers = talkers_of(entries);
        sort_top(*v.talkers, key, top, talker_side(o_.talkers_by));
        break;
    }
    case TS_TABLE_PORTS:
        v.ports = ports_of(entries);
        sort_top(*v.ports, key, top);
        break;
    default:
        v.flows = std::vector<FlowEntry>(entries.begin(), entries.end());
        sort_top(*v.flows, key, top);
        break;
    }
}

void TableTracker::interval(const TableEntries& raw, const TableCapacities& capacity, std::size_t top,
                            AttachmentReport& into)
{
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!on(t))
            continue;
        // One entry per key (the CPUs' slots summed) serves both the totals and the view.
        const std::vector<FlowEntry> merged = merge_by_key(raw[t]);
        totals_[t].add(merged);
        totals_[t].end_interval(max_idle_intervals());
        into.tables.push_back({static_cast<ts_table>(t), table_name(t), raw[t].size(), capacity[t], sum_of(merged), 0, {}});
        add_view(into.views, t, merged, top);
    }
}

void TableTracker::absorb(const TableEntries& raw)
{
    for (int t = 0; t < TS_TABLES; ++t)
        if (on(t))
            totals_[t].add(raw[t]);
}

void TableTracker::summary(const TableCapacities& capacity, bool all_rows, AttachmentReport& into) const
{
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!on(t))
            continue;
        const FlowTotals& k = totals_[t];
        into.tables.push_back({static_cast<ts_table>(t), table_name(t), k.size(), capacity[t], k.counted(),
                               k.aged_keys(), k.aged()});
        add_view(into.views, t, k.entries(), all_rows ? 0 : o_.top);
    }
}

}  // namespace trafstat
