// Packet tests of the keyed tables: the real program through BPF_PROG_TEST_RUN,
// their entries read back the way trafstat reads them (CounterProgram::drain_tables).
// Keys for IPv4 and IPv6, ports, ICMP type and code, TCP flags, fragments
// (no ports); each table keyed by its own fields; a full table's overflow,
// which leaves the other tables exact; the readers (mmap, batch lookups, one
// lookup per slot); the packet-size histogram. Every case checks each table's
// rule: entries + its overflow + unkeyed = ipv4 + ipv6.
#include "bpf/loader.hpp"
#include "output/labels.hpp"
#include "replay/runner.hpp"
#include "stats/counters.hpp"
#include "stats/flows.hpp"
#include "support/packet_builder.hpp"
#include "support/pinned_cpu.hpp"
#include "support/privileged.hpp"

#include <bpf/bpf.h>

#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace trafstat::test {
namespace {

using B = PacketBuilder;
enum class Entry { xdp, tc };

std::string entry_name(const ::testing::TestParamInfo<Entry>& i)
{
    return i.param == Entry::xdp ? "Xdp" : "Tc";
}

constexpr std::uint32_t kTalkers = TS_TABLE_BIT(TS_TABLE_TALKERS);
constexpr std::uint32_t kPorts = TS_TABLE_BIT(TS_TABLE_PORTS);
constexpr std::uint32_t kFlows = TS_TABLE_BIT(TS_TABLE_FLOWS);

std::optional<CounterProgram> load(std::uint32_t tables, TableSizes sizes = {64, 64, 64}, bool histogram = false,
                                   std::uint32_t cache_slots = TableLayout::kAutoCache)
{
    LoadOptions o;
    o.tables = tables;
    o.table_size = sizes;
    o.size_histogram = histogram;
    o.cache_slots = cache_slots;
    return acquire_privileged("load the counter program with its keyed tables",
                              [&] { return CounterProgram::load(o); });
}

void run(const CounterProgram& p, Entry e, const Bytes& frame, int repeat = 1)
{
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<__u32>(frame.size());
    opts.repeat = repeat;
    ASSERT_EQ(bpf_prog_test_run_opts(e == Entry::xdp ? p.xdp_fd() : p.tc_fd(), &opts), 0) << errno_text(-errno);
}

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

std::array<std::uint8_t, 16> doc6(std::uint8_t last)
{
    return {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
}

// Drains the tables (in place: nothing runs concurrently in a test) with
// `reader`, merges the CPUs' entries, and checks each table's rule over every
// entry drained so far (`so_far`, when the test drains twice).
TableEntries drain_all(CounterProgram& p, TableEntries* so_far = nullptr,
                       CounterProgram::Reader reader = CounterProgram::Reader::mmap)
{
    TableEntries raw, out;
    p.drain_tables_with(reader, raw, true);
    const ClassCounters totals = p.read();
    for (int t = 0; t < TS_TABLES; ++t) {
        out[t] = merge_by_key(raw[t]);
        EXPECT_EQ(out[t].size(), raw[t].size()) << "a key has two entries on one CPU (tests run pinned)";
        if (!(p.tables_on() & TS_TABLE_BIT(t))) {
            EXPECT_TRUE(raw[t].empty()) << table_name(t) << " is off";
            continue;
        }
        std::vector<FlowEntry> all = so_far ? (*so_far)[t] : std::vector<FlowEntry>{};
        all.insert(all.end(), out[t].begin(), out[t].end());
        if (so_far)
            (*so_far)[t] = all;
        const auto broken = reconcile_table(totals, static_cast<ts_table>(t), all);
        EXPECT_TRUE(broken.empty()) << broken.front();
    }
    return out;
}

// The entries of the one table that is on.
std::vector<FlowEntry> drain(CounterProgram& p, TableEntries* so_far = nullptr)
{
    const TableEntries all = drain_all(p, so_far);
    for (int t = 0; t < TS_TABLES; ++t)
        if (p.tables_on() == TS_TABLE_BIT(t))
            return all[t];
    ADD_FAILURE() << "drain() wants one table on";
    return {};
}

class FlowKeyTest : public ::testing::TestWithParam<Entry> {
    PinnedToOneCpu pinned_;
};

TEST_P(FlowKeyTest, Ipv4UdpFiveTuple)
{
    auto p = load(kFlows);
    if (!p)
        return;
    const Bytes f = B().eth().ipv4().udp(1234, 53).payload(10).build();
    run(*p, GetParam(), f, 3);
    const auto got = drain(*p);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key.src, v4(192, 0, 2, 1));
    EXPECT_EQ(got[0].key.dst, v4(198, 51, 100, 2));
    EXPECT_EQ(got[0].key.sport, 1234);
    EXPECT_EQ(got[0].key.dport, 53);
    EXPECT_EQ(got[0].key.proto, 17);
    EXPECT_EQ(got[0].key.ip_version, 4);
    EXPECT_EQ(got[0].stats.packets, 3u);
    EXPECT_EQ(got[0].stats.bytes, 3 * f.size());
    EXPECT_EQ(format_ip(got[0].key.src, 4), "192.0.2.1");
}

TEST_P(FlowKeyTest, Ipv6TcpFlagsAreOred)
{
    auto p = load(kFlows);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv6().tcp({.sport = 40000, .dport = 443, .flags = 0x02}).build());
    run(*p, GetParam(), B().eth().ipv6().tcp({.sport = 40000, .dport = 443, .flags = 0x11}).payload(5).build());
    const auto got = drain(*p);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key.src, doc6(1));
    EXPECT_EQ(got[0].key.dst, doc6(2));
    EXPECT_EQ(got[0].key.sport, 40000);
    EXPECT_EQ(got[0].key.dport, 443);
    EXPECT_EQ(got[0].key.proto, 6);
    EXPECT_EQ(got[0].key.ip_version, 6);
    EXPECT_EQ(got[0].stats.packets, 2u);
    EXPECT_EQ(got[0].stats.tcp_flags, 0x13);  // SYN | ACK | FIN
    EXPECT_EQ(format_ip(got[0].key.dst, 6), "2001:db8::2");
}

