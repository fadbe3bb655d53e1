// The drop counter's foundation (issue 13): the kernel's drop-reason names
// read from its BTF (checked against bpftool's own reading of the same BTF),
// and real drops counted on loopback in a network namespace of the test's
// own, against the kernel's own counter of the same drops.
#include "bpf/drop_reasons.hpp"
#include "bpf/drops.hpp"
#include "stats/drops.hpp"
#include "support/private_netns.hpp"
#include "support/privileged.hpp"

#include <trafstat/abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace trafstat::test {
namespace {

// The value of SKB_DROP_REASON_<name> as bpftool prints the running kernel's BTF.
std::optional<std::uint32_t> bpftool_reason_value(const std::string& name)
{
    const std::unique_ptr<FILE, int (*)(FILE*)> dump(
        popen("bpftool btf dump file /sys/kernel/btf/vmlinux format c 2>/dev/null", "r"), pclose);
    if (!dump)
        return std::nullopt;
    const std::string wanted = "SKB_DROP_REASON_" + name + " = ";
    char line[512];
    while (std::fgets(line, sizeof line, dump.get())) {
        const std::string_view text(line);
        if (const auto at = text.find(wanted); at != std::string_view::npos)
            return static_cast<std::uint32_t>(std::stoul(std::string(text.substr(at + wanted.size()))));
    }
    return std::nullopt;
}

TEST(DropReasons, NamesTheRunningKernelsReasonsByTheirValues)
{
    const DropReasons reasons = drop_reasons_of_running_kernel();
    ASSERT_TRUE(reasons.known()) << "this kernel (6.18) has enum skb_drop_reason in its BTF";
    for (const std::string name :
         {"NOT_SPECIFIED", "NO_SOCKET", "TCP_CSUM", "NETFILTER_DROP", "SOCKET_RCVBUFF", "IP_CSUM"}) {
        const std::optional<std::uint32_t> value = bpftool_reason_value(name);
        ASSERT_TRUE(value) << "bpftool finds no SKB_DROP_REASON_" << name;
        std::string lower = name;
        for (char& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(reasons.name(*value), lower) << "value " << *value;
    }
    EXPECT_EQ(reasons.name(1), "consumed");
    EXPECT_EQ(reasons.name(TS_DROP_REASON_UNKNOWN), "unknown");
    EXPECT_EQ(reasons.name(TS_DROP_REASON_XDP_ABORTED), "xdp_aborted");
    EXPECT_EQ(reasons.name(TS_DROP_REASON_XDP_INVALID), "xdp_invalid");
}

TEST(DropReasons, WithoutTheEnumEveryDropIsUnknown)
{
    const std::unique_ptr<struct btf, void (*)(struct btf*)> empty(btf__new_empty(), btf__free);
    ASSERT_TRUE(empty);
    const DropReasons reasons = drop_reasons_from_btf(empty.get());
    EXPECT_FALSE(reasons.known());
    EXPECT_EQ(reasons.name(3), "unknown");
    EXPECT_EQ(reasons.name(TS_DROP_REASON_XDP_ABORTED), "xdp_aborted");
}

// UdpNoPorts of /proc/net/snmp, in the caller's network namespace.
std::uint64_t udp_no_ports()
{
    std::ifstream snmp("/proc/net/snmp");
    std::string header, values;
    while (std::getline(snmp, header) && std::getline(snmp, values)) {
        if (!header.starts_with("Udp: "))
            continue;
        std::istringstream names(header), numbers(values);
        std::string name, number;
        while (names >> name && numbers >> number)
            if (name == "NoPorts")
                return std::stoull(number);
    }
    ADD_FAILURE() << "no Udp NoPorts in /proc/net/snmp";
    return 0;
}

constexpr int kDatagrams = 100;
constexpr std::size_t kPayload = 32;

// Sends kDatagrams UDP datagrams of kPayload bytes to a closed port of
// 127.0.0.1 and returns how many the kernel counted as UdpNoPorts. Loopback
// delivers in the sender's softirq, before sendto returns: every drop is done.
std::uint64_t send_to_closed_port()
{
    const std::uint64_t before = udp_no_ports();
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(s, 0);
    sockaddr_in closed{};
    closed.sin_family = AF_INET;
    closed.sin_port = htons(9);  // nothing listens in a new namespace
    closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char payload[kPayload] = {};
    for (int i = 0; i < kDatagrams; ++i)
        EXPECT_EQ(sendto(s, payload, sizeof payload, 0, reinterpret_cast<const sockaddr*>(&closed), sizeof closed),
                  static_cast<ssize_t>(sizeof payload));
    close(s);
    return udp_no_ports() - before;
}

// The drop counter, attached, monitoring `lo` of the caller's namespace (nullopt: recorded).
std::optional<DropCounter> counter_on_lo(const PrivateNetns& netns, std::uint32_t flow_capacity = 64,
                                         bool kernel_reasons = true)
{
    if (!netns.up()) {
        missing_privileges("enter a network namespace of its own with lo up", std::strerror(errno));
        return std::nullopt;
    }
    const std::uint32_t lo[] = {if_nametoindex("lo")};
    return acquire_privileged("attach the drop counter",
                              [&] { return DropCounter::attach(lo, flow_capacity, kernel_reasons); });
}

// One drain of the one interface monitored, each rule of stats/drops.hpp checked.
InterfaceDrops drain_one(DropCounter& counter, bool quiescent = false)
{
    const DropDrain drain = counter.drain(quiescent);
    EXPECT_EQ(drain.missed, 0U) << "no drop inside a drop here";
    const std::vector<InterfaceDrops>& drained = drain.interfaces;
    EXPECT_EQ(drained.size(), 1U);
    if (drained.empty())
        return {};
    EXPECT_EQ(reconcile(drained.front()), std::vector<std::string>{});
    return drained.front();
}

void print(const InterfaceDrops& drops, const DropReasons& reasons)
{
    for (std::uint32_t d = 0; d < TS_DROP_DIRECTIONS; ++d)
        for (const DropCount& c : drops.directions[d].counts)
            std::printf("drop: lo %s %s %s: %llu packets, %llu bytes\n",
                        std::string(drop_direction_name(static_cast<ts_drop_direction>(d))).c_str(),
                        std::string(reasons.name(c.reason)).c_str(), drop_class_name(c.cls).c_str(),
                        static_cast<unsigned long long>(c.counted.packets),
                        static_cast<unsigned long long>(c.counted.bytes));
}

TEST(DropCounter, CountsUdpToAClosedPortAsTheKernelDoes)
{
    const PrivateNetns netns;
    auto counter = counter_on_lo(netns);
    if (!counter)
        return;
    const DropReasons reasons = drop_reasons_of_running_kernel();

    const std::uint64_t no_ports = send_to_closed_port();
    ASSERT_EQ(no_ports, static_cast<std::uint64_t>(kDatagrams));

    const InterfaceDrops drops = drain_one(*counter);
    print(drops, reasons);
    EXPECT_EQ(drops.directions[TS_DROP_LEAVING].counts, std::vector<DropCount>{});
    // The frame from its Ethernet header (loopback's, all zero): 14 + 20 + 8 + payload.
    const std::uint64_t frame = 14 + 20 + 8 + kPayload;
    const std::vector<DropCount> want = {{.reason = *bpftool_reason_value("NO_SOCKET"),
                                          .cls = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP),
                                          .counted = {no_ports, no_ports * frame}}};
    EXPECT_EQ(drops.directions[TS_DROP_RECEIVED].counts, want);
    // One flow: 127.0.0.1 (some ephemeral port) → 127.0.0.1:9, UDP.
    ASSERT_EQ(drops.flows.size(), 1U);
    const DroppedFlow& flow = drops.flows.front();
    EXPECT_EQ(flow.counted, want.front().counted);
    EXPECT_EQ(flow.key.direction, TS_DROP_RECEIVED);
    EXPECT_EQ(flow.key.reason, want.front().reason);
    EXPECT_EQ(flow.key.flow.ip_version, 4);
    EXPECT_EQ(flow.key.flow.proto, IPPROTO_UDP);
    EXPECT_EQ(flow.key.flow.dport, 9);
    EXPECT_EQ(flow.key.flow.dst[12], 127);
    EXPECT_EQ(flow.key.flow.src[15], 1);

    // The drain emptied the half it read: the next one has nothing.
    const InterfaceDrops next = drain_one(*counter);
    EXPECT_EQ(next.directions[TS_DROP_RECEIVED].counts, std::vector<DropCount>{});
    EXPECT_EQ(next.flows, std::vector<DroppedFlow>{});
}

// A kernel before 5.17 passes no reason: the program without the argument
// (loaded there instead) counts every drop, as unknown.
TEST(DropCounter, WithoutTheKernelsReasonsEveryDropIsUnknown)
{
    const PrivateNetns netns;
    auto counter = counter_on_lo(netns, 64, false);
    if (!counter)
        return;
    ASSERT_EQ(send_to_closed_port(), static_cast<std::uint64_t>(kDatagrams));
    const InterfaceDrops drops = drain_one(*counter);
    const std::vector<DropCount> want = {{.reason = TS_DROP_REASON_UNKNOWN,
                                          .cls = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP),
                                          .counted = {kDatagrams, kDatagrams * (14 + 20 + 8 + kPayload)}}};
    EXPECT_EQ(drops.directions[TS_DROP_RECEIVED].counts, want);
}

