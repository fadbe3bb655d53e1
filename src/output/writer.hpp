// Renders reports in the chosen format and writes them to stdout. Live mode
// and replay share it, so their output is the same by construction.
#pragma once

#include "base/names.hpp"
#include "output/line.hpp"
#include "output/report.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace trafstat {

enum class OutputFormat { line, json };
inline constexpr auto kOutputFormatNames = name_table<OutputFormat>({
    {OutputFormat::line, "line", "aligned text, one block per interval"},
    {OutputFormat::json, "json", "one JSON object per line (NDJSON, docs/json.md)"},
});

// How a run's reports are printed.
struct OutputConfig {
    OutputFormat format = OutputFormat::line;
    bool hide_zero = false;  // -z: classes with no packets are left out (never `all`)
};

// Writes all of `text` to stdout (after what stdio holds). false when the
// reader is gone (a closed pipe, a terminal that hung up: a clean stop); any other
// failure (a full disk, an I/O error) throws Error(exit_code::output).
bool write_stdout(std::string_view text);
// Flushes what stdio holds for stdout, with write_stdout's outcomes: main
// calls it last, so that no output is lost without a word.
bool finish_stdout();

// An attachment that stopped counting during a live run: its interface
// deleted, its link detached, its filter removed (docs/attaching.md).
struct AttachmentLoss {
    std::chrono::system_clock::time_point time;
    std::string ifname;
    std::string hook;
    std::string mode;
    std::string reason;  // "the interface was deleted", ...
};

// The NDJSON `lost` line of docs/json.md, with its newline.
std::string lost_json_line(const AttachmentLoss& loss);

class ReportWriter {
public:
    explicit ReportWriter(const OutputConfig& config)
        : format_(config.format), line_(LineOptions{.hide_zero = config.hide_zero})
    {}

    // false once stdout is gone (EPIPE: a closed pipe); later writes are skipped.
    // Any other write error throws (write_stdout).
    bool interval(const IntervalReport& r);
    bool summary(const SummaryReport& r);
    // JSON: a `lost` line (docs/json.md); lines: nothing, stderr says it.
    bool lost(const AttachmentLoss& loss);
    bool open() const { return open_; }

private:
    bool write(const std::string& text);
    OutputFormat format_;
    LineOptions line_;
    bool open_ = true;
};

}  // namespace trafstat