TEST_P(FlowKeyTest, IcmpTypeAndCodeInPlaceOfPorts)
{
    auto p = load(kFlows);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv4().icmp(3, 1).payload(28).build());
    run(*p, GetParam(), B().eth().ipv6().icmpv6(135, 0).payload(24).build());
    auto got = drain(*p);
    ASSERT_EQ(got.size(), 2u);
    std::sort(got.begin(), got.end(), [](auto& a, auto& b) { return a.key.ip_version < b.key.ip_version; });
    EXPECT_EQ(got[0].key.proto, 1);
    EXPECT_EQ(got[0].key.sport, 3);  // type: destination unreachable
    EXPECT_EQ(got[0].key.dport, 1);  // code: host unreachable
    EXPECT_EQ(got[1].key.proto, 58);
    EXPECT_EQ(got[1].key.sport, 135);  // neighbour solicitation
    EXPECT_EQ(got[1].key.dport, 0);
}

TEST_P(FlowKeyTest, NonFirstFragmentsHaveNoPorts)
{
    auto p = load(kFlows);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv4({.protocol = 17, .fragment_offset = 185}).payload(40).build());
    run(*p, GetParam(), B().eth().ipv6().fragment6(185, false, 7, 17).payload(40).build());
    auto got = drain(*p);
    ASSERT_EQ(got.size(), 2u);
    for (const auto& e : got) {
        EXPECT_EQ(e.key.proto, 17) << "keyed by the protocol the fragment carries";
        EXPECT_EQ(e.key.sport, 0);
        EXPECT_EQ(e.key.dport, 0);
    }
}

TEST_P(FlowKeyTest, TalkersKeyHasAddressesOnly)
{
    auto p = load(kTalkers);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv4().udp(1, 2).build());
    run(*p, GetParam(), B().eth().ipv4().tcp().build());
    const auto got = drain(*p);
    ASSERT_EQ(got.size(), 1u) << "both packets are the same pair of addresses";
    EXPECT_EQ(got[0].key.src, v4(192, 0, 2, 1));
    EXPECT_EQ(got[0].key.proto, 0);
    EXPECT_EQ(got[0].key.sport, 0);
    EXPECT_EQ(got[0].stats.packets, 2u);
}

