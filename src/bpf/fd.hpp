// A move-only owner of a file descriptor. No implicit conversion to int:
// borrowing is explicit (get()), so ownership is visible at every call.
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace trafstat {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    // A reference of our own to what `fd` refers to (invalid on failure:
    // errno says why).
    static Fd duplicate(int fd) noexcept { return Fd(fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    void reset() noexcept
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

}  // namespace trafstat
