// Renders reports in the chosen format and writes them to stdout. Live mode
// and replay share it, so their output is the same by construction.
#pragma once

#include "cli/options.hpp"
#include "output/line.hpp"
#include "output/report.hpp"

#include <string>

namespace trafstat {

class ReportWriter {
public:
    ReportWriter(OutputFormat format, LineOptions line) : format_(format), line_(line) {}

    // false once stdout is gone (EPIPE: a closed pipe) or broken; later writes are skipped.
    bool interval(const IntervalReport& r);
    bool summary(const SummaryReport& r);
    bool open() const { return open_; }

private:
    bool write(const std::string& text);
    OutputFormat format_;
    LineOptions line_;
    bool open_ = true;
};

}  // namespace trafstat