TEST_P(FlowKeyTest, PortsKeyHasNoAddresses)
{
    auto p = load(kPorts);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv4({.src = {10, 0, 0, 1}}).udp(5000, 53).build());
    run(*p, GetParam(), B().eth().ipv4({.src = {10, 0, 0, 2}}).udp(5000, 53).build());
    const auto got = drain(*p);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].key.src, (std::array<std::uint8_t, 16>{}));
    EXPECT_EQ(got[0].key.dport, 53);
    EXPECT_EQ(got[0].stats.packets, 2u);
}

TEST_P(FlowKeyTest, UnreadableIpHeaderIsUnkeyed)
{
    auto p = load(kFlows);
    if (!p)
        return;
    const Bytes f = B().eth().ipv4({.protocol = 17, .ihl = 4}).payload(30).build();
    run(*p, GetParam(), f);
    EXPECT_TRUE(drain(*p).empty());
    EXPECT_EQ(p->read().table_unkeyed, (Counter{1, f.size()}));
}

TEST_P(FlowKeyTest, NonIpFramesAreNotTheTablesBusiness)
{
    auto p = load(kFlows);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().arp().build());
    EXPECT_TRUE(drain(*p).empty());
    const ClassCounters c = p->read();
    EXPECT_EQ(c.table_unkeyed, Counter{});
    EXPECT_EQ(c.table_overflow[TS_TABLE_FLOWS], Counter{});
}

// A table of 4 keys: 8 shared slots behind a cache of 4 on this CPU, 12
// keys in all; the other keys are overflow.
TEST_P(FlowKeyTest, FullTableCountsOverflowAndReconciles)
{
    constexpr std::uint32_t room = 4 + 8;
    auto p = load(kFlows, {64, 64, 4}, false, 4);
    if (!p)
        return;
    ASSERT_EQ(p->table_capacity(TS_TABLE_FLOWS), 4 * p->table_layout().cpus + 8);
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < 20; ++i) {
        const Bytes f = B().eth().ipv4().udp(static_cast<std::uint16_t>(1000 + i), 9).payload(i).build();
        run(*p, GetParam(), f, 2);
        bytes += 2 * f.size();
    }
    TableEntries drained;
    const auto got = drain(*p, &drained);  // also checks entries + overflow = ipv4
    EXPECT_EQ(got.size(), room);
    std::uint64_t in_entries = 0;
    for (const auto& e : got)
        in_entries += e.stats.packets;
    EXPECT_EQ(in_entries, 2 * room);
    EXPECT_EQ(p->read().table_overflow[TS_TABLE_FLOWS].packets, 40 - 2 * room);
    EXPECT_EQ(p->read()[TS_CLASS_IPV4].bytes, bytes);
    // Drained, the table has room again.
    run(*p, GetParam(), B().eth().ipv4().udp(7, 7).build());
    EXPECT_EQ(drain(*p, &drained).size(), 1u);
}

// The cache holds the first keys a CPU sees; the next go to the shared
// table, counted there exactly, with their TCP flags ORed (atomically).
TEST_P(FlowKeyTest, KeysBeyondTheCacheGoToTheSharedTable)
{
    for (const std::uint32_t cache : {4u, 0u}) {
        SCOPED_TRACE(cache ? "a cache of 4" : "no cache");
        auto p = load(kFlows, {64, 64, 64}, false, cache);
        if (!p)
            return;
        for (std::uint16_t i = 0; i < 40; ++i) {
            run(*p, GetParam(),
                B().eth().ipv4().tcp({.sport = static_cast<std::uint16_t>(1000 + i), .flags = 0x02}).build(), i + 1);
            run(*p, GetParam(),
                B().eth().ipv4().tcp({.sport = static_cast<std::uint16_t>(1000 + i), .flags = 0x10}).build());
        }
        const auto got = drain(*p);  // checks the rule
        ASSERT_EQ(got.size(), 40u);
        for (const auto& e : got) {
            EXPECT_EQ(e.stats.packets, e.key.sport - 1000u + 2) << e.key.sport;
            EXPECT_EQ(e.stats.tcp_flags, 0x12) << e.key.sport;
        }
        EXPECT_EQ(p->read().table_overflow[TS_TABLE_FLOWS], Counter{});
    }
}