// A flow table of 2 per drain: a third flow is overflow, and the drain still reconciles.
TEST(DropCounter, CountsWhatAFullFlowTableCannotHoldAsOverflow)
{
    const PrivateNetns netns;
    auto counter = counter_on_lo(netns, 2);
    if (!counter)
        return;
    const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    for (std::uint16_t port = 9; port < 12; ++port) {
        sockaddr_in closed{};
        closed.sin_family = AF_INET;
        closed.sin_port = htons(port);
        closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < 5; ++i)
            ASSERT_EQ(sendto(s, "x", 1, 0, reinterpret_cast<const sockaddr*>(&closed), sizeof closed), 1);
    }
    close(s);
    const InterfaceDrops drops = drain_one(*counter);
    EXPECT_EQ(drops.flows.size(), 2U);
    EXPECT_EQ(drops.directions[TS_DROP_RECEIVED].flow_overflow.packets, 5U);
    EXPECT_EQ(drops.directions[TS_DROP_RECEIVED].total().packets, 15U);
}

// lo has the same ifindex in every namespace: only the monitored namespace's counts.
TEST(DropCounter, IgnoresTheSameInterfaceInAnotherNamespace)
{
    const PrivateNetns netns;
    auto counter = counter_on_lo(netns);
    if (!counter)
        return;
    {
        const PrivateNetns other;
        ASSERT_TRUE(other.up());
        ASSERT_EQ(send_to_closed_port(), static_cast<std::uint64_t>(kDatagrams));
    }
    const InterfaceDrops drops = drain_one(*counter);
    for (const DirectionDrops& d : drops.directions)
        EXPECT_EQ(d.counts, std::vector<DropCount>{});
    EXPECT_EQ(drops.flows, std::vector<DroppedFlow>{});
}

