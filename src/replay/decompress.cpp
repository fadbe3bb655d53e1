#include "replay/decompress.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

namespace trafstat {
namespace {

// Compressed input read at a time; the FILE's own buffer holds the output.
constexpr std::size_t kInputSize = 256 * 1024;
// zstd frames may ask for windows up to 2 GiB: at most 16 MiB keeps replay under
// its memory bound (docs/replay.md); every level up to 19 needs 8 MiB at most.
constexpr int kZstdWindowLogMax = 24;

// A frame's first step: the start of its header, which tells the rest's size
// (ZSTD_FRAMEHEADERSIZE_PREFIX, of zstd's unstable API).
constexpr std::size_t kZstdFirstStep = 5;

constexpr std::uint8_t kGzipMagic[] = {0x1f, 0x8b};
constexpr std::uint8_t kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

}  // namespace

std::string_view compression_name(Compression c)
{
    switch (c) {
    case Compression::gzip:
        return "gzip";
    case Compression::zstd:
        return "zstd";
    case Compression::none:
        break;
    }
    return "";
}

struct CaptureInput::Gzip {
    z_stream z{};
    bool member_ended = false;
    Gzip()
    {
        // 15 + 16: a 32 KiB window, gzip framing only (header and CRC-32 checked).
        if (inflateInit2(&z, 15 + 16) != Z_OK)
            throw std::bad_alloc();
    }
    ~Gzip() { inflateEnd(&z); }
};

struct CaptureInput::Zstd {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    bool frame_ended = false;
    std::size_t next_step = kZstdFirstStep;  // input the decoder's next step wants
    Zstd()
    {
        if (!dctx)
            throw std::bad_alloc();
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kZstdWindowLogMax);
    }
    ~Zstd() { ZSTD_freeDCtx(dctx); }
};

CaptureInput::CaptureInput(int fd) : fd_(fd), in_(kInputSize)
{
    const cookie_io_functions_t io{&CaptureInput::read_cookie, nullptr, &CaptureInput::seek_cookie, nullptr};
    file_ = fopencookie(this, "rb", io);
    if (!file_) {
        close(fd_);
        throw std::bad_alloc();
    }
}

CaptureInput::~CaptureInput()
{
    close(fd_);
}

ssize_t CaptureInput::read_cookie(void* self, char* out, std::size_t size)
{
    return static_cast<CaptureInput*>(self)->read(out, size);
}

// ftell() asks for the position (offset 0 from the current one); nothing seeks.
int CaptureInput::seek_cookie(void* self, off64_t* offset, int whence)
{
    if (whence != SEEK_CUR || *offset != 0) {
        errno = ESPIPE;
        return -1;
    }
    *offset = static_cast<off64_t>(static_cast<CaptureInput*>(self)->position_);
    return 0;
}

ssize_t CaptureInput::read(char* out, std::size_t size)
{
    if (!damage_.empty()) {
        errno = EIO;
        return -1;
    }
    if (!detected_ && !detect())
        return -1;
    ssize_t n = 0;
    switch (compression_) {
    case Compression::none:
        n = pass_through(out, size);
        break;
    case Compression::gzip:
        n = inflate_into(out, size);
        break;
    case Compression::zstd:
        n = zstd_into(out, size);
        break;
    }
    if (n > 0)
        position_ += static_cast<std::uint64_t>(n);
    return n;
}

// Reads more compressed input after what is buffered: > 0 bytes read, 0 at the
// end of the input, -1 on an error (EINTR: a stop signal).
ssize_t CaptureInput::fill()
{
    if (in_pos_ == in_end_)
        in_pos_ = in_end_ = 0;
    if (at_eof_)
        return 0;
    const ssize_t n = ::read(fd_, in_.data() + in_end_, in_.size() - in_end_);
    if (n == 0)
        at_eof_ = true;
    if (n > 0)
        in_end_ += static_cast<std::size_t>(n);
    return n;
}

// The magic is read, not peeked: a pipe cannot seek back. The bytes stay in the
// input buffer for the decompressor, or for pass_through().
bool CaptureInput::detect()
{
    while (in_end_ < sizeof kZstdMagic) {
        const ssize_t n = fill();
        if (n < 0)
            return false;
        if (n == 0)
            break;
    }
    const auto starts_with = [this](const auto& magic) {
        return in_end_ >= sizeof magic && std::memcmp(in_.data(), magic, sizeof magic) == 0;
    };
    if (starts_with(kGzipMagic)) {
        compression_ = Compression::gzip;
        gzip_ = std::make_unique<Gzip>();
    } else if (starts_with(kZstdMagic)) {
        compression_ = Compression::zstd;
        zstd_ = std::make_unique<Zstd>();
    }
    detected_ = true;
    return true;
}

