// The test process in a network namespace of its own with `lo` up, back in the
// original one when it goes (gtest may run further tests in this process).
// Whatever the test creates in it (veth pairs, addresses) goes with it.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace trafstat::test {

class PrivateNetns {
public:
    PrivateNetns() : original_(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC))
    {
        if (original_ < 0 || unshare(CLONE_NEWNET) != 0)
            return;
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        up_ =
            s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
        if (s >= 0)
            close(s);
    }
    ~PrivateNetns()
    {
        if (original_ >= 0) {
            EXPECT_EQ(setns(original_, CLONE_NEWNET), 0);
            close(original_);
        }
    }
    PrivateNetns(const PrivateNetns&) = delete;
    PrivateNetns& operator=(const PrivateNetns&) = delete;
    // False when the namespace could not be made (errno says why: EPERM without root).
    bool up() const { return up_; }

private:
    int original_;
    bool up_ = false;
};

}  // namespace trafstat::test
