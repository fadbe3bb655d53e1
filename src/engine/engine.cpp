#include "engine/engine.hpp"

#include <utility>

namespace trafstat {

CountingEngine::CountingEngine(std::unique_ptr<CounterSource> source, const CountingConfig& config, double interval_s,
                               AttachmentLabel label)
    : source_(std::move(source)), config_(config), label_(std::move(label))
{
    if (config_.tables)
        tables_.emplace(config_, interval_s);
}

AttachmentReport CountingEngine::blank() const
{
    AttachmentReport r{label_.ifname, label_.hook, label_.mode, {}};
    r.histogram = config_.histogram;
    r.super_packets = label_.super_packets;
    return r;
}

void CountingEngine::close_epoch()
{
    TableEntries fresh;
    const HalfCounters closed = source_->close_epoch(observer_ ? fresh : pending_entries_);
    ClassCounters& last = last_[closed.half & 1];
    const ClassCounters counted = delta(closed.since_load, last);
    pending_counters_ += counted;
    last = closed.since_load;
    if (!observer_)
        return;
    observer_(fresh[TS_TABLE_FLOWS], counted);
    for (int t = 0; t < TS_TABLES; ++t)
        pending_entries_[t].insert(pending_entries_[t].end(), fresh[t].begin(), fresh[t].end());
}

AttachmentReport CountingEngine::interval(std::size_t top)
{
    close_epoch();
    AttachmentReport r = blank();
    r.counters = std::exchange(pending_counters_, {});
    total_ += r.counters;
    if (tables_)
        tables_->interval(pending_entries_, source_->table_capacities(), top, r);
    pending_entries_ = {};
    return r;
}

void CountingEngine::absorb()
{
    close_epoch();
    total_ += std::exchange(pending_counters_, {});
    if (tables_)
        tables_->absorb(pending_entries_);
    pending_entries_ = {};
}

AttachmentReport CountingEngine::summary(bool all_rows)
{
    absorb();
    AttachmentReport r = blank();
    r.counters = total_;
    if (tables_)
        tables_->summary(source_->table_capacities(), all_rows, r);
    return r;
}

std::vector<std::string> CountingEngine::reconcile(const AttachmentReport& report)
{
    std::vector<std::string> out = trafstat::reconcile(report.counters);
    if (report.histogram) {
        auto histogram = reconcile_histogram(report.counters);
        out.insert(out.end(), histogram.begin(), histogram.end());
    }
    for (const TableReport& t : report.tables) {
        auto table = reconcile_table(report.counters, t.id, t.counted);
        out.insert(out.end(), table.begin(), table.end());
    }
    return out;
}

}  // namespace trafstat