ssize_t CaptureInput::pass_through(char* out, std::size_t size)
{
    if (in_pos_ == in_end_)
        return ::read(fd_, out, size);
    const std::size_t n = std::min(size, in_end_ - in_pos_);
    std::memcpy(out, in_.data() + in_pos_, n);
    in_pos_ += n;
    return static_cast<ssize_t>(n);
}

ssize_t CaptureInput::refuse(std::string why)
{
    damage_ = std::move(why);
    errno = EIO;
    return -1;
}

// The bytes decompressed before damage was found are given first; the damage
// fails the next read.
ssize_t CaptureInput::output_before_damage(std::size_t produced)
{
    if (produced == 0 && !damage_.empty()) {
        errno = EIO;
        return -1;
    }
    return static_cast<ssize_t>(produced);
}

ssize_t CaptureInput::damaged(std::string_view reason)
{
    return refuse(
        fmt::format("damaged {} stream at compressed byte {}: {}", compression_name(compression_), consumed_, reason));
}

// Members follow each other (gzip a b > c, pigz): each is inflated in turn, and
// the input may end only where one ends.
ssize_t CaptureInput::inflate_into(char* out, std::size_t size)
{
    z_stream& z = gzip_->z;
    z.next_out = reinterpret_cast<Bytef*>(out);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    const uInt wanted = z.avail_out;
    while (z.avail_out == wanted) {
        if (in_pos_ == in_end_) {
            const ssize_t n = fill();
            if (n < 0)
                return -1;
            if (n == 0) {
                if (gzip_->member_ended)
                    return 0;
                return damaged("truncated: the input ends inside a member");
            }
        }
        if (gzip_->member_ended) {
            inflateReset(&z);
            gzip_->member_ended = false;
        }
        z.next_in = in_.data() + in_pos_;
        z.avail_in = static_cast<uInt>(in_end_ - in_pos_);
        const int rc = inflate(&z, Z_NO_FLUSH);
        const std::size_t used = in_end_ - in_pos_ - z.avail_in;
        in_pos_ += used;
        consumed_ += used;
        if (rc == Z_STREAM_END)
            gzip_->member_ended = true;
        else if (rc == Z_MEM_ERROR)
            throw std::bad_alloc();
        else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            damaged(z.msg ? z.msg : zError(rc));
            break;
        }
    }
    return output_before_damage(wanted - z.avail_out);
}

// Frames follow each other (zstd a b, pzstd); ZSTD_decompressStream goes on to
// the next by itself, and the input may end only where one ends. A call that
// fails forgets what it wrote: each call gets the input of one step (a frame
// header, a block, the checksum, as its previous answer asks), so that the
// frames' blocks before damage are given, and the damage's offset is its step's.
ssize_t CaptureInput::zstd_into(char* out, std::size_t size)
{
    ZSTD_outBuffer output{out, size, 0};
    while (output.pos == 0) {
        if (in_pos_ == in_end_) {
            const ssize_t n = fill();
            if (n < 0)
                return -1;
            if (n == 0) {
                if (zstd_->frame_ended)
                    return 0;
                return damaged("truncated: the input ends inside a frame");
            }
        }
        ZSTD_inBuffer input{in_.data() + in_pos_, std::min(in_end_ - in_pos_, zstd_->next_step), 0};
        const std::size_t rc = ZSTD_decompressStream(zstd_->dctx, &output, &input);
        in_pos_ += input.pos;
        consumed_ += input.pos;
        if (ZSTD_isError(rc)) {
            if (ZSTD_getErrorCode(rc) != ZSTD_error_frameParameter_windowTooLarge)
                damaged(ZSTD_getErrorName(rc));
            else
                refuse(fmt::format("zstd frame at compressed byte {} needs a window over {} MiB (zstd --long "
                                   "or --ultra): replay it through zstd -dc --memory=2048MB ... | trafstat "
                                   "replay -",
                                   consumed_, (1u << kZstdWindowLogMax) >> 20));
            break;
        }
        zstd_->frame_ended = rc == 0;
        zstd_->next_step = rc == 0 ? kZstdFirstStep : rc;
    }
    return output_before_damage(output.pos);
}

}  // namespace trafstat
