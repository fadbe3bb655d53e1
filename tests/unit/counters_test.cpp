// Per-CPU sums, deltas, rates and the reconciliation rules of abi.h.
#include "stats/counters.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace trafstat {
namespace {

constexpr std::size_t l4(ts_class c)
{
    return static_cast<std::size_t>(c - TS_L4_FIRST);
}

// Counts `n` frames of `size` bytes on one CPU the way the BPF program does
// (abi.h): an IP packet in its l4_by_ip cell only, any other frame in its L3
// class; sum_per_cpu derives the rest.
void count(ts_stats& s, ts_class l3, std::optional<ts_class> l4_class, std::uint64_t n, std::uint64_t size)
{
    auto bump = [&](ts_counter& c) {
        c.packets += n;
        c.bytes += n * size;
    };
    if (l4_class) {
        bump(s.l4_by_ip[l3 == TS_CLASS_IPV6 ? TS_IP_V6 : TS_IP_V4][l4(*l4_class)]);
    } else {
        bump(s.cls[l3]);
    }
}

// A consistent mix: TCP/UDP over both IP versions, ARP, a malformed frame.
ClassCounters consistent()
{
    ts_stats s{};
    count(s, TS_CLASS_IPV4, TS_CLASS_TCP, 10, 100);
    count(s, TS_CLASS_IPV4, TS_CLASS_UDP, 3, 60);
    count(s, TS_CLASS_IPV6, TS_CLASS_TCP, 2, 1500);
    count(s, TS_CLASS_IPV6, TS_CLASS_ICMPV6, 1, 90);
    count(s, TS_CLASS_IPV4, TS_CLASS_FRAGMENT, 4, 1000);
    count(s, TS_CLASS_ARP, std::nullopt, 5, 42);
    count(s, TS_CLASS_MALFORMED, std::nullopt, 1, 13);
    s.cls[TS_CLASS_VLAN] = {7, 700};  // flags do not take part in the rules
    return sum_per_cpu(std::span<const ts_stats>(&s, 1));
}

TEST(ClassNames, AreStableAndInEnumOrder)
{
    const std::vector<std::string_view> expected = {
        "all",    "ipv4", "ipv6", "arp", "other_l3", "malformed", "tcp",          "udp",  "icmp",
        "icmpv6", "sctp", "gre",  "esp", "other_l4", "fragment",  "malformed_l4", "vlan", "pppoe",
    };
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(TS_CLASS_MAX));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto c = static_cast<ts_class>(i);
        EXPECT_EQ(class_name(c), expected[i]);
        EXPECT_EQ(class_from_name(expected[i]), c);
    }
}

TEST(ClassNames, UnknownNames)
{
    EXPECT_EQ(class_from_name("ipv5"), std::nullopt);
    EXPECT_EQ(class_from_name(""), std::nullopt);
    EXPECT_EQ(class_from_name("TCP"), std::nullopt);  // names are lower case
    EXPECT_EQ(class_name(TS_CLASS_MAX), "unknown");
}

TEST(ClassNames, IpVersions)
{
    EXPECT_EQ(ip_version_name(TS_IP_V4), "ipv4");
    EXPECT_EQ(ip_version_name(TS_IP_V6), "ipv6");
}

TEST(SumPerCpu, EmptyIsZero)
{
    EXPECT_EQ(sum_per_cpu({}), ClassCounters{});
}

