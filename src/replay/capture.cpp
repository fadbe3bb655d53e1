#include "replay/capture.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/signals.hpp"
#include "replay/linktype.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trafstat {

void CaptureReader::Closer::operator()(pcap* p) const
{
    pcap_close(p);
}

CaptureReader::CaptureReader(std::unique_ptr<CaptureInput> input, pcap* handle, std::string name)
    : input_(std::move(input)), handle_(handle), name_(std::move(name)), fcs_length_(fcs_length(linktype_field()))
{}
CaptureReader::CaptureReader(CaptureReader&&) noexcept = default;
CaptureReader& CaptureReader::operator=(CaptureReader&&) noexcept = default;
CaptureReader::~CaptureReader() = default;

namespace {

[[noreturn]] void cannot_open(const std::string& path, int err)
{
    throw Error(exit_code::capture, fmt::format("{}: cannot open: {}", path, errno_text(err)));
}

// A FIFO opened without blocking: waits, with the stop signals blocked but in
// ppoll (wait_until), until a writer gives data or comes and goes. A blocking
// open() would miss a stop signal that came just before it and wait for a writer
// for ever.
void wait_for_a_writer(int fd, const std::string& path)
{
    pollfd ready{fd, POLLIN, 0};
    for (;;) {
        switch (wait_until(std::chrono::steady_clock::time_point::max(), {&ready, 1})) {
        case Wake::stop:
            throw Error(exit_code::interrupted, fmt::format("{}: interrupted while waiting for a writer", path));
        case Wake::failed:
            cannot_open(path, errno);
        case Wake::input:
        case Wake::deadline:
            if (ready.revents != 0)
                return;
        }
    }
}

int open_file(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        cannot_open(path, errno);
    struct stat st {};
    try {
        if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
            wait_for_a_writer(fd, path);
    } catch (...) {
        close(fd);
        throw;
    }
    // Reads block; a stop signal interrupts them (no SA_RESTART).
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        const int err = errno;
        close(fd);
        cannot_open(path, err);
    }
    return fd;
}

}  // namespace

CaptureReader CaptureReader::open(const std::string& path)
{
    const int fd = path == "-" ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : open_file(path);
    if (fd < 0)
        cannot_open(path, errno);
    return open_fd(fd, path);
}

CaptureReader CaptureReader::open_fd(int fd, const std::string& name)
{
    auto input = std::make_unique<CaptureInput>(fd);
    std::FILE* file = input->file();
    // Fewer, larger reads: replay is often bound by reading the file.
    std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap* p = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        std::fclose(file);
        if (!input->damage().empty())
            throw Error(exit_code::capture, fmt::format("{}: {}", name, input->damage()));
        std::string offset = "byte offset 0";
        if (input->compression() != Compression::none)
            offset += fmt::format(" of the decompressed {} data", compression_name(input->compression()));
        throw Error(exit_code::capture, fmt::format("{}: not a readable capture ({}): {}", name, offset, err));
    }
    return CaptureReader(std::move(input), p, name);
}

Compression CaptureReader::compression() const
{
    return input_->compression();
}

std::string CaptureReader::where() const
{
    std::string at = fmt::format("byte offset {}", std::ftell(pcap_file(handle_.get())));
    if (compression() != Compression::none)
        at += fmt::format(" of the decompressed {} data", compression_name(compression()));
    return at;
}

int CaptureReader::linktype() const
{
    return pcap_datalink(handle_.get());
}

std::uint32_t CaptureReader::linktype_field() const
{
    // pcap_datalink_ext() holds bits 26-31 of the field, pcap_datalink() bits 0-25.
    return static_cast<std::uint32_t>(pcap_datalink_ext(handle_.get())) |
           static_cast<std::uint32_t>(pcap_datalink(handle_.get()));
}

bool CaptureReader::next(CaptureRecord& out)
{
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    switch (pcap_next_ex(handle_.get(), &header, &data)) {
    case 1:
        break;
    case PCAP_ERROR_BREAK:  // end of file
        return false;
    default:
        if (!input_->damage().empty())
            throw Error(exit_code::capture, fmt::format("{}: {} (packet {})", name_, input_->damage(), records_ + 1));
        throw Error(exit_code::capture, fmt::format("{}: damaged at packet {} ({}): {}", name_, records_ + 1, where(),
                                                    pcap_geterr(handle_.get())));
    }
    ++records_;
    out.data = {data, header->caplen};
    out.orig_len = header->len;
    if (fcs_length_ > 0) {
        out.orig_len = header->len >= fcs_length_ ? header->len - fcs_length_ : 0;
        out.data = out.data.first(std::min(header->caplen, out.orig_len));
    }
    // With nanosecond precision requested, tv_usec holds nanoseconds. pcapng
    // timestamps are 64-bit counts of any unit: saturate what ns cannot hold.
    const std::int64_t sec = header->ts.tv_sec;
    if (__builtin_mul_overflow(sec, std::int64_t{1'000'000'000}, &out.ts_ns) ||
        __builtin_add_overflow(out.ts_ns, std::int64_t{header->ts.tv_usec}, &out.ts_ns))
        out.ts_ns = sec < 0 ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
    return true;
}

}  // namespace trafstat
