// libFuzzer target: arbitrary bytes as a capture file, through the whole
// reading layer (CaptureReader with its gzip and zstd decompression, then
// to_ethernet for every record).
//
// Invariants checked (a violation aborts, which libFuzzer reports as a crash):
// - the only exception is trafstat::Error with exit_code::capture, and its
//   message names the capture (and, from next(), the packet number);
// - a supported link type always converts; an unsupported one never does;
// - a converted frame never holds more bytes than it counts on the wire, and
//   a synthesised header is exactly 14 bytes in front of the payload;
// - records() counts the records returned.
// Crashes, hangs and leaks are the sanitizers' and libFuzzer's job.
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "replay/capture.hpp"
#include "replay/linktype.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <pcap/pcap.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* kName = "fuzz.pcap";
constexpr int kSupported[] = {DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL, DLT_LINUX_SLL2};

[[noreturn]] void violated(const char* what, const std::string& detail = {})
{
    std::fprintf(stderr, "capture_fuzz: invariant violated: %s%s%s\n", what, detail.empty() ? "" : ": ",
                 detail.c_str());
    std::abort();
}

void check(bool ok, const char* what, const std::string& detail = {})
{
    if (!ok)
        violated(what, detail);
}

// The bytes behind a descriptor, as a file's are (a memfd, read from its start).
int as_fd(const std::uint8_t* data, std::size_t size)
{
    const int fd = memfd_create("capture_fuzz", MFD_CLOEXEC);
    if (fd < 0 || (size > 0 && write(fd, data, size) != static_cast<ssize_t>(size)) || lseek(fd, 0, SEEK_SET) != 0)
        violated("cannot put the input in a memfd");
    return fd;
}

void check_error(const trafstat::Error& e, const std::string& must_contain)
{
    const std::string message = e.what();
    check(e.exit_code() == trafstat::exit_code::capture, "Error with an exit code other than 7", message);
    check(message.rfind(std::string(kName) + ": ", 0) == 0, "error message does not start with the name", message);
    check(message.find(must_contain) != std::string::npos, "error message lacks the position", message);
    check(message.find('\n') == std::string::npos, "error message is not one line", message);
}

void check_frame(int dlt, std::span<const std::uint8_t> record, std::uint32_t orig_len,
                 std::vector<std::uint8_t>& scratch)
{
    const auto frame = trafstat::to_ethernet(dlt, record, orig_len, scratch);
    if (!trafstat::linktype_supported(dlt)) {
        check(!frame, "unsupported link type converted", std::to_string(dlt));
        return;
    }
    check(frame.has_value(), "supported link type not converted", std::to_string(dlt));
    check(frame->wire_len >= frame->bytes.size(), "wire_len < bytes.size()",
          std::to_string(frame->wire_len) + " < " + std::to_string(frame->bytes.size()));
    switch (dlt) {
    case DLT_EN10MB:
        check(frame->bytes.data() == record.data() && frame->bytes.size() == record.size(),
              "Ethernet is not passed through");
        break;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        check(frame->bytes.size() == record.size() + 14, "raw IP: header is not 14 bytes");
        break;
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2: {
        const std::size_t cooked = dlt == DLT_LINUX_SLL ? 16 : 20;
        const std::size_t expect = record.size() < cooked ? 0 : record.size() - cooked + 14;
        check(frame->bytes.size() == expect, "cooked: wrong frame size");
        break;
    }
    }
    // Read every byte, so ASan sees any span that points past its storage.
    volatile std::uint8_t sink = 0;
    for (std::uint8_t b : frame->bytes)
        sink = sink ^ b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        auto reader = trafstat::CaptureReader::open_fd(as_fd(data, size), kName);
        const int dlt = reader.linktype();
        check(!trafstat::linktype_name(reader.linktype_field()).empty(), "empty link type name");
        std::vector<std::uint8_t> scratch;
        trafstat::CaptureRecord record;
        std::uint64_t count = 0;
        try {
            while (reader.next(record)) {
                ++count;
                check(reader.records() == count, "records() does not count the records returned");
                check_frame(dlt, record.data, record.orig_len, scratch);
                // The conversions are pure: any record under any link type.
                for (int other : kSupported)
                    check_frame(other, record.data, record.orig_len, scratch);
            }
        } catch (const trafstat::Error& e) {
            check_error(e, "packet " + std::to_string(count + 1));
        }
    } catch (const trafstat::Error& e) {
        check_error(e, "");
    } catch (const std::exception& e) {
        violated("exception other than trafstat::Error", e.what());
    } catch (...) {
        violated("non-standard exception");
    }
    return 0;
}