TEST_P(FlowKeyTest, NoTableNoEntries)
{
    auto p = load(0);
    if (!p)
        return;
    run(*p, GetParam(), B().eth().ipv4().udp().build());
    TableEntries got;
    EXPECT_EQ(p->drain_tables(got), 0u);
    for (const auto& t : got)
        EXPECT_TRUE(t.empty());
    EXPECT_EQ(p->read().table_unkeyed, Counter{});
}

TEST_P(FlowKeyTest, SizeHistogramRmonBuckets)
{
    auto p = load(0, {64, 64, 64}, true);
    if (!p)
        return;
    for (std::size_t size : {60, 64, 65, 127, 128, 255, 256, 511, 512, 1023, 1024, 1518, 1519, 2000})
        run(*p, GetParam(), B().eth().ipv4().udp().pad_to(size).build());
    const ClassCounters c = p->read();
    const std::array<std::uint64_t, TS_SIZE_BUCKETS> want = {2, 2, 2, 2, 2, 2, 2};
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_EQ(c.size_hist[i].packets, want[i]) << "bucket " << i;
}

TEST_P(FlowKeyTest, EachTableIsKeyedByItsOwnFields)
{
    auto p = load(kTalkers | kPorts | kFlows);
    if (!p)
        return;
    // Two senders to one DNS server, each from two source ports.
    for (std::uint8_t host = 1; host <= 2; ++host)
        for (std::uint16_t sport = 5000; sport <= 5001; ++sport)
            run(*p, GetParam(), B().eth().ipv4({.src = {10, 0, 0, host}}).udp(sport, 53).build(), host);
    const TableEntries got = drain_all(*p);
    EXPECT_EQ(got[TS_TABLE_TALKERS].size(), 2u) << "one per pair of addresses";
    for (const auto& e : got[TS_TABLE_TALKERS]) {
        EXPECT_EQ(e.key.proto, 0);
        EXPECT_EQ(e.key.sport, 0);
        EXPECT_EQ(e.key.dport, 0);
        EXPECT_EQ(e.stats.packets, 2u * e.key.src[15]);
    }
    EXPECT_EQ(got[TS_TABLE_PORTS].size(), 2u) << "one per source and destination port";
    for (const auto& e : got[TS_TABLE_PORTS]) {
        EXPECT_EQ(e.key.src, (std::array<std::uint8_t, 16>{}));
        EXPECT_EQ(e.key.dst, (std::array<std::uint8_t, 16>{}));
        EXPECT_EQ((std::pair{e.key.proto, e.key.dport}), (std::pair<std::uint8_t, std::uint16_t>{17, 53}));
        EXPECT_EQ(e.stats.packets, 3u) << "one packet from host 1, two from host 2";
    }
    EXPECT_EQ(got[TS_TABLE_FLOWS].size(), 4u) << "one per 5-tuple";
}

TEST_P(FlowKeyTest, AFullTableLeavesTheOthersExact)
{
    // 20 flows between one pair of addresses: the flow table of 4 keys (12
    // slots on this CPU) overflows, the talkers table holds them all in one entry.
    auto p = load(kTalkers | kFlows, {4, 64, 4}, false, 4);
    if (!p)
        return;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < 20; ++i) {
        const Bytes f = B().eth().ipv4().udp(static_cast<std::uint16_t>(1000 + i), 9).build();
        run(*p, GetParam(), f);
        bytes += f.size();
    }
    const TableEntries got = drain_all(*p);  // checks each table's rule
    ASSERT_EQ(got[TS_TABLE_TALKERS].size(), 1u);
    EXPECT_EQ((Counter{got[TS_TABLE_TALKERS][0].stats.packets, got[TS_TABLE_TALKERS][0].stats.bytes}),
              (Counter{20, bytes}));
    EXPECT_EQ(got[TS_TABLE_FLOWS].size(), 12u);
    const ClassCounters c = p->read();
    EXPECT_EQ(c.table_overflow[TS_TABLE_FLOWS].packets, 8u);
    EXPECT_EQ(c.table_overflow[TS_TABLE_TALKERS], Counter{});
    EXPECT_TRUE(got[TS_TABLE_PORTS].empty()) << "off";
}

INSTANTIATE_TEST_SUITE_P(Flows, FlowKeyTest, ::testing::Values(Entry::xdp, Entry::tc), entry_name);

