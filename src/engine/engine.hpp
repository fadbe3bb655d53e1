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

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace trafstat {

// How reports name the attachment: "veth0", "xdp", "native".
struct AttachmentLabel {
    std::string ifname;
    std::string hook;
    std::string mode;
    bool super_packets = false;  // generic XDP: super-packets counted (AttachmentReport)
};

class CountingEngine {
public:
    // `interval_s`: the length of the intervals interval() closes, for the
    // idle timeout (live -i; replay, its bins of capture time).
    CountingEngine(std::unique_ptr<CounterSource> source, const CountingConfig& config, double interval_s,
                   AttachmentLabel label);

    const AttachmentLabel& label() const { return label_; }

    // Closes the counting epoch now, keeping what it counted for the next
    // interval() (replay closes one every so many frames, so per-CPU table
    // slots never fill).
    void close_epoch();
    // Called with every epoch closed from now on: its flows table's entries
    // (one or more per key) and its counters' delta. The flow exporter's feed.
    using EpochObserver = std::function<void(std::span<const FlowEntry> flows, const ClassCounters& delta)>;
    void observe_epochs(EpochObserver observer) { observer_ = std::move(observer); }
    // Closes an interval: what the epochs closed since the last interval (the
    // first: since load) counted, counters and table entries alike, so that
    // every line reconciles. Views cut to `top` rows (0: all).
    AttachmentReport interval(std::size_t top);
    // Closes the epoch into the run's totals without a report (the last
    // partial interval; replay without intervals).
    void absorb();
    // Totals of every closed epoch, after closing the current one; `all_rows`:
    // the views whole, else cut to the configured top. Detach first, and it
    // holds every packet the program counted.
    AttachmentReport summary(bool all_rows);

    // The documented rules (abi.h) a report must keep: the classes add up,
    // the histogram holds every frame, and each table's entries + its
    // overflow + unkeyed = ipv4 + ipv6. One line per violation; empty when it
    // all adds up.
    static std::vector<std::string> reconcile(const AttachmentReport& report);

private:
    AttachmentReport blank() const;

    std::unique_ptr<CounterSource> source_;
    CountingConfig config_;
    AttachmentLabel label_;
    std::array<ClassCounters, TS_STATS_HALVES> last_{};  // each half as last closed
    ClassCounters pending_counters_;                     // closed, not yet in a report
    TableEntries pending_entries_;                       // likewise
    ClassCounters total_;                                // every epoch reported or absorbed
    std::optional<TableTracker> tables_;                 // when a table is on
    EpochObserver observer_;
};

}  // namespace trafstat
