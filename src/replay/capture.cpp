#include "replay/capture.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "replay/linktype.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <limits>
#include <pcap/pcap.h>
#include <unistd.h>

namespace trafstat {

void CaptureReader::Closer::operator()(pcap* p) const
{
    pcap_close(p);
}

CaptureReader::CaptureReader(pcap* handle, std::string name)
    : handle_(handle), name_(std::move(name)), fcs_length_(fcs_length(linktype_field()))
{}
CaptureReader::CaptureReader(CaptureReader&&) noexcept = default;
CaptureReader& CaptureReader::operator=(CaptureReader&&) noexcept = default;
CaptureReader::~CaptureReader() = default;

CaptureReader CaptureReader::open(const std::string& path)
{
    std::FILE* file = path == "-" ? fdopen(dup(STDIN_FILENO), "rb") : std::fopen(path.c_str(), "rb");
    if (!file)
        throw Error(exit_code::capture, fmt::format("{}: cannot open: {}", path, errno_text(errno)));
    // Fewer, larger reads: replay is often bound by reading the file.
    std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
    return open_stream(file, path);
}

CaptureReader CaptureReader::open_stream(std::FILE* file, const std::string& name)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap* p = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        std::fclose(file);
        throw Error(exit_code::capture, fmt::format("{}: not a readable capture (byte offset 0): {}", name, err));
    }
    return CaptureReader(p, name);
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
    default: {
        // ftell fails on pipes: then only the packet number is known.
        long offset = std::ftell(pcap_file(handle_.get()));
        std::string where = offset >= 0 ? fmt::format("packet {} (byte offset {})", records_ + 1, offset)
                                        : fmt::format("packet {}", records_ + 1);
        throw Error(exit_code::capture, fmt::format("{}: damaged at {}: {}", name_, where, pcap_geterr(handle_.get())));
    }
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
