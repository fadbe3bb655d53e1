#include "engine/engine.hpp"

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
    return r;
}

void CountingEngine::drain_tables()
{
    if (tables_)
        source_->drain_tables(pending_);
}

AttachmentReport CountingEngine::interval(std::size_t top)
{
    AttachmentReport r = blank();
    if (tables_) {
        drain_tables();
        tables_->interval(pending_, source_->table_capacities(), top, r);
        pending_ = {};
    }
    const ClassCounters now = source_->read();
    r.counters = delta(now, last_);
    last_ = now;
    return r;
}

void CountingEngine::absorb()
{
    if (!tables_)
        return;
    drain_tables();
    tables_->absorb(pending_);
    pending_ = {};
}

AttachmentReport CountingEngine::summary(bool all_rows)
{
    AttachmentReport r = blank();
    if (tables_) {
        absorb();
        tables_->summary(source_->table_capacities(), all_rows, r);
    }
    r.counters = source_->read();
    return r;
}

std::vector<std::string> CountingEngine::reconcile(const AttachmentReport& report)
{
    std::vector<std::string> out = trafstat::reconcile(report.counters);
    for (const TableReport& t : report.tables) {
        auto table = reconcile_table(report.counters, t.id, t.counted);
        out.insert(out.end(), table.begin(), table.end());
    }
    return out;
}

}  // namespace trafstat
