#include "app/replay.hpp"

#include "attach/privileges.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "output/tables.hpp"
#include "output/writer.hpp"
#include "replay/capture.hpp"
#include "replay/linktype.hpp"
#include "replay/runner.hpp"
#include "base/signals.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

namespace trafstat {
namespace {

using Clock = std::chrono::steady_clock;
// Capture timestamps are arbitrary 64-bit values: bin arithmetic is done wider.
__extension__ typedef __int128 Wide;

std::chrono::system_clock::time_point capture_time(std::int64_t ns)
{
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns)));
}

std::int64_t clamp_ns(Wide ns)
{
    return static_cast<std::int64_t>(std::clamp<Wide>(ns, std::numeric_limits<std::int64_t>::min(),
                                                          std::numeric_limits<std::int64_t>::max()));
}

// Progress on a terminal's stderr for long replays; silent otherwise.
class Progress {
public:
    explicit Progress(std::string name) : name_(std::move(name)), enabled_(isatty(STDERR_FILENO) == 1) {}
    void tick(std::uint64_t records)
    {
        if (!enabled_ || (records & 0xffff) != 0)
            return;
        auto now = Clock::now();
        if (now - last_ < std::chrono::milliseconds(500))
            return;
        last_ = now;
        double s = std::chrono::duration<double>(now - start_).count();
        std::fprintf(stderr, "\rtrafstat: %s: %llu packets replayed (%.2f Mpps)", name_.c_str(),
                     static_cast<unsigned long long>(records), s > 0 ? static_cast<double>(records) / s / 1e6 : 0.0);
        shown_ = true;
    }
    ~Progress()
    {
        if (shown_)
            std::fputs("\r\033[K", stderr);
    }

private:
    std::string name_;
    bool enabled_;
    bool shown_ = false;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_ = start_;
};

// Interval lines in capture time: bins [t0 + k*width, t0 + (k+1)*width).
// The keyed table in replay: drained every kDrainEvery records (so that its
// per-CPU slots never fill with more than one drain's keys), and at each bin.
class Table {
public:
    static constexpr std::uint64_t kDrainEvery = 65536;

    Table(const Options& o, ReplayRunner& runner) : o_(o), on_(o.tables != 0), runner_(runner), tracker_(o) {}
    bool on() const { return on_; }
    // After a record: drains now and then (all runs finished first).
    void tick(std::uint64_t records, bool binned)
    {
        if (!on_ || records % kDrainEvery != 0)
            return;
        runner_.drain();
        runner_.drain_tables(pending_);
        if (!binned) {
            tracker_.absorb(pending_);
            pending_ = {};
        }
    }
    // A bin's table and views (runs drained by the caller).
    void close_bin(AttachmentReport& r)
    {
        if (!on_)
            return;
        runner_.drain_tables(pending_);
        tracker_.interval(pending_, runner_.table_capacities(), o_.top, r);
        pending_ = {};
    }
    void summary(AttachmentReport& r, bool all_rows)
    {
        if (!on_)
            return;
        runner_.drain_tables(pending_);
        tracker_.absorb(pending_);
        pending_ = {};
        tracker_.summary(runner_.table_capacities(), all_rows, r);
    }

private:
    const Options& o_;
    bool on_;
    ReplayRunner& runner_;
    TableTracker tracker_;
    TableEntries pending_;  // drained, not yet in a report
};

class Binner {
public:
    Binner(double width_s, ReplayRunner& runner, ReportWriter& out, std::string name, Table& table, bool histogram)
        : width_ns_(static_cast<std::int64_t>(std::llround(width_s * 1e9))), width_s_(width_s), runner_(runner),
          out_(out), name_(std::move(name)), table_(table), histogram_(histogram)
    {
    }

    // Before submitting a record at `ts`: closes the bins that end before it.
    // Time going backwards (merged captures) stays in the current bin.
    // Timestamps come from files: arithmetic is done wide, never overflows.
    void before(std::int64_t ts)
    {
        if (!end_) {
            end_ = static_cast<Wide>(ts) + width_ns_;
            return;
        }
        if (ts < *end_)
            return;
        close_bin();
        // A long silence: skip its empty bins rather than print millions.
        const Wide empty = (ts - *end_) / width_ns_;
        if (empty > kMaxEmptyBins)
            *end_ += empty * width_ns_;
        while (ts >= *end_)
            close_bin();
    }
    // After the last record: the last, partial bin.
    void finish()
    {
        if (end_)
            close_bin();
    }

private:
    static constexpr std::int64_t kMaxEmptyBins = 10000;

