// Reading capture files (pcap, pcapng, nanosecond timestamps) with libpcap,
// plain or gzip/zstd-compressed (decompress.hpp).
#pragma once

#include "replay/decompress.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct pcap;

namespace trafstat {

struct CaptureRecord {
    std::span<const std::uint8_t> data;  // the captured bytes (caplen), valid until the next call
    std::uint32_t orig_len = 0;          // length on the wire
    std::int64_t ts_ns = 0;              // capture time, ns since the epoch
};

class CaptureReader {
public:
    // `path` "-" reads standard input. Throws Error(exit_code::capture) with
    // libpcap's reason (not a capture, empty, unknown format, missing file) or
    // the decompressor's.
    static CaptureReader open(const std::string& path);
    // Reads from an open descriptor (tests, fuzzing); takes ownership of `fd`.
    static CaptureReader open_fd(int fd, const std::string& name);

    CaptureReader(CaptureReader&&) noexcept;
    CaptureReader& operator=(CaptureReader&&) noexcept;
    ~CaptureReader();

    // The next record, without the FCS the link-type field says each frame
    // ends with (docs/json.md: bytes exclude it); false at a clean end of file. Throws
    // Error(exit_code::capture) naming the packet number and byte offset
    // when the file is damaged or truncated.
    bool next(CaptureRecord& out);

    Compression compression() const;

    int linktype() const;  // DLT_* of the file (first interface for pcapng)
    // The pcap header's link-type field (linktype.hpp), its DLT_* in bits 0-25
    // as libpcap gives it; pcapng: the first interface's link type.
    std::uint32_t linktype_field() const;
    std::uint64_t records() const { return records_; }  // records returned so far
    const std::string& name() const { return name_; }

private:
    CaptureReader(std::unique_ptr<CaptureInput> input, pcap* handle, std::string name);
    // Where reading stopped, for messages: "byte offset N", of the decompressed data
    // for a compressed capture.
    std::string where() const;
    struct Closer {
        void operator()(pcap* p) const;
    };
    std::unique_ptr<CaptureInput> input_;  // outlives handle_, which reads its FILE*
    std::unique_ptr<pcap, Closer> handle_;
    std::string name_;
    unsigned fcs_length_ = 0;
    std::uint64_t records_ = 0;
};

}  // namespace trafstat