// The counting epoch closes the counters with the tables (abi.h): each close
// returns the half the closed epoch counted in, holding exactly the packets
// its table entries hold; packets after a close are the next epoch's. Both
// hooks, tables and the histogram alone.
TEST_P(FlowKeyTest, EpochHalvesCloseWithTheirEntries)
{
    PinnedToOneCpu pinned;
    for (const std::uint32_t tables : {kFlows, 0u}) {
        SCOPED_TRACE(tables ? "flows" : "histogram alone");
        auto p = load(tables, {64, 64, 64}, true);
        if (!p)
            return;
        const Bytes f = B().eth().ipv4().udp(1, 2).build();
        ClassCounters last[TS_STATS_HALVES];
        for (const int n : {5, 7, 3}) {
            run(*p, GetParam(), f, n);
            TableEntries raw;
            const HalfCounters closed = p->close_epoch(raw, true);
            const ClassCounters got = delta(closed.since_load, last[closed.half]);
            last[closed.half] = closed.since_load;
            const std::uint64_t want = static_cast<std::uint64_t>(n);
            EXPECT_EQ(got[TS_CLASS_ALL].packets, want);
            EXPECT_EQ(got.size_hist[0].packets, want) << "the histogram closes with the classes";
            if (tables) {
                ASSERT_EQ(raw[TS_TABLE_FLOWS].size(), 1u);
                EXPECT_EQ(raw[TS_TABLE_FLOWS][0].stats.packets, want);
                EXPECT_TRUE(reconcile_table(got, TS_TABLE_FLOWS, raw[TS_TABLE_FLOWS]).empty());
            }
        }
        EXPECT_EQ(p->read()[TS_CLASS_ALL].packets, 15u) << "read(): both halves";
    }
}

// Live draining flips the program to the other table and waits for running
// programs first: counts before and after a drain land in different drains.
TEST(FlowDrain, FlipsBetweenTablesWithoutLosingCounts)
{
    PinnedToOneCpu pinned;
    auto p = load(kFlows);
    if (!p)
        return;
    const Bytes f = B().eth().ipv4().udp(1, 2).build();
    run(*p, Entry::xdp, f, 5);
    TableEntries first, second;
    const auto now_ns = [] {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
    };
    const std::uint64_t before = now_ns();
    EXPECT_EQ(p->drain_tables(first), 1u);
    const std::uint64_t after = now_ns();
    run(*p, Entry::xdp, f, 7);
    EXPECT_EQ(p->drain_tables(second), 1u);
    ASSERT_EQ(first[TS_TABLE_FLOWS].size(), 1u);
    ASSERT_EQ(second[TS_TABLE_FLOWS].size(), 1u);
    EXPECT_EQ(first[TS_TABLE_FLOWS][0].stats.packets, 5u);
    // Live entries are dated by the drain that read them: first = last seen.
    const FlowStats& dated = first[TS_TABLE_FLOWS][0].stats;
    EXPECT_EQ(dated.first_ns, dated.last_ns);
    EXPECT_GE(dated.first_ns, before);
    EXPECT_LE(dated.first_ns, after);
    EXPECT_EQ(second[TS_TABLE_FLOWS][0].stats.packets, 7u);
    std::vector<FlowEntry> all = first[TS_TABLE_FLOWS];
    all.insert(all.end(), second[TS_TABLE_FLOWS].begin(), second[TS_TABLE_FLOWS].end());
    const auto broken = reconcile_table(p->read(), TS_TABLE_FLOWS, all);
    EXPECT_TRUE(broken.empty()) << broken.front();
}

// Where the array cannot be mapped, drains read it with batch lookups, or
// one lookup per slot where batches are refused: both read what mmap reads.
TEST(FlowDrain, BatchAndPerSlotReadersReadWhatMmapReads)
{
    PinnedToOneCpu pinned;
    auto p = load(kTalkers | kPorts | kFlows, {16, 1024, 64});
    if (!p)
        return;
    EXPECT_EQ(p->table_reader(), "mmap");
    using R = CounterProgram::Reader;
    TableEntries so_far;
    std::uint64_t round = 0;
    for (R reader : {R::batch, R::lookup, R::mmap, R::batch}) {
        ++round;
        for (std::uint16_t i = 0; i < 3; ++i)
            run(*p, Entry::tc,
                B().eth().ipv4().tcp({.sport = static_cast<std::uint16_t>(40000 + i), .dport = 443}).build(),
                static_cast<int>(round));
        const TableEntries got = drain_all(*p, &so_far, reader);  // checks each table's rule
        ASSERT_EQ(got[TS_TABLE_TALKERS].size(), 1u);
        EXPECT_EQ(got[TS_TABLE_TALKERS][0].stats.packets, 3 * round);
        ASSERT_EQ(got[TS_TABLE_PORTS].size(), 3u);
        ASSERT_EQ(got[TS_TABLE_FLOWS].size(), 3u);
        for (const auto& e : got[TS_TABLE_FLOWS])
            EXPECT_EQ(e.stats.packets, round);
    }
}