    void close_bin()
    {
        runner_.drain();
        ClassCounters now = runner_.read();
        IntervalReport r;
        r.time = capture_time(clamp_ns(*end_));
        r.interval_s = width_s_;
        AttachmentReport a{name_, "xdp", "replay", delta(now, last_)};
        a.histogram = histogram_;
        table_.close_bin(a);
        r.attachments.push_back(std::move(a));
        out_.interval(r);
        last_ = now;
        *end_ += width_ns_;
    }

    std::int64_t width_ns_;
    double width_s_;
    ReplayRunner& runner_;
    ReportWriter& out_;
    std::string name_;
    std::optional<Wide> end_;
    ClassCounters last_{};
    Table& table_;
    bool histogram_;
};

SummaryReport summary_of(const std::string& name, const ClassCounters& counters, double duration_s,
                         Table* table = nullptr, const Options* o = nullptr)
{
    SummaryReport s;
    s.duration_s = duration_s;
    AttachmentReport a{name, "xdp", "replay", counters};
    if (table && o) {
        a.histogram = o->histogram;
        table->summary(a, o->format == OutputFormat::json);
    }
    s.attachments.push_back(std::move(a));
    return s;
}

}  // namespace

int run_replay(const Options& o)
{
    install_stop_handlers();
    require_bpf_privileges();
    const std::string& name = o.replay_file;
    ReportWriter out(o.format, LineOptions{.hide_zero = o.hide_zero});

    // A file that cannot be read at all still gets its (empty) report.
    std::optional<CaptureReader> reader;
    try {
        reader.emplace(CaptureReader::open(name));
        if (!linktype_supported(reader->linktype()))
            throw Error(exit_code::capture,
                        fmt::format("{}: link type {} is not supported: replay reads Ethernet, raw IPv4/IPv6 "
                                    "and Linux cooked (SLL, SLL2) captures",
                                    name, linktype_name(reader->linktype())));
    } catch (const Error&) {
        out.summary(summary_of(name, ClassCounters{}, 0));
        throw;
    }

    ReplayRunner runner(0, LoadOptions{.tables = o.tables,
                                       .table_size = o.table_size,
                                       .size_histogram = o.histogram});
    Table table(o, runner);
    std::optional<Binner> binner;
    if (o.replay_bin_s)
        binner.emplace(*o.replay_bin_s, runner, out, name, table, o.histogram);
    Progress progress(name);
    const int dlt = reader->linktype();
    std::vector<std::uint8_t> scratch;
    std::optional<std::int64_t> first_ts;
    std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();
    std::optional<Error> damage;

    try {
        CaptureRecord rec;
        while (out.open() && !stop_requested() && reader->next(rec)) {
            if (!first_ts)
                first_ts = rec.ts_ns;
            last_ts = std::max(last_ts, rec.ts_ns);
            if (binner)
                binner->before(rec.ts_ns);
            auto frame = to_ethernet(dlt, rec.data, rec.orig_len, scratch);
            runner.submit(frame->bytes, frame->wire_len, rec.ts_ns);
            table.tick(reader->records(), binner.has_value());
            progress.tick(reader->records());
        }
    } catch (const Error& e) {
        if (e.exit_code() != exit_code::capture)
            throw;
        damage = e;  // report what was read, then fail
    }

    runner.drain();
    if (binner)
        binner->finish();
    double duration = first_ts ? (static_cast<double>(last_ts) - static_cast<double>(*first_ts)) / 1e9 : 0;
    out.summary(summary_of(name, runner.read(), duration, &table, &o));
    if (damage)
        throw *damage;
    if (stop_requested()) {
        std::fprintf(stderr, "trafstat: %s: interrupted after %llu packets; the report covers those\n", name.c_str(),
                     static_cast<unsigned long long>(reader->records()));
        return exit_code::interrupted;
    }
    return exit_code::ok;
}

}  // namespace trafstat
