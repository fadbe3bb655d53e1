// A pinned attachment as the agent and `dump` serve it (docs/agent.md): its
// program adopted from the pins, its store of totals per key, and the drain
// that merges each closed epoch into that store. Whoever drains holds the
// attachment's lock (bpf/pins.hpp DirLock): one drainer at a time.
#pragma once

#include "bpf/key_totals.hpp"
#include "bpf/loader.hpp"
#include "engine/config.hpp"
#include "engine/engine.hpp"
#include "stats/report.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace trafstat {

class PinnedCounting {
public:
    explicit PinnedCounting(CounterProgram program);

    // Closes the counting epoch and merges it into the totals per key, after
    // any closed epoch that a drainer killed mid-way left unmerged, so that
    // no packet is lost or counted twice across restarts. Nothing to do
    // without a table. `observer` (the flow exporter) sees each epoch merged.
    void drain(const CountingEngine::EpochObserver& observer = {});

    // What every merged epoch counted: the same packets as the totals per
    // key (without a table, everything counted since attach).
    ClassCounters merged_counters() const;
    // Everything counted since attach, now.
    ClassCounters live_counters() const { return program_.read(); }

    CounterProgram& program() { return program_; }
    const CounterProgram& program() const { return program_; }
    KeyTotals& totals() { return totals_; }
    const KeyTotals& totals() const { return totals_; }

    // The report of everything merged (the dump): the merged counters, the
    // totals per key as the tables' entries, whatever the store could not
    // hold in each table's overflow, so that it reconciles as the live
    // summary does. `all_rows`: the views whole, else cut to views.top.
    AttachmentReport report(const std::string& ifname, const std::string& hook, const std::string& mode,
                            const ViewOptions& views, bool all_rows) const;

private:
    // Merges the closed epoch `epoch`, whose entries are in `entries`, and
    // records it (the counters' half as merged, last_merged_epoch).
    void merge(std::uint32_t epoch, const TableEntries& entries, const CountingEngine::EpochObserver& observer);

    CounterProgram program_;
    KeyTotals totals_;
};

}  // namespace trafstat