// Two CPUs count the same keys at the same time: each in its own cache (one
// entry per CPU), or, with no cache, in the shared table, where they race to
// claim each key's slot and then add to it atomically. Merged, every key
// holds exactly what was sent, and the table reconciles.
TEST(FlowCpus, HotKeysOnTwoCpusAtOnceCountExactly)
{
    std::vector<int> cpus;
    cpu_set_t allowed;
    sched_getaffinity(0, sizeof allowed, &allowed);
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
        if (CPU_ISSET(c, &allowed))
            cpus.push_back(c);
    if (cpus.size() < 2) {
        missing_privileges("count on two CPUs at once", "this process may run on one CPU only");
        return;
    }
    constexpr int kKeys = 16, kRepeat = 20000;
    std::vector<Bytes> frames;
    for (int k = 0; k < kKeys; ++k)
        frames.push_back(B().eth().ipv4().udp(static_cast<std::uint16_t>(2000 + k), 53).build());
    // Caches of kDenseCacheSlots, probed TS_CACHE_PROBES deep: each CPU's 16 keys
    // all find room there (a small cache's 2 probes may send one to the shared table).
    for (const std::uint32_t cache : {static_cast<std::uint32_t>(TableLayout::kDenseCacheSlots), 0u}) {
        SCOPED_TRACE(cache ? "caches" : "shared table alone");
        auto p = load(kFlows, {64, 64, 64}, false, cache);
        if (!p)
            return;
        std::atomic<int> ready = 0;
        const auto count_on = [&](int cpu) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            ++ready;
            while (ready < 2) {
            }
            for (int round = 0; round < 5; ++round)
                for (const Bytes& f : frames)
                    run(*p, Entry::xdp, f, kRepeat / 5);
        };
        std::thread a(count_on, cpus[0]), b(count_on, cpus[1]);
        a.join();
        b.join();
        TableEntries raw;
        p->drain_tables(raw, true);
        const auto got = merge_by_key(raw[TS_TABLE_FLOWS]);
        if (cache) {
            EXPECT_EQ(raw[TS_TABLE_FLOWS].size(), 2u * kKeys) << "one entry per key in each CPU's cache";
        }
        const auto broken = reconcile_table(p->read(), TS_TABLE_FLOWS, got);
        EXPECT_TRUE(broken.empty()) << broken.front();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(kKeys));
        for (const auto& e : got)
            EXPECT_EQ(e.stats.packets, 2u * kRepeat) << e.key.sport;
        EXPECT_EQ(p->read().table_overflow[TS_TABLE_FLOWS], Counter{});
    }
}

// A table holds the keys it is sized for: 65536 flows (the default) in the
// shared table alone (no cache), twice as many slots, probed in three runs of
// 16 from three starts: none is overflow (a simulation with this hash: none in 1000 loads).
TEST(FlowLayout, TheSharedTableAloneHoldsTheDefaultKeys)
{
    PinnedToOneCpu pinned;
    auto p = load(kFlows, kDefaultTableSizes, false, 0);
    if (!p)
        return;
    constexpr std::uint32_t kKeys = 65536;
    for (std::uint32_t k = 0; k < kKeys; ++k)
        run(*p, Entry::xdp,
            B().eth()
                .ipv4({.src = {10, 1, static_cast<std::uint8_t>(k >> 8), static_cast<std::uint8_t>(k)}})
                .udp(static_cast<std::uint16_t>(1024 + k % 7), 53)
                .build());
    EXPECT_EQ(p->read().table_overflow[TS_TABLE_FLOWS], Counter{});
    EXPECT_EQ(drain(*p).size(), kKeys);  // checks the rule
}