// An XDP program that aborts every frame, attached in generic mode to lo of
// the test's namespace: each datagram sent is one XDP_ABORTED.
TEST(DropCounter, CountsXdpAbortedOnTheInterface)
{
    const PrivateNetns netns;
    auto counter = counter_on_lo(netns);
    if (!counter)
        return;
    const struct bpf_insn abort_all[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = XDP_ABORTED},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    const int prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "ts_abort_all", "GPL", abort_all, 2, nullptr);
    ASSERT_GE(prog, 0) << std::strerror(errno);
    const int lo = static_cast<int>(if_nametoindex("lo"));
    ASSERT_EQ(bpf_xdp_attach(lo, prog, XDP_FLAGS_SKB_MODE, nullptr), 0);
    const std::uint64_t no_ports = send_to_closed_port();
    EXPECT_EQ(bpf_xdp_detach(lo, XDP_FLAGS_SKB_MODE, nullptr), 0);
    close(prog);
    EXPECT_EQ(no_ports, 0U) << "no datagram reached UDP";

    const DropReasons reasons = drop_reasons_of_running_kernel();
    const InterfaceDrops drops = drain_one(*counter);
    print(drops, reasons);
    std::uint64_t aborted = 0, freed = 0;
    for (const DropCount& d : drops.directions[TS_DROP_RECEIVED].counts) {
        if (d.reason == TS_DROP_REASON_XDP_ABORTED) {
            aborted += d.counted.packets;
            EXPECT_EQ(d.counted.bytes, 0U) << "xdp_exception carries no packet";
            EXPECT_EQ(d.cls, static_cast<std::uint32_t>(TS_DROP_CLASS_UNPARSED));
        } else {
            freed += d.counted.packets;
            EXPECT_EQ(d.cls, static_cast<std::uint32_t>(TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP)));
        }
    }
    EXPECT_EQ(aborted, static_cast<std::uint64_t>(kDatagrams));
    // Generic XDP then frees each skb with kfree_skb too (Linux 6.18: not_specified).
    EXPECT_EQ(freed, static_cast<std::uint64_t>(kDatagrams));
}

}  // namespace
}  // namespace trafstat::test
