// The counting engine against a fake kernel: deltas, rates, the first
// interval, epochs whose counters and table entries close together so that
// every interval reconciles, overflow, the histogram, ageing, and epochs
// closed between intervals (replay). No privileges.
#include "engine/engine.hpp"

#include <trafstat/abi.h>

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

namespace trafstat {
namespace {

// A counting program as the engine sees it, modelled on the kernel's
// (abi.h): per-CPU counters in two halves, one per epoch parity, and table
// entries of the current epoch; closing an epoch hands over its entries and
// its half. Without halves (no table, no histogram) everything counts in half 0.
class FakeSource final : public CounterSource {
public:
    std::array<std::vector<ts_stats>, TS_STATS_HALVES> halves{std::vector<ts_stats>(2), std::vector<ts_stats>(2)};
    bool epoch_halves = true;
    std::uint32_t epoch = 1;
    TableEntries current;  // the tables' entries of the current epoch (one per key and CPU)
    TableCapacities capacities{0, 0, 256};
    int closes = 0;

    // The counters a packet counted now goes to, on `cpu`.
    ts_stats& cpu(int cpu) { return halves[epoch_halves ? epoch & 1 : 0][static_cast<std::size_t>(cpu)]; }
    void add_entries(const TableEntries& entries)
    {
        for (int t = 0; t < TS_TABLES; ++t)
            current[t].insert(current[t].end(), entries[t].begin(), entries[t].end());
    }
    HalfCounters close_epoch(TableEntries& out) override
    {
        ++closes;
        if (!epoch_halves)
            return {0, sum_per_cpu(halves[0])};
        const std::uint32_t closed = epoch++;
        for (int t = 0; t < TS_TABLES; ++t)
            out[t].insert(out[t].end(), current[t].begin(), current[t].end());
        current = {};
        return {closed & 1, sum_per_cpu(halves[closed & 1])};
    }
    TableCapacities table_capacities() const override { return capacities; }
};

// `packets` UDP/IPv4 packets of `size` bytes counted on `cpu`, as the program
// counts them (with the histogram, in its bucket too).
void count_udp4(FakeSource& s, int cpu, std::uint64_t packets, std::uint64_t size)
{
    ts_counter& c = s.cpu(cpu).l4_by_ip[TS_IP_V4][TS_CLASS_UDP - TS_L4_FIRST];
    c.packets += packets;
    c.bytes += packets * size;
    ts_counter& h = s.cpu(cpu).size_hist[size <= 64 ? 0 : size <= 127 ? 1 : 5];
    h.packets += packets;
    h.bytes += packets * size;
}

void overflow(FakeSource& s, int cpu, ts_table table, std::uint64_t packets, std::uint64_t size)
{
    ts_counter& c = s.cpu(cpu).table_overflow[table];
    c.packets += packets;
    c.bytes += packets * size;
}

FlowEntry flow(std::uint8_t host, std::uint64_t packets, std::uint64_t bytes)
{
    FlowEntry e;
    e.key.src[10] = e.key.src[11] = e.key.dst[10] = e.key.dst[11] = 0xff;  // IPv4-mapped
    e.key.src[12] = 10;
    e.key.src[15] = host;
    e.key.dst[12] = 10;
    e.key.dst[15] = 99;
    e.key.sport = static_cast<std::uint16_t>(1000 + host);
    e.key.dport = 53;
    e.key.proto = 17;
    e.key.ip_version = 4;
    e.stats.packets = packets;
    e.stats.bytes = bytes;
    return e;
}

TableEntries flows(std::vector<FlowEntry> entries)
{
    TableEntries t;
    t[TS_TABLE_FLOWS] = std::move(entries);
    return t;
}

CountingConfig flows_on(std::optional<double> idle_timeout_s = std::nullopt)
{
    CountingConfig c;
    c.tables = TS_TABLE_BIT(TS_TABLE_FLOWS);
    c.histogram = true;
    c.idle_timeout_s = idle_timeout_s;
    return c;
}

struct Fixture {
    FakeSource* source;
    CountingEngine engine;
};

Fixture make(const CountingConfig& config, double interval_s = 1.0)
{
    auto source = std::make_unique<FakeSource>();
    source->epoch_halves = config.tables != 0 || config.histogram;  // as the loader sets it
    FakeSource* raw = source.get();
    return Fixture{raw, CountingEngine(std::move(source), config, interval_s, {"veth0", "xdp", "native"})};
}

TEST(Engine, FirstIntervalCountsSinceLoad)
{
    auto [s, engine] = make(CountingConfig{});
    count_udp4(*s, 0, 10, 100);
    const AttachmentReport r = engine.interval(10);
    EXPECT_EQ(r.ifname, "veth0");
    EXPECT_EQ(r.hook, "xdp");
    EXPECT_EQ(r.mode, "native");
    EXPECT_EQ(r.counters[TS_CLASS_ALL], (Counter{10, 1000}));
    EXPECT_EQ(r.counters[TS_CLASS_UDP], (Counter{10, 1000}));
    EXPECT_TRUE(r.tables.empty()) << "no table is on";
    EXPECT_EQ(s->epoch, 1u) << "no table, no histogram: no epoch moves";
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, IntervalsAreDeltasAndRatesFollow)
{
    auto [s, engine] = make(CountingConfig{});
    count_udp4(*s, 0, 10, 100);
    engine.interval(10);
    count_udp4(*s, 1, 4, 1500);  // another CPU: summed
    count_udp4(*s, 0, 1, 100);
    const AttachmentReport r = engine.interval(10);
    EXPECT_EQ(r.counters[TS_CLASS_ALL], (Counter{5, 6100}));
    const Rate half_second = rate(r.counters[TS_CLASS_ALL], 0.5);
    EXPECT_DOUBLE_EQ(half_second.pps, 10.0);
    EXPECT_DOUBLE_EQ(half_second.bps, 6100 * 8 / 0.5);
    EXPECT_EQ(engine.interval(10).counters[TS_CLASS_ALL], (Counter{0, 0})) << "an idle interval";
}

TEST(Engine, ARecreatedMapCountsAsNew)
{
    auto [s, engine] = make(CountingConfig{});
    count_udp4(*s, 0, 10, 100);
    engine.interval(10);
    s->halves[0] = std::vector<ts_stats>(2);
    count_udp4(*s, 0, 3, 100);
    EXPECT_EQ(engine.interval(10).counters[TS_CLASS_ALL], (Counter{3, 300})) << "not a wrapped huge delta";
}

TEST(Engine, SummaryIsTotalsSinceLoad)
{
    auto [s, engine] = make(CountingConfig{});
    count_udp4(*s, 0, 10, 100);
    engine.interval(10);
    count_udp4(*s, 1, 5, 100);
    const AttachmentReport r = engine.summary(false);
    EXPECT_EQ(r.counters[TS_CLASS_ALL], (Counter{15, 1500}));
    EXPECT_FALSE(r.histogram);
}

TEST(Engine, AnIntervalIsExactlyTheEpochsItClosed)
{
    // Epochs 1, 2, 3 count into halves 1, 0, 1: each interval gets its own
    // epoch's packets, even where a half is reused.
    auto [s, engine] = make(flows_on());
    for (std::uint64_t n : {3u, 5u, 2u}) {
        count_udp4(*s, static_cast<int>(n % 2), n, 100);
        s->add_entries(flows({flow(static_cast<std::uint8_t>(n), n, n * 100)}));
        const AttachmentReport r = engine.interval(10);
        EXPECT_EQ(r.counters[TS_CLASS_ALL], (Counter{n, n * 100}));
        EXPECT_EQ(r.tables[0].counted, (Counter{n, n * 100}));
        EXPECT_TRUE(CountingEngine::reconcile(r).empty());
    }
    EXPECT_EQ(s->closes, 3);
    EXPECT_EQ(engine.summary(true).counters[TS_CLASS_ALL], (Counter{10, 1000}));
}

TEST(Engine, PacketsAfterTheCloseGoToTheNextInterval)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 4, 100);
    s->add_entries(flows({flow(1, 4, 400)}));
    engine.close_epoch();  // e.g. a packet counted while the interval is read lands after it
    count_udp4(*s, 1, 1, 100);
    s->add_entries(flows({flow(2, 1, 100)}));
    const AttachmentReport first = engine.interval(10);
    EXPECT_EQ(first.counters[TS_CLASS_ALL], (Counter{5, 500})) << "both epochs closed since the last line";
    EXPECT_TRUE(CountingEngine::reconcile(first).empty());
    count_udp4(*s, 1, 7, 100);
    const AttachmentReport second = engine.interval(10);
    EXPECT_EQ(second.counters[TS_CLASS_ALL], (Counter{7, 700}));
    EXPECT_FALSE(CountingEngine::reconcile(second).empty()) << "7 packets and no entry: the rule says so";
}