// Kernel memory does not grow with the CPU count: with default sizes, all
// three tables take at most 64 MiB on any machine up to 256 CPUs (and 1024),
// and each holds at least 65536 keys in its shared part alone.
TEST(FlowLayout, DefaultTablesFit64MiBOnAnyCpuCount)
{
    const std::uint32_t all = kTalkers | kPorts | kFlows;
    for (std::size_t cpus = 1; cpus <= 1024; cpus = cpus < 8 ? cpus + 1 : cpus * 2) {
        const TableLayout l = TableLayout::of(all, kDefaultTableSizes, TableLayout::kAutoCache, cpus);
        EXPECT_LE(l.kernel_bytes(), std::size_t{64} << 20) << cpus << " CPUs";
        for (int t = 0; t < TS_TABLES; ++t) {
            EXPECT_GE(l.shared[t], 2u * 65536) << cpus << " CPUs: twice the slots it holds keys";
            EXPECT_GE(l.cache[t], TableLayout::kMinCacheSlots) << cpus << " CPUs";
        }
    }
    // The caches share what the shared tables leave of 64 MiB: at least 16 slots per CPU.
    EXPECT_EQ(TableLayout::of(all, kDefaultTableSizes, TableLayout::kAutoCache, 2).cache[TS_TABLE_FLOWS], 16384u);
    EXPECT_EQ(TableLayout::of(all, kDefaultTableSizes, TableLayout::kAutoCache, 256).cache[TS_TABLE_FLOWS], 128u);
    EXPECT_EQ(TableLayout::of(all, kDefaultTableSizes, TableLayout::kAutoCache, 96).cache[TS_TABLE_FLOWS], 256u);
    // One table alone: each CPU's cache holds all its keys here.
    EXPECT_EQ(TableLayout::of(kFlows, kDefaultTableSizes, TableLayout::kAutoCache, 2).cache[TS_TABLE_FLOWS], 65536u);
    EXPECT_LE(TableLayout::of(kFlows, kDefaultTableSizes, TableLayout::kAutoCache, 2).kernel_bytes(),
              std::size_t{64} << 20);
    // A small table: a cache no larger than its keys.
    EXPECT_EQ(TableLayout::of(kFlows, {16, 16, 16}, TableLayout::kAutoCache, 2).cache[TS_TABLE_FLOWS], 16u);
}

// Replay keeps each slot's first and last capture times (table_times): a
// flow's are the earliest and latest of its packets, in any order.
TEST(FlowTimes, ReplayKeepsFirstAndLastCaptureTimes)
{
    auto runner = acquire_privileged("load the counter program for replay", [] {
        return std::make_unique<ReplayRunner>(1, LoadOptions{.tables = kTalkers | kFlows});
    });
    if (!runner)
        return;
    ReplayRunner& r = **runner;
    const Bytes a = B().eth().ipv4().udp(1000, 53).build();
    const Bytes b = B().eth().ipv4().udp(2000, 53).build();
    constexpr std::int64_t t0 = 1763900000'000000000;
    for (std::int64_t ts : {t0 + 100, t0 + 300, t0 + 200})
        r.submit(a, static_cast<std::uint32_t>(a.size()), ts);
    r.submit(b, static_cast<std::uint32_t>(b.size()), t0 + 50);
    r.drain();
    TableEntries raw;
    r.drain_tables(raw);
    auto flows = merge_by_key(raw[TS_TABLE_FLOWS]);
    ASSERT_EQ(flows.size(), 2u);
    std::sort(flows.begin(), flows.end(), [](auto& x, auto& y) { return x.key.sport < y.key.sport; });
    EXPECT_EQ(flows[0].stats, (FlowStats{3, 3 * a.size(), t0 + 100, t0 + 300, 0}));
    EXPECT_EQ(flows[1].stats, (FlowStats{1, b.size(), t0 + 50, t0 + 50, 0}));
    const auto talkers = merge_by_key(raw[TS_TABLE_TALKERS]);
    ASSERT_EQ(talkers.size(), 1u) << "one pair of addresses";
    EXPECT_EQ(talkers[0].stats, (FlowStats{4, 3 * a.size() + b.size(), t0 + 50, t0 + 300, 0}));
}

}  // namespace
}  // namespace trafstat::test
