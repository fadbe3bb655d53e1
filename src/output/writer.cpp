#include "output/writer.hpp"

#include "output/json.hpp"

#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace trafstat {

bool ReportWriter::interval(const IntervalReport& r)
{
    return write(format_ == OutputFormat::json ? to_line(interval_json(r)) + "\n" : render_interval(r, line_));
}

bool ReportWriter::summary(const SummaryReport& r)
{
    if (format_ != OutputFormat::json)
        return write(render_summary(r, line_));
    // Streamed: the line of a large summary is written in chunks as it is
    // rendered, so memory holds one chunk of it, not the whole line.
    constexpr std::size_t kChunk = 64 * 1024;
    std::string chunk;
    write_summary_json(r, [&](std::string_view piece) {
        chunk += piece;
        if (chunk.size() >= kChunk) {
            write(chunk);
            chunk.clear();
        }
    });
    chunk += '\n';
    return write(chunk);
}

bool ReportWriter::write(const std::string& text)
{
    if (!open_)
        return false;
    // write(2), not stdio: a stop signal (installed without SA_RESTART) that
    // arrives while a slow reader keeps the pipe full interrupts the write,
    // and stdio would lose the rest of the line; here it is written on.
    std::fflush(stdout);
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            open_ = false;  // EPIPE: the reader is gone; or stdout is broken
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    return open_;
}

}  // namespace trafstat
