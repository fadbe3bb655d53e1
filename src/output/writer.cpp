#include "output/writer.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "output/json.hpp"

#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <sys/stat.h>
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

std::string lost_json_line(const AttachmentLoss& loss)
{
    const nlohmann::ordered_json j = {{"type", "lost"},      {"time", iso8601_utc(loss.time)},
                                      {"name", loss.ifname}, {"hook", loss.hook},
                                      {"mode", loss.mode},   {"reason", loss.reason}};
    return to_line(j) + "\n";
}

bool ReportWriter::lost(const AttachmentLoss& loss)
{
    return format_ == OutputFormat::json ? write(lost_json_line(loss)) : open_;
}

bool ReportWriter::write(const std::string& text)
{
    if (!open_)
        return false;
    open_ = write_stdout(text);
    return open_;
}

namespace {

// The reader is gone: a closed pipe (EPIPE), or a terminal that hung up (EIO
// from a character device; a file's EIO is a real I/O error).
bool reader_gone(int err)
{
    struct stat st {};
    return err == EPIPE || (err == EIO && fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode));
}

[[noreturn]] void output_failed(int err)
{
    throw Error(exit_code::output, fmt::format("cannot write to standard output: {}", errno_text(err)));
}

}  // namespace

bool write_stdout(std::string_view text)
{
    // write(2), not stdio: a stop signal (installed without SA_RESTART) that
    // arrives while a slow reader keeps the pipe full interrupts the write,
    // and stdio would lose the rest of the line; here it is written on.
    if (!finish_stdout())
        return false;
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && reader_gone(errno))
            return false;
        if (n <= 0)
            output_failed(n < 0 ? errno : EIO);
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool finish_stdout()
{
    if (std::fflush(stdout) == 0 && !std::ferror(stdout))
        return true;
    const int err = errno;
    if (reader_gone(err))
        return false;
    output_failed(err ? err : EIO);
}

}  // namespace trafstat
