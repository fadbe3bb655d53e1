// An interface's own counters read over rtnetlink (net/link_stats), in a
// network namespace of the test's own, after frames that move them, against
// the kernel's other view of the same counters: the files of
// /sys/class/net/<if>/statistics/ of a sysfs mounted in that namespace.
#include "net/link_stats.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "support/private_netns.hpp"
#include "support/privileged.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace trafstat::test {
namespace {

constexpr int kFrames = 25;
// IEEE 802 local experimental EtherType: no protocol of the kernel handles it.
constexpr std::uint16_t kUnhandledEtherType = 0x88b5;

// The counters as a sysfs mounted in the caller's network namespace shows them
// (the host's /sys shows the namespace that mounted it), in a child's private
// mount namespace so that the mount goes with it. Names: kLinkCounterFields's.
std::optional<LinkCounters> sysfs_counters(const std::string& iface)
{
    std::string command = "unshare --mount --propagation private sh -c 'mount -t sysfs sysfs /sys && cd "
                          "/sys/class/net/" +
                          iface + "/statistics && cat";
    for (const LinkCounterField& f : kLinkCounterFields)
        command += " " + std::string(f.name);
    command += "'";
    const std::unique_ptr<FILE, int (*)(FILE*)> out(popen(command.c_str(), "r"), pclose);
    if (!out) {
        ADD_FAILURE() << "cannot run: " << command;
        return std::nullopt;
    }
    LinkCounters counters;
    for (const LinkCounterField& f : kLinkCounterFields) {
        unsigned long long value = 0;
        if (std::fscanf(out.get(), "%llu", &value) != 1) {
            ADD_FAILURE() << "no " << f.name << " from: " << command;
            return std::nullopt;
        }
        counters.*f.member = value;
    }
    return counters;
}

// Every field of link_counters() equals sysfs's reading, read right after (the
// namespace is quiet: nothing else sends in it).
void expect_as_sysfs(const std::string& iface, const LinkCounters& read)
{
    const std::optional<LinkCounters> sysfs = sysfs_counters(iface);
    ASSERT_TRUE(sysfs);
    for (const LinkCounterField& f : kLinkCounterFields)
        EXPECT_EQ(read.*f.member, (*sysfs).*f.member) << iface << " " << f.name;
}

bool run(const std::string& command)
{
    const int status = std::system(command.c_str());
    EXPECT_EQ(status, 0) << command;
    return status == 0;
}

// Sends kFrames broadcast frames of kUnhandledEtherType out of `iface` through
// a packet socket (bound to no protocol, so it receives none of them).
// `bypass_qdisc`: straight to the driver (PACKET_QDISC_BYPASS); a link without
// carrier has a qdisc that discards every frame unseen by the driver.
void send_unhandled_frames(const std::string& iface, bool bypass_qdisc)
{
    const int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0) << std::strerror(errno);
    const int on = 1;
    if (bypass_qdisc) {
        EXPECT_EQ(setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &on, sizeof on), 0) << std::strerror(errno);
    }
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
    to.sll_protocol = htons(kUnhandledEtherType);
    std::array<unsigned char, 60> frame{};
    std::memset(frame.data(), 0xff, ETH_ALEN);  // broadcast: every receiver takes it
    frame[12] = kUnhandledEtherType >> 8;
    frame[13] = kUnhandledEtherType & 0xff;
    for (int i = 0; i < kFrames; ++i)
        // A frame the driver drops may fail with ENOBUFS: the counters say what happened.
        (void)sendto(s, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    close(s);
}

// The counters of `iface` once `field` has grown by `by` since `before`, or
// after 2 s (received frames are dropped in a softirq, usually before sendto
// returns, else soon after).
LinkCounters counters_once_grown(const std::string& iface, const LinkCounters& before,
                                 std::uint64_t LinkCounters::*field, std::uint64_t by)
{
    const std::uint32_t ifindex = if_nametoindex(iface.c_str());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    LinkCounters now = link_counters(ifindex);
    while (delta(now, before).*field < by && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = link_counters(ifindex);
    }
    return now;
}

