// The counting engine: one per counting program (an attachment, a replay).
// It owns what it reads (the loaded program, through CounterSource), the
// last counters, the keyed tables' tracker with its ageing, and the
// reconciliation, and produces the interval and summary reports that every
// front end renders. Pure apart from its source: unit-tested with a fake.
#pragma once

#include "engine/config.hpp"
#include "engine/source.hpp"
#include "engine/tables.hpp"
#include "stats/report.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trafstat {

// How reports name the attachment: "veth0", "xdp", "native".
struct AttachmentLabel {
    std::string ifname;
    std::string hook;
    std::string mode;
};

class CountingEngine {
public:
    // `interval_s`: the length of the intervals interval() closes, for the
    // idle timeout (live -i; replay, its bins of capture time).
    CountingEngine(std::unique_ptr<CounterSource> source, const CountingConfig& config, double interval_s,
                   AttachmentLabel label);

    CounterSource& source() { return *source_; }
    const AttachmentLabel& label() const { return label_; }

    // Drains the keyed tables now, keeping the entries for the next interval()
    // (replay drains every so many frames, so per-CPU slots never fill).
    void drain_tables();
    // Closes an interval: the tables first (a live drain waits for running
    // programs, so the counters read after it hold every packet the entries
    // hold), then the counters, as the delta since the last interval (the
    // first: since load). Views cut to `top` rows (0: all).
    AttachmentReport interval(std::size_t top);
    // Drains the tables into the run's totals without a report (the last
    // partial interval; replay without intervals).
    void absorb();
    // Totals since load, after absorbing what is still in the tables;
    // `all_rows`: the views whole, else cut to the configured top.
    AttachmentReport summary(bool all_rows);

    // The documented rules (abi.h) a report must keep: the classes add up, and
    // each table's entries + its overflow + unkeyed = ipv4 + ipv6. One line
    // per violation; empty when it all adds up.
    static std::vector<std::string> reconcile(const AttachmentReport& report);

private:
    AttachmentReport blank() const;

    std::unique_ptr<CounterSource> source_;
    CountingConfig config_;
    AttachmentLabel label_;
    ClassCounters last_{};
    std::optional<TableTracker> tables_;  // when a table is on
    TableEntries pending_;                // drained, not yet in a report
};

}  // namespace trafstat
