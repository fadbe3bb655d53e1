#include "engine/pinned.hpp"

#include <chrono>
#include <utility>

namespace trafstat {
namespace {

std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// What the store holds, as one closed epoch of a counting source: the
// engine then makes of it the summary every front end renders.
class StoredSource final : public CounterSource {
public:
    StoredSource(ClassCounters counters, TableEntries entries, TableCapacities capacities)
        : counters_(std::move(counters)), entries_(std::move(entries)), capacities_(capacities)
    {}
    HalfCounters close_epoch(TableEntries& out) override
    {
        out = std::exchange(entries_, {});
        return {0, std::exchange(counters_, {})};
    }
    TableCapacities table_capacities() const override { return capacities_; }

private:
    ClassCounters counters_;
    TableEntries entries_;
    TableCapacities capacities_;
};

}  // namespace

PinnedCounting::PinnedCounting(CounterProgram program) : program_(std::move(program)), totals_(program_.key_totals_fd())
{}

void PinnedCounting::merge(std::uint32_t epoch, const TableEntries& entries,
                           const CountingEngine::EpochObserver& observer)
{
    ts_control& c = program_.control();
    // Odd while written: a reader that sees it odd, or changed, reads again.
    __atomic_store_n(&c.merge_seq, c.merge_seq | 1, __ATOMIC_SEQ_CST);
    // The observer sees what this merge adds: after a restart, not what the killed drainer merged.
    const TableEntries merged = totals_.merge(epoch, entries, now_ns());
    const ts_stats half = program_.read_half_raw(epoch);
    if (observer)
        observer(merged[TS_TABLE_FLOWS], delta(sum_per_cpu({&half, 1}), sum_per_cpu({&c.merged_halves[epoch & 1], 1})));
    c.merged_halves[epoch & 1] = half;
    for (int t = 0; t < TS_TABLES; ++t) {
        c.table_occupancy[t] = static_cast<__u32>(entries[t].size());
        c.keys_kept[t] = static_cast<__u32>(totals_.table(t).size());
    }
    c.last_merged_epoch = epoch;
    __atomic_store_n(&c.merge_seq, c.merge_seq + 1, __ATOMIC_SEQ_CST);
}

void PinnedCounting::drain(const CountingEngine::EpochObserver& observer)
{
    if (!program_.tables_on())
        return;
    ts_control& c = program_.control();
    const std::uint32_t current = __atomic_load_n(&c.counting_epoch, __ATOMIC_SEQ_CST);
    // Only drainers move the epoch, and each merges what it closed before it
    // closes another: at most the one before the current can be unmerged.
    const std::uint32_t closed = current - 1;
    if (closed != 0 && c.last_merged_epoch != closed) {
        TableEntries left;
        program_.read_closed_epoch(closed, left);
        merge(closed, left, observer);
    }
    TableEntries entries;
    const std::uint32_t epoch = program_.table_epoch();
    program_.drain_tables(entries);
    merge(epoch, entries, observer);
}

ClassCounters PinnedCounting::merged_counters() const
{
    if (!program_.tables_on())
        return program_.read();
    const ts_control& c = program_.control();
    // sum_per_cpu adds values up as it does a CPU's: here, the two halves.
    return sum_per_cpu(c.merged_halves);
}

AttachmentReport PinnedCounting::report(const std::string& ifname, const std::string& hook, const std::string& mode,
                                        const ViewOptions& views, bool all_rows) const
{
    CountingConfig config;
    config.tables = program_.tables_on();
    config.histogram = (program_.control().flags & TS_CONTROL_HISTOGRAM) != 0;
    config.views = views;
    config.idle_timeout_s = std::nullopt;  // the store keeps every key: none ages
    ClassCounters counters = merged_counters();
    TableEntries entries;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!config.counts(t))
            continue;
        entries[t] = totals_.entries(t);
        const Counter other = totals_.other(t);
        counters.table_overflow[t].packets += other.packets;
        counters.table_overflow[t].bytes += other.bytes;
    }
    CountingEngine engine(
        std::make_unique<StoredSource>(std::move(counters), std::move(entries), program_.table_capacities()), config,
        1.0, AttachmentLabel{ifname, hook, mode, false});
    return engine.summary(all_rows);
}

}  // namespace trafstat
