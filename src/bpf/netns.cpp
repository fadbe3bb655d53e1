#include "bpf/netns.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

namespace trafstat {
namespace {

// Linux 5.14 UAPI; glibc 2.36's headers lack it.
constexpr int kSoNetnsCookie = 71;

}  // namespace

std::uint64_t current_netns_cookie()
{
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    const int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int err = s < 0 || getsockopt(s, SOL_SOCKET, kSoNetnsCookie, &cookie, &len) != 0 ? errno : 0;
    if (s >= 0)
        close(s);
    if (err)
        throw Error(exit_code::runtime, fmt::format("cannot read the network namespace's cookie: {}", errno_text(err)));
    return cookie;
}

}  // namespace trafstat