TEST(SumPerCpu, AddsEveryFieldOverAllCpus)
{
    std::vector<ts_stats> cpus(4);
    cpus[0].cls[TS_CLASS_ALL] = {1, 100};
    cpus[1].cls[TS_CLASS_ALL] = {2, 200};
    cpus[3].cls[TS_CLASS_ALL] = {4, 400};  // cpu 2 saw nothing
    cpus[0].cls[TS_CLASS_PPPOE] = {5, 50};
    cpus[2].cls[TS_CLASS_PPPOE] = {6, 60};
    cpus[1].l4_by_ip[TS_IP_V6][l4(TS_CLASS_MALFORMED_L4)] = {7, 70};
    cpus[3].l4_by_ip[TS_IP_V6][l4(TS_CLASS_MALFORMED_L4)] = {8, 80};
    cpus[2].l4_by_ip[TS_IP_V4][l4(TS_CLASS_TCP)] = {9, 90};

    const ClassCounters sum = sum_per_cpu(cpus);
    EXPECT_EQ(sum.l4_by_ip[TS_IP_V6][l4(TS_CLASS_MALFORMED_L4)], (Counter{15, 150}));
    EXPECT_EQ(sum.l4_by_ip[TS_IP_V4][l4(TS_CLASS_TCP)], (Counter{9, 90}));
    EXPECT_EQ(sum.l4_by_ip[TS_IP_V4][l4(TS_CLASS_MALFORMED_L4)], Counter{});
    EXPECT_EQ(sum[TS_CLASS_PPPOE], (Counter{11, 110}));
    // Derived: the IP versions from their rows, the L4 classes from their
    // columns, `all` from the kernel's own (drop mode) plus the L3 classes.
    EXPECT_EQ(sum[TS_CLASS_IPV4], (Counter{9, 90}));
    EXPECT_EQ(sum[TS_CLASS_IPV6], (Counter{15, 150}));
    EXPECT_EQ(sum[TS_CLASS_TCP], (Counter{9, 90}));
    EXPECT_EQ(sum[TS_CLASS_MALFORMED_L4], (Counter{15, 150}));
    EXPECT_EQ(sum[TS_CLASS_ALL], (Counter{7 + 9 + 15, 700 + 90 + 150}));
    EXPECT_FALSE(reconcile(sum).empty()) << "`all` holds drop-mode frames that no L3 class has";
}

TEST(SumPerCpu, AddsTheKeyedTableAndHistogramCounters)
{
    std::vector<ts_stats> cpus(2);
    cpus[0].table_overflow[TS_TABLE_FLOWS] = {1, 10};
    cpus[1].table_overflow[TS_TABLE_FLOWS] = {2, 20};
    cpus[1].table_overflow[TS_TABLE_TALKERS] = {7, 70};
    cpus[1].table_unkeyed = {3, 30};
    cpus[0].size_hist[6] = {4, 6000};
    cpus[1].size_hist[6] = {1, 1600};
    const ClassCounters sum = sum_per_cpu(cpus);
    EXPECT_EQ(sum.table_overflow[TS_TABLE_FLOWS], (Counter{3, 30}));
    EXPECT_EQ(sum.table_overflow[TS_TABLE_TALKERS], (Counter{7, 70}));
    EXPECT_EQ(sum.table_overflow[TS_TABLE_PORTS], Counter{});
    EXPECT_EQ(sum.table_unkeyed, (Counter{3, 30}));
    EXPECT_EQ(delta(sum, ClassCounters{}).table_overflow[TS_TABLE_TALKERS], (Counter{7, 70}));
    EXPECT_EQ(sum.size_hist[6], (Counter{5, 7600}));
    EXPECT_EQ(delta(sum, ClassCounters{}).size_hist[6], (Counter{5, 7600}));
}

TEST(SumPerCpu, SumsLargeCounters)
{
    std::vector<ts_stats> cpus(2);
    cpus[0].cls[TS_CLASS_ALL].bytes = 1ULL << 40;
    cpus[1].cls[TS_CLASS_ALL].bytes = 1ULL << 40;
    EXPECT_EQ(sum_per_cpu(cpus)[TS_CLASS_ALL].bytes, 1ULL << 41);
}

