// Captures as people keep them: plain, gzip or zstd, told apart by their first
// bytes as Wireshark does (never by name), read through one FILE* that libpcap
// reads as a plain capture.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace trafstat {

enum class Compression { none, gzip, zstd };
std::string_view compression_name(Compression c);  // "gzip", "zstd"; "" for none

class CaptureInput {
public:
    // Takes ownership of `fd`. Nothing is read until the first read of file().
    explicit CaptureInput(int fd);
    CaptureInput(const CaptureInput&) = delete;
    CaptureInput& operator=(const CaptureInput&) = delete;
    ~CaptureInput();

    // The capture's bytes, decompressed. Its reads fail (errno EIO, damage()
    // set) on damaged compressed data, and with EINTR when a signal interrupts
    // a wait for input. Valid while this object lives; closing it leaves the
    // descriptor to this object.
    std::FILE* file() const { return file_; }
    // Known after the first read.
    Compression compression() const { return compression_; }
    // Capture bytes handed out so far (after decompression).
    std::uint64_t position() const { return position_; }
    // Why the compressed data could not be read, e.g. "damaged gzip stream at
    // compressed byte 1234: invalid block type"; empty while it reads.
    const std::string& damage() const { return damage_; }

private:
    struct Gzip;
    struct Zstd;

    static ssize_t read_cookie(void* self, char* out, std::size_t size);
    static int seek_cookie(void* self, off64_t* offset, int whence);
    ssize_t read(char* out, std::size_t size);
    bool detect();
    ssize_t fill();
    ssize_t pass_through(char* out, std::size_t size);
    ssize_t inflate_into(char* out, std::size_t size);
    ssize_t zstd_into(char* out, std::size_t size);
    ssize_t damaged(std::string_view reason);
    ssize_t refuse(std::string why);
    ssize_t output_before_damage(std::size_t produced);

    int fd_;
    std::FILE* file_ = nullptr;
    // Compressed input: bounded, whatever the capture's size.
    std::vector<std::uint8_t> in_;
    std::size_t in_pos_ = 0;
    std::size_t in_end_ = 0;
    bool detected_ = false;
    bool at_eof_ = false;
    Compression compression_ = Compression::none;
    std::uint64_t consumed_ = 0;  // compressed bytes fed to the decompressor
    std::uint64_t position_ = 0;
    std::string damage_;
    std::unique_ptr<Gzip> gzip_;
    std::unique_ptr<Zstd> zstd_;
};

}  // namespace trafstat
