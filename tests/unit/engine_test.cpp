// The counting engine against a fake kernel: deltas, rates, the first
// interval, tables that reconcile with overflow and unkeyed packets, ageing,
// and entries drained between intervals (replay). No privileges.
#include "engine/engine.hpp"

#include <trafstat/abi.h>

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <vector>

namespace trafstat {
namespace {

// A counting program as the engine sees it: per-CPU stats it can change
// between reads, and the table entries each drain returns, in order.
class FakeSource final : public CounterSource {
public:
    std::vector<ts_stats> per_cpu = std::vector<ts_stats>(2);
    std::deque<TableEntries> drains;  // one per drain_tables(); empty tables after the last
    TableCapacities capacities{0, 0, 256};
    int reads = 0;
    int drained = 0;

    ClassCounters read() override
    {
        ++reads;
        return sum_per_cpu(per_cpu);
    }
    void drain_tables(TableEntries& out) override
    {
        ++drained;
        if (drains.empty())
            return;
        for (int t = 0; t < TS_TABLES; ++t)
            out[t].insert(out[t].end(), drains.front()[t].begin(), drains.front()[t].end());
        drains.pop_front();
    }
    TableCapacities table_capacities() const override { return capacities; }
};

// `packets` UDP/IPv4 packets of `size` bytes counted on `cpu`, as the program counts them.
void count_udp4(FakeSource& s, int cpu, std::uint64_t packets, std::uint64_t size)
{
    ts_counter& c = s.per_cpu[static_cast<std::size_t>(cpu)].l4_by_ip[TS_IP_V4][TS_CLASS_UDP - TS_L4_FIRST];
    c.packets += packets;
    c.bytes += packets * size;
}

void overflow(FakeSource& s, int cpu, ts_table table, std::uint64_t packets, std::uint64_t size)
{
    ts_counter& c = s.per_cpu[static_cast<std::size_t>(cpu)].table_overflow[table];
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
    EXPECT_EQ(s->drained, 0) << "no table, no drain";
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
    s->per_cpu = std::vector<ts_stats>(2);
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

TEST(Engine, TablesDrainBeforeTheCountersAreRead)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 3, 100);
    s->drains.push_back(flows({flow(1, 3, 300)}));
    engine.interval(10);
    EXPECT_EQ(s->drained, 1);
    EXPECT_EQ(s->reads, 1);
}

TEST(Engine, TableReportsReconcileWithOverflowAndMergedCpus)
{
    auto [s, engine] = make(flows_on());
    // Flow 1 on both CPUs (two slots), flow 2 on one; 2 packets overflowed.
    count_udp4(*s, 0, 9, 100);
    count_udp4(*s, 1, 2, 100);
    overflow(*s, 1, TS_TABLE_FLOWS, 2, 100);
    s->drains.push_back(flows({flow(1, 4, 400), flow(2, 3, 300), flow(1, 2, 200)}));
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

TEST(Engine, ReconcileNamesWhatDoesNotAddUp)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 9, 100);
    s->drains.push_back(flows({flow(1, 7, 700)}));  // 2 packets neither in an entry nor in overflow
    const auto problems = CountingEngine::reconcile(engine.interval(10));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "flows.packets 7 != ipv4 + ipv6 9");
    EXPECT_EQ(problems[1], "flows.bytes 700 != ipv4 + ipv6 900");
}

TEST(Engine, ViewsAreCutToTopInIntervalsAndWholeInTheSummary)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 6, 100);
    s->drains.push_back(flows({flow(1, 1, 100), flow(2, 2, 200), flow(3, 3, 300)}));
    const AttachmentReport r = engine.interval(2);
    ASSERT_EQ(r.views.flows->size(), 2u);
    EXPECT_EQ(r.tables[0].counted, (Counter{6, 600})) << "the table counts every row, shown or not";
    EXPECT_EQ(engine.summary(true).views.flows->size(), 3u);
    EXPECT_EQ(engine.summary(false).views.flows->size(), 3u) << "--top 10 by default";
}

TEST(Engine, EntriesDrainedBetweenIntervalsWaitForTheirInterval)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 5, 100);
    s->drains.push_back(flows({flow(1, 2, 200)}));
    s->drains.push_back(flows({flow(2, 3, 300)}));
    engine.drain_tables();  // replay: every so many frames
    const AttachmentReport r = engine.interval(0);
    EXPECT_EQ(r.tables[0].counted, (Counter{5, 500}));
    EXPECT_EQ(r.views.flows->size(), 2u);
    EXPECT_TRUE(CountingEngine::reconcile(r).empty());
}

TEST(Engine, SummaryAbsorbsTheLastPartialInterval)
{
    auto [s, engine] = make(flows_on());
    count_udp4(*s, 0, 2, 100);
    s->drains.push_back(flows({flow(1, 2, 200)}));
    engine.interval(10);
    count_udp4(*s, 0, 3, 100);
    s->drains.push_back(flows({flow(2, 3, 300)}));
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
    s->drains.push_back(flows({flow(1, 1, 100), flow(2, 3, 300)}));
    engine.interval(10);
    for (int i = 0; i < 3; ++i) {
        count_udp4(*s, 0, 1, 100);
        s->drains.push_back(flows({flow(2, 1, 100)}));
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
    s->drains.push_back(flows({flow(1, 1, 100)}));
    count_udp4(*s, 0, 1, 100);
    engine.interval(10);
    engine.interval(10);
    engine.interval(10);
    EXPECT_EQ(engine.summary(true).tables[0].aged_keys, 0u);
    auto [s2, engine2] = make(flows_on(1.5), 1.0);
    s2->drains.push_back(flows({flow(1, 1, 100)}));
    count_udp4(*s2, 0, 1, 100);
    for (int i = 0; i < 4; ++i)
        engine2.interval(10);
    EXPECT_EQ(engine2.summary(true).tables[0].aged_keys, 1u);
}

}  // namespace
}  // namespace trafstat
