#include "engine/tables.hpp"

#include <algorithm>
#include <cmath>

namespace trafstat {

namespace {

// The idle timeout in whole intervals, at least one; 0: no timeout.
std::uint64_t intervals_in(const std::optional<double>& timeout_s, double interval_s)
{
    if (!timeout_s)
        return 0;
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(*timeout_s / interval_s)));
}

}  // namespace

TableTracker::TableTracker(const CountingConfig& config, double interval_s)
    : config_(config), max_idle_intervals_(intervals_in(config.idle_timeout_s, interval_s))
{}

void TableTracker::add_view(ViewsReport& v, int table, std::span<const FlowEntry> entries, std::size_t top) const
{
    const SortKey key = config_.views.sort;
    switch (table) {
    case TS_TABLE_TALKERS: {
        v.talkers = talkers_of(entries);
        sort_top(*v.talkers, key, top, config_.views.talkers_by);
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
        if (!config_.counts(t))
            continue;
        // One entry per key (the CPUs' slots summed) serves both the totals and the view.
        const std::vector<FlowEntry> merged = merge_by_key(raw[t]);
        totals_[t].add(merged);
        totals_[t].end_interval(max_idle_intervals_);
        into.tables.push_back(
            {static_cast<ts_table>(t), std::string(table_name(t)), raw[t].size(), capacity[t], sum_of(merged), 0, {}});
        add_view(into.views, t, merged, top);
    }
}

void TableTracker::absorb(const TableEntries& raw)
{
    for (int t = 0; t < TS_TABLES; ++t)
        if (config_.counts(t))
            totals_[t].add(raw[t]);
}

void TableTracker::summary(const TableCapacities& capacity, bool all_rows, AttachmentReport& into) const
{
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!config_.counts(t))
            continue;
        const FlowTotals& k = totals_[t];
        into.tables.push_back({static_cast<ts_table>(t), std::string(table_name(t)), k.size(), capacity[t], k.counted(),
                               k.aged_keys(), k.aged()});
        add_view(into.views, t, k.entries(), all_rows ? 0 : config_.views.top);
    }
}

}  // namespace trafstat
