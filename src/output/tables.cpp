#include "output/tables.hpp"

#include <algorithm>
#include <cmath>

namespace trafstat {

std::string table_name(std::uint32_t key_fields)
{
    if ((key_fields & TS_KEY_ADDRS) && (key_fields & TS_KEY_PORTS))
        return "flows";
    return key_fields & TS_KEY_ADDRS ? "talkers" : "ports";
}

SortKey sort_key(const std::string& name)
{
    return name == "pps" ? SortKey::pps : name == "bytes" ? SortKey::bytes : name == "packets" ? SortKey::packets
                                                                                                 : SortKey::bps;
}

TalkerSide talker_side(const std::string& name)
{
    return name == "src" ? TalkerSide::src : name == "dst" ? TalkerSide::dst : TalkerSide::total;
}

std::uint64_t TableTracker::max_idle_intervals() const
{
    if (!o_.idle_timeout_s)
        return 0;
    // Intervals of live time (-i) or of capture time (replay -i); at least one.
    const double interval = o_.command == Command::replay ? o_.replay_bin_s.value_or(1.0) : o_.interval_s;
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(*o_.idle_timeout_s / interval)));
}

ViewsReport TableTracker::views_of(std::span<const FlowEntry> entries, std::size_t top) const
{
    ViewsReport v;
    const SortKey key = sort_key(o_.sort);
    if (o_.show_talkers) {
        v.talkers = talkers_of(entries);
        sort_top(*v.talkers, key, top, talker_side(o_.talkers_by));
    }
    if (o_.show_ports) {
        v.ports = ports_of(entries);
        sort_top(*v.ports, key, top);
    }
    if (o_.show_flows) {
        v.flows = std::vector<FlowEntry>(entries.begin(), entries.end());
        sort_top(*v.flows, key, top);
    }
    return v;
}

std::pair<TableReport, ViewsReport> TableTracker::interval(std::span<const FlowEntry> raw, std::size_t capacity,
                                                          std::size_t top)
{
    // One entry per key (the CPUs' slots summed) serves both the totals and the views.
    const std::vector<FlowEntry> merged = merge_by_key(raw);
    totals_.add(merged);
    totals_.end_interval(max_idle_intervals());
    TableReport t{table_name(o_.flow_key_fields), raw.size(), capacity, sum_of(merged), 0, {}};
    return {std::move(t), views_of(merged, top)};
}

std::pair<TableReport, ViewsReport> TableTracker::summary(std::size_t capacity, bool all_rows) const
{
    TableReport t{table_name(o_.flow_key_fields), totals_.size(), capacity, totals_.counted(), totals_.aged_keys(),
                  totals_.aged()};
    return {std::move(t), views_of(totals_.entries(), all_rows ? 0 : o_.top)};
}

}  // namespace trafstat