TEST(Delta, SubtractsFieldByField)
{
    ClassCounters before;
    ClassCounters now;
    before[TS_CLASS_UDP] = {10, 1000};
    now[TS_CLASS_UDP] = {15, 1600};
    before.l4_by_ip[TS_IP_V4][l4(TS_CLASS_UDP)] = {3, 30};
    now.l4_by_ip[TS_IP_V4][l4(TS_CLASS_UDP)] = {8, 80};
    now[TS_CLASS_ARP] = {2, 84};

    const ClassCounters d = delta(now, before);
    EXPECT_EQ(d[TS_CLASS_UDP], (Counter{5, 600}));
    EXPECT_EQ(d.l4_by_ip[TS_IP_V4][l4(TS_CLASS_UDP)], (Counter{5, 50}));
    EXPECT_EQ(d[TS_CLASS_ARP], (Counter{2, 84}));
    EXPECT_EQ(d[TS_CLASS_TCP], Counter{});
}

TEST(Delta, FieldGoingBackwardsYieldsNow)
{
    ClassCounters before;
    ClassCounters now;
    before[TS_CLASS_ALL] = {100, 10000};
    now[TS_CLASS_ALL] = {4, 400};  // map recreated
    before[TS_CLASS_IPV4] = {50, 5000};
    now[TS_CLASS_IPV4] = {60, 4000};  // only the bytes went back
    before.l4_by_ip[TS_IP_V6][l4(TS_CLASS_ESP)] = {9, 900};
    now.l4_by_ip[TS_IP_V6][l4(TS_CLASS_ESP)] = {1, 100};

    const ClassCounters d = delta(now, before);
    EXPECT_EQ(d[TS_CLASS_ALL], (Counter{4, 400}));
    EXPECT_EQ(d[TS_CLASS_IPV4], (Counter{10, 4000}));
    EXPECT_EQ(d.l4_by_ip[TS_IP_V6][l4(TS_CLASS_ESP)], (Counter{1, 100}));
}

TEST(Delta, OfItselfIsZero)
{
    const ClassCounters c = consistent();
    EXPECT_EQ(delta(c, c), ClassCounters{});
    EXPECT_EQ(delta(c, ClassCounters{}), c);
}

TEST(PlusEquals, AddsEverything)
{
    ClassCounters acc = consistent();
    acc += consistent();
    const ClassCounters one = consistent();
    for (std::size_t i = 0; i < acc.cls.size(); ++i) {
        EXPECT_EQ(acc.cls[i].packets, 2 * one.cls[i].packets) << class_name(static_cast<ts_class>(i));
        EXPECT_EQ(acc.cls[i].bytes, 2 * one.cls[i].bytes) << class_name(static_cast<ts_class>(i));
    }
    EXPECT_EQ(acc.l4_by_ip[TS_IP_V6][l4(TS_CLASS_TCP)], (Counter{4, 6000}));
}

TEST(Rate, PacketsAndBitsPerSecond)
{
    const Rate r = rate({1000, 125000}, 2.0);
    EXPECT_DOUBLE_EQ(r.pps, 500.0);
    EXPECT_DOUBLE_EQ(r.bps, 500000.0);  // 125000 bytes * 8 / 2 s
}

TEST(Rate, FractionalInterval)
{
    const Rate r = rate({3, 150}, 0.25);
    EXPECT_DOUBLE_EQ(r.pps, 12.0);
    EXPECT_DOUBLE_EQ(r.bps, 4800.0);
}

TEST(Rate, NonPositiveSecondsGiveZero)
{
    for (double s : {0.0, -1.0, std::nan("")}) {
        const Rate r = rate({10, 1000}, s);
        EXPECT_EQ(r.pps, 0.0) << s;
        EXPECT_EQ(r.bps, 0.0) << s;
    }
}