TEST(Engine, TheHistogramHoldsEveryFrame)
{
    CountingConfig c;
    c.histogram = true;
    auto [s, engine] = make(c);
    count_udp4(*s, 0, 3, 60);
    count_udp4(*s, 1, 2, 1500);
    AttachmentReport r = engine.interval(10);
    EXPECT_TRUE(r.histogram);
    EXPECT_EQ(r.counters.size_hist[0], (Counter{3, 180}));
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
    r.counters.size_hist[5].packets -= 1;
    const auto problems = CountingEngine::reconcile(r);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "all.packets 5 != sum of the histogram 4");
}

TEST(Engine, TableReportsReconcileWithOverflowAndMergedCpus)
{
    auto [s, engine] = make(flows_on());
    // Flow 1 on both CPUs (two slots), flow 2 on one; 2 packets overflowed.
    count_udp4(*s, 0, 9, 100);
    count_udp4(*s, 1, 2, 100);
    overflow(*s, 1, TS_TABLE_FLOWS, 2, 100);
    s->add_entries(flows({flow(1, 4, 400), flow(2, 3, 300), flow(1, 2, 200)}));
    const AttachmentReport r = engine.interval(10);
    ASSERT_EQ(r.tables.size(), 1u);
    const TableReport& t = r.tables[0];
    EXPECT_EQ(t.id, TS_TABLE_FLOWS);
    EXPECT_EQ(t.name, "flows");
    EXPECT_EQ(t.entries, 3u) << "slots in use: one per key and CPU";
    EXPECT_EQ(t.capacity, 256u);
    EXPECT_EQ(t.counted, (Counter{9, 900}));
    EXPECT_TRUE(r.histogram);
    ASSERT_TRUE(r.views.flows);
    ASSERT_EQ(r.views.flows->size(), 2u) << "one row per key";
    EXPECT_EQ(r.views.flows->front().stats.packets, 6u) << "the CPUs' slots merged, largest first";
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, AnObserverSeesEachEpochOnceAndTheReportsStayWhole)
{
    auto [s, engine] = make(flows_on());
    std::vector<std::size_t> seen_flows;
    std::vector<Counter> seen_udp;
    engine.observe_epochs([&](std::span<const FlowEntry> f, const ClassCounters& d) {
        seen_flows.push_back(f.size());
        seen_udp.push_back(d[TS_CLASS_UDP]);
    });
    count_udp4(*s, 0, 3, 100);
    s->add_entries(flows({flow(1, 3, 300)}));
    engine.close_epoch();  // as replay does between intervals
    count_udp4(*s, 1, 2, 100);
    s->add_entries(flows({flow(2, 2, 200)}));
    const AttachmentReport r = engine.interval(10);
    ASSERT_EQ(seen_flows, (std::vector<std::size_t>{1, 1}));
    EXPECT_EQ(seen_udp, (std::vector<Counter>{{3, 300}, {2, 200}}));
    ASSERT_EQ(r.tables.size(), 1u);
    EXPECT_EQ(r.tables[0].counted, (Counter{5, 500})) << "the observer takes nothing from the report";
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, ReconcileNamesWhatDoesNotAddUp)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 9, 100);
    s->add_entries(flows({flow(1, 7, 700)}));  // 2 packets neither in an entry nor in overflow
    const auto problems = CountingEngine::reconcile(engine.interval(10));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "flows.packets 7 != ipv4 + ipv6 9");
    EXPECT_EQ(problems[1], "flows.bytes 700 != ipv4 + ipv6 900");
}