// A private namespace, quiet: no IPv6 (router solicitations, DAD) on the links made in it.
bool enter_quiet_netns(const PrivateNetns& netns)
{
    if (!netns.up()) {
        missing_privileges("enter a network namespace of its own with lo up", std::strerror(errno));
        return false;
    }
    std::ofstream("/proc/sys/net/ipv6/conf/default/disable_ipv6") << 1;
    std::ofstream("/proc/sys/net/ipv6/conf/all/disable_ipv6") << 1;
    return true;
}

// Frames no protocol handles, sent on lo, come back and are dropped on receipt: rx_dropped.
TEST(LinkStats, LoopbackCountersAreSysfsCounters)
{
    const PrivateNetns netns;
    if (!enter_quiet_netns(netns))
        return;
    const std::uint32_t lo = if_nametoindex("lo");
    const LinkCounters before = link_counters(lo);
    expect_as_sysfs("lo", before);

    send_unhandled_frames("lo", false);
    const LinkCounters after = counters_once_grown("lo", before, &LinkCounters::rx_dropped, kFrames);
    EXPECT_EQ(delta(after, before), LinkCounters{.rx_dropped = kFrames});
    expect_as_sysfs("lo", after);
}

// A veth pair: frames sent while the peer is down are dropped by the sender
// (tx_dropped); once the peer is up, frames no protocol handles are dropped by
// the peer on receipt (rx_dropped).
TEST(LinkStats, VethCountersAreSysfsCounters)
{
    const PrivateNetns netns;
    if (!enter_quiet_netns(netns))
        return;
    // Names of a namespace of our own: no other test's links can clash.
    if (!run("ip link add lsa type veth peer name lsb && ip link set lsa up"))
        return;
    const std::uint32_t lsa = if_nametoindex("lsa"), lsb = if_nametoindex("lsb");

    const LinkCounters a_before = link_counters(lsa);
    send_unhandled_frames("lsa", true);
    const LinkCounters a_after = counters_once_grown("lsa", a_before, &LinkCounters::tx_dropped, kFrames);
    EXPECT_EQ(delta(a_after, a_before), LinkCounters{.tx_dropped = kFrames});
    expect_as_sysfs("lsa", a_after);

    if (!run("ip link set lsb up"))
        return;
    const LinkCounters b_before = link_counters(lsb);
    send_unhandled_frames("lsa", false);
    const LinkCounters b_after = counters_once_grown("lsb", b_before, &LinkCounters::rx_dropped, kFrames);
    EXPECT_EQ(delta(b_after, b_before), LinkCounters{.rx_dropped = kFrames});
    expect_as_sysfs("lsb", b_after);
    expect_as_sysfs("lsa", link_counters(lsa));
}

void expect_no_counters_of(std::uint32_t ifindex)
{
    try {
        link_counters(ifindex);
        ADD_FAILURE() << "counters read of ifindex " << ifindex << ", which does not exist";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::runtime);
        EXPECT_EQ(std::string(e.what()),
                  "cannot read the link counters of ifindex " + std::to_string(ifindex) + ": no such interface");
    }
}

TEST(LinkStats, AMissingOrGoneInterfaceIsAnError)
{
    const PrivateNetns netns;
    if (!enter_quiet_netns(netns))
        return;
    expect_no_counters_of(4242);  // a new namespace has lo only

    if (!run("ip link add lsgone type veth peer name lsgone1"))
        return;
    const std::uint32_t gone = if_nametoindex("lsgone");
    ASSERT_NE(gone, 0U);
    link_counters(gone);
    if (!run("ip link del lsgone"))
        return;
    expect_no_counters_of(gone);
}

}  // namespace
}  // namespace trafstat::test