TEST(Reconcile, ConsistentSetPasses)
{
    EXPECT_TRUE(reconcile(ClassCounters{}).empty());
    const auto problems = reconcile(consistent());
    EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(Reconcile, SummedOverCpusStillPasses)
{
    // Each CPU is consistent on its own, so their sum is too.
    std::vector<ts_stats> cpus(3);
    count(cpus[0], TS_CLASS_IPV4, TS_CLASS_SCTP, 2, 200);
    count(cpus[1], TS_CLASS_IPV6, TS_CLASS_GRE, 3, 300);
    count(cpus[2], TS_CLASS_OTHER_L3, std::nullopt, 4, 64);
    count(cpus[2], TS_CLASS_IPV6, TS_CLASS_MALFORMED_L4, 1, 50);
    EXPECT_TRUE(reconcile(sum_per_cpu(cpus)).empty());
}

TEST(Reconcile, GsoSuperPacketsStillPass)
{
    // TC counts one GSO super-packet as gso_segs packets in every class it
    // touches, so packets may exceed frames but the rules still hold.
    ts_stats s{};
    count(s, TS_CLASS_IPV4, TS_CLASS_TCP, 45, 1514);
    EXPECT_TRUE(reconcile(sum_per_cpu(std::span<const ts_stats>(&s, 1))).empty());
}

TEST(Reconcile, AllMustEqualSumOfL3)
{
    ClassCounters c = consistent();
    c[TS_CLASS_ALL].packets += 1;
    const auto problems = reconcile(c);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "all.packets 27 != sum of L3 classes 26");
}

TEST(Reconcile, BytesAreCheckedToo)
{
    ClassCounters c = consistent();
    c[TS_CLASS_ARP].bytes -= 2;
    c[TS_CLASS_ALL].bytes -= 2;  // both sides moved together: still consistent
    EXPECT_TRUE(reconcile(c).empty());
    c[TS_CLASS_ALL].bytes += 5;
    const auto problems = reconcile(c);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "all.bytes 8496 != sum of L3 classes 8491");
}

TEST(Reconcile, IpVersionMustEqualItsL4Row)
{
    ClassCounters c = consistent();
    c.l4_by_ip[TS_IP_V6][l4(TS_CLASS_TCP)].packets -= 1;
    const auto problems = reconcile(c);
    // The IPv6 row no longer adds up to ipv6, and tcp no longer equals its two cells.
    const std::set<std::string> got(problems.begin(), problems.end());
    const std::set<std::string> expected = {
        "ipv6.packets 3 != sum of l4_by_ip.ipv6 2",
        "tcp.packets 12 != l4_by_ip.ipv4.tcp + l4_by_ip.ipv6.tcp 11",
    };
    EXPECT_EQ(got, expected);
}

TEST(Reconcile, AggregateL4MustEqualBothRows)
{
    ClassCounters c = consistent();
    c[TS_CLASS_UDP] = {4, 240};  // one packet too many in the aggregate only
    const auto problems = reconcile(c);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "udp.packets 4 != l4_by_ip.ipv4.udp + l4_by_ip.ipv6.udp 3");
    EXPECT_EQ(problems[1], "udp.bytes 240 != l4_by_ip.ipv4.udp + l4_by_ip.ipv6.udp 180");
}

TEST(Reconcile, PacketWithoutL4ClassIsCaught)
{
    // An IPv4 packet counted at L3 but never classified at L4.
    ClassCounters c = consistent();
    c[TS_CLASS_ALL] = {c[TS_CLASS_ALL].packets + 1, c[TS_CLASS_ALL].bytes + 60};
    c[TS_CLASS_IPV4] = {c[TS_CLASS_IPV4].packets + 1, c[TS_CLASS_IPV4].bytes + 60};
    const auto problems = reconcile(c);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "ipv4.packets 18 != sum of l4_by_ip.ipv4 17");
    EXPECT_EQ(problems[1], "ipv4.bytes 5240 != sum of l4_by_ip.ipv4 5180");
}

TEST(Reconcile, FlagsAreNotChecked)
{
    ClassCounters c = consistent();
    c[TS_CLASS_VLAN] = {1000, 1};
    c[TS_CLASS_PPPOE] = {5, 5};
    EXPECT_TRUE(reconcile(c).empty());
}

}  // namespace
}  // namespace trafstat