TEST(Engine, ViewsAreCutToTopInIntervalsAndWholeInTheSummary)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 6, 100);
    s->add_entries(flows({flow(1, 1, 100), flow(2, 2, 200), flow(3, 3, 300)}));
    const AttachmentReport r = engine.interval(2);
    ASSERT_EQ(r.views.flows->size(), 2u);
    EXPECT_EQ(r.tables[0].counted, (Counter{6, 600})) << "the table counts every row, shown or not";
    EXPECT_EQ(engine.summary(true).views.flows->size(), 3u);
    EXPECT_EQ(engine.summary(false).views.flows->size(), 3u) << "--top 10 by default";
}

TEST(Engine, EpochsClosedBetweenIntervalsWaitForTheirInterval)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 2, 100);
    s->add_entries(flows({flow(1, 2, 200)}));
    engine.close_epoch();  // replay: every so many frames
    count_udp4(*s, 0, 3, 100);
    s->add_entries(flows({flow(2, 3, 300)}));
    const AttachmentReport r = engine.interval(0);
    EXPECT_EQ(r.tables[0].counted, (Counter{5, 500}));
    EXPECT_EQ(r.views.flows->size(), 2u);
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, SummaryAbsorbsTheLastPartialInterval)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 2, 100);
    s->add_entries(flows({flow(1, 2, 200)}));
    engine.interval(10);
    count_udp4(*s, 0, 3, 100);
    s->add_entries(flows({flow(2, 3, 300)}));
    const AttachmentReport r = engine.summary(true);
    EXPECT_EQ(r.counters[TS_CLASS_ALL], (Counter{5, 500}));
    EXPECT_EQ(r.tables[0].entries, 2u) << "distinct keys since start";
    EXPECT_EQ(r.tables[0].counted, (Counter{5, 500}));
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, IdleKeysAgeOutAndStillReconcile)
{
    // 2 s idle timeout over 1 s intervals: a key gone for 3 intervals leaves memory.
    auto [s, engine] = make(flows_on(2.0), 1.0);
    count_udp4(*s, 0, 4, 100);
    s->add_entries(flows({flow(1, 1, 100), flow(2, 3, 300)}));
    engine.interval(10);
    for (int i = 0; i < 3; ++i) {
        count_udp4(*s, 0, 1, 100);
        s->add_entries(flows({flow(2, 1, 100)}));
        engine.interval(10);
    }
    const AttachmentReport r = engine.summary(true);
    const TableReport& t = r.tables[0];
    EXPECT_EQ(t.aged_keys, 1u);
    EXPECT_EQ(t.aged, (Counter{1, 100}));
    EXPECT_EQ(t.entries, 1u) << "only flow 2 is kept";
    EXPECT_EQ(t.counted, (Counter{7, 700})) << "aged keys stay counted";
    ASSERT_EQ(r.views.flows->size(), 1u);
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, IdleTimeoutIsInWholeIntervals)
{
    // 1.5 s over 1 s intervals rounds up to 2 intervals: a key idle for 2 stays, for 3 it leaves.
    auto [s, engine] = make(flows_on(1.5), 1.0);
    s->add_entries(flows({flow(1, 1, 100)}));
    count_udp4(*s, 0, 1, 100);
    engine.interval(10);
    engine.interval(10);
    engine.interval(10);
    EXPECT_EQ(engine.summary(true).tables[0].aged_keys, 0u);
    auto [s2, engine2] = make(flows_on(1.5), 1.0);
    s2->add_entries(flows({flow(1, 1, 100)}));
    count_udp4(*s2, 0, 1, 100);
    for (int i = 0; i < 4; ++i)
        engine2.interval(10);
    EXPECT_EQ(engine2.summary(true).tables[0].aged_keys, 1u);
}

}  // namespace
}  // namespace trafstat
