#include "app/replay.hpp"

#include "app/ipfix_export.hpp"
#include "attach/modes.hpp"
#include "attach/privileges.hpp"
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/printable.hpp"
#include "base/progress.hpp"
#include "base/signals.hpp"
#include "engine/engine.hpp"
#include "engine/sources.hpp"
#include "output/writer.hpp"
#include "replay/capture.hpp"
#include "replay/linktype.hpp"
#include "replay/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <limits>
#include <optional>

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
    return static_cast<std::int64_t>(
        std::clamp<Wide>(ns, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()));
}

// Progress of a long replay on a terminal: packets and the rate so far.
class ReplayProgress {
public:
    explicit ReplayProgress(std::string name) : name_(std::move(name)) {}
    void tick(std::uint64_t records)
    {
        if ((records & 0xffff) != 0 || !line_.due())
            return;
        const double s = std::chrono::duration<double>(Clock::now() - start_).count();
        line_.show(fmt::format("trafstat: {}: {} packets replayed ({:.2f} Mpps)", name_, records,
                               s > 0 ? static_cast<double>(records) / s / 1e6 : 0.0));
    }

private:
    std::string name_;
    Clock::time_point start_ = Clock::now();
    Progress line_{std::chrono::milliseconds(500)};
};

// Every so many records the keyed tables are drained, so that their per-CPU
// slots never fill with more than one drain's keys.
constexpr std::uint64_t kDrainEvery = 65536;
// With --ipfix: an epoch per second of capture time at least.
constexpr std::int64_t kExportEvery = 1'000'000'000;

// Interval lines in capture time: bins [t0 + k*width, t0 + (k+1)*width).
class Binner {
public:
    Binner(double width_s, CountingEngine& engine, ReportWriter& out, std::size_t top)
        : width_ns_(static_cast<std::int64_t>(std::llround(width_s * 1e9))), width_s_(width_s), engine_(engine),
          out_(out), top_(top)
    {}

    // Before submitting a record at `ts`: closes the bins that end before it.
    // Time going backwards (merged captures) stays in the current bin.
    // Timestamps come from files: arithmetic is done wide, never overflows.
    // -i is at least 1 µs (cli), so the width is never 0 ns.
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
        // Up to kMaxEmptyBins lines of a line's cost each: a stop ends them.
        while (ts >= *end_ && !stop_requested())
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
        IntervalReport r;
        r.time = capture_time(clamp_ns(*end_));
        r.interval_s = width_s_;
        r.attachments.push_back(engine_.interval(top_));
        out_.interval(r);
        *end_ += width_ns_;
    }

    std::int64_t width_ns_;
    double width_s_;
    CountingEngine& engine_;
    ReportWriter& out_;
    std::size_t top_;
    std::optional<Wide> end_;
};

AttachmentLabel replay_label(const std::string& file)
{
    return {file, std::string(hook_name(Hook::xdp)), "replay"};
}

// The report of a capture that could not be read at all.
SummaryReport empty_summary(const std::string& file)
{
    const AttachmentLabel l = replay_label(file);
    return SummaryReport{0, {AttachmentReport{l.ifname, l.hook, l.mode, {}}}};
}

int interrupted(const std::string& file, std::uint64_t records)
{
    std::fprintf(stderr, "trafstat: %s: interrupted after %llu packets; the report covers those\n",
                 printable(file).c_str(), static_cast<unsigned long long>(records));
    return exit_code::interrupted;
}

}  // namespace

int run_replay(const ReplayConfig& o)
{
    install_stop_handlers();
    require_bpf_privileges();
    const std::string& name = o.file;
    ReportWriter out(o.output);

    // A file that cannot be read at all still gets its (empty) report.
    std::optional<CaptureReader> reader;
    try {
        reader.emplace(CaptureReader::open(name));
        if (!linktype_supported(reader->linktype_field()))
            throw Error(exit_code::capture,
                        fmt::format("{}: link type {} is not supported: replay reads Ethernet, raw IPv4/IPv6 "
                                    "and Linux cooked (SLL, SLL2) captures",
                                    name, linktype_name(reader->linktype_field())));
    } catch (const Error&) {
        out.summary(empty_summary(name));
        if (stop_requested())
            return interrupted(name, 0);  // the signal cut the open short (a FIFO without a writer)
        throw;
    }

    require_table_memory(o.counting);
    if (const auto note = table_memory_note(o.counting))
        std::fprintf(stderr, "%s\n", note->c_str());
    // Flow records in capture time, as softflowd -r makes them.
    std::optional<IpfixExporter> ipfix;
    if (o.ipfix.on())
        ipfix.emplace(o.ipfix);
    auto source = std::make_unique<ReplaySource>(o.counting);
    ReplayRunner& runner = source->runner();
    drop_capabilities({});  // loaded; its threads start with the first frames
    // Idle keys age in bins of capture time (one second without -i).
    CountingEngine engine(std::move(source), o.counting, o.bin_s.value_or(1.0), replay_label(name));
    std::optional<Binner> binner;
    if (o.bin_s)
        binner.emplace(*o.bin_s, engine, out, o.counting.views.top);
    ReplayProgress progress(name);
    const int dlt = reader->linktype();
    std::vector<std::uint8_t> scratch;
    std::optional<std::int64_t> first_ts;
    std::int64_t last_ts = std::numeric_limits<std::int64_t>::min();
    std::optional<Error> damage;
    std::int64_t next_export_ns = std::numeric_limits<std::int64_t>::min();
    if (ipfix) {
        const std::size_t i = ipfix->follow(0, false);
        engine.observe_epochs([&, i](std::span<const FlowEntry> flows, const ClassCounters& d) {
            const auto now_ns = static_cast<std::uint64_t>(std::max<std::int64_t>(last_ts, 0));
            ipfix->epoch(i, flows, d, now_ns / 1'000'000);
            ipfix->send(static_cast<std::uint32_t>(now_ns / 1'000'000'000));
        });
    }

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
            // Exporting, epochs also close every second of capture time: the
            // flows' timeouts are then judged to the second, as softflowd -r does.
            const bool export_due = ipfix && rec.ts_ns >= next_export_ns;
            if (export_due)
                next_export_ns = rec.ts_ns + kExportEvery;
            if (o.counting.tables && (reader->records() % kDrainEvery == 0 || export_due)) {
                // Binned, the entries wait for their bin's line; else straight into the totals.
                if (binner)
                    engine.close_epoch();
                else
                    engine.absorb();
            }
            progress.tick(reader->records());
        }
    } catch (const Error& e) {
        if (e.exit_code() != exit_code::capture)
            throw;
        // A stop signal interrupts a read (EINTR): that is the stop, not damage.
        if (!stop_requested())
            damage = e;  // report what was read, then fail
    }

    if (binner)
        binner->finish();
    SummaryReport summary;
    summary.duration_s = first_ts ? (static_cast<double>(last_ts) - static_cast<double>(*first_ts)) / 1e9 : 0;
    summary.attachments.push_back(engine.summary(o.output.format == OutputFormat::json));
    out.summary(summary);
    if (ipfix)
        ipfix->finish(static_cast<std::uint32_t>(std::max<std::int64_t>(last_ts, 0) / 1'000'000'000));
    if (damage)
        throw *damage;
    if (stop_requested())
        return interrupted(name, reader->records());
    return exit_code::ok;
}

}  // namespace trafstat
