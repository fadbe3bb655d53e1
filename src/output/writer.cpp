#include "output/writer.hpp"

#include "output/json.hpp"

#include <cstdio>

namespace trafstat {

bool ReportWriter::interval(const IntervalReport& r)
{
    return write(format_ == OutputFormat::json ? to_line(interval_json(r)) + "\n" : render_interval(r, line_));
}

bool ReportWriter::summary(const SummaryReport& r)
{
    return write(format_ == OutputFormat::json ? to_line(summary_json(r)) + "\n" : render_summary(r, line_));
}

bool ReportWriter::write(const std::string& text)
{
    if (!open_)
        return false;
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
        open_ = false;
    return open_;
}

}  // namespace trafstat
