// The keyed table in userspace: merging CPUs and intervals, the reconciliation
// rule, addresses and protocol names, the size buckets, and their JSON.
#include "output/json.hpp"
#include "output/labels.hpp"
#include "stats/flows.hpp"

#include <gtest/gtest.h>

namespace trafstat {
namespace {

FlowKey key4(std::uint8_t last, std::uint16_t sport)
{
    FlowKey k;
    k.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, last};
    k.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 100};
    k.sport = sport;
    k.dport = 53;
    k.proto = 17;
    k.ip_version = 4;
    return k;
}

TEST(FlowStats, MergeSumsAndKeepsTheWidestTimes)
{
    FlowStats a{3, 300, 50, 70, 0x02};
    a.merge({2, 200, 40, 60, 0x10});
    EXPECT_EQ(a, (FlowStats{5, 500, 40, 70, 0x12}));
    a.merge({});  // a CPU that saw nothing changes nothing, times included
    EXPECT_EQ(a, (FlowStats{5, 500, 40, 70, 0x12}));
    FlowStats empty;
    empty.merge({1, 60, 90, 90, 0});
    EXPECT_EQ(empty.first_ns, 90u) << "the first share sets first_ns even when it is later than 0";
}

TEST(MergeByKey, OneEntryPerKeyInFirstSeenOrder)
{
    const std::vector<FlowEntry> raw = {
        {key4(1, 1000), {1, 60, 0, 0, 0}},
        {key4(2, 1000), {2, 120, 0, 0, 0}},
        {key4(1, 1000), {4, 240, 0, 0, 0}},  // the same key from another CPU
    };
    const auto merged = merge_by_key(raw);
    ASSERT_EQ(merged.size(), 2u);
    EXPECT_EQ(merged[0].key, key4(1, 1000));
    EXPECT_EQ(merged[0].stats.packets, 5u);
    EXPECT_EQ(merged[1].stats.bytes, 120u);
}

TEST(FlowTotals, AccumulatesIntervals)
{
    FlowTotals t;
    const std::vector<FlowEntry> first = {{key4(1, 1), {1, 60, 0, 0, 0}}, {key4(2, 1), {1, 60, 0, 0, 0}}};
    const std::vector<FlowEntry> second = {{key4(1, 1), {3, 180, 0, 0, 0}}};
    t.add(first);
    t.add(second);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.counted(), (Counter{5, 300}));
    std::uint64_t packets = 0;
    for (const auto& e : t.entries())
        packets += e.stats.packets;
    EXPECT_EQ(packets, 5u);
}

TEST(ReconcileTable, EntriesOverflowAndUnkeyedMakeTheIpTotal)
{
    ClassCounters c;
    c[TS_CLASS_IPV4] = {10, 1000};
    c[TS_CLASS_IPV6] = {2, 300};
    c.table_overflow[TS_TABLE_FLOWS] = {3, 250};
    c.table_overflow[TS_TABLE_TALKERS] = {0, 0};
    c.table_unkeyed = {1, 50};
    std::vector<FlowEntry> entries = {{key4(1, 1), {8, 1000, 0, 0, 0}}};
    EXPECT_TRUE(reconcile_table(c, TS_TABLE_FLOWS, entries).empty());
    const auto talkers = reconcile_table(c, TS_TABLE_TALKERS, entries);
    ASSERT_EQ(talkers.size(), 2u) << "each table has its own overflow";
    EXPECT_EQ(talkers[0], "talkers.packets 9 != ipv4 + ipv6 12");
    entries[0].stats.packets = 7;
    const auto broken = reconcile_table(c, TS_TABLE_FLOWS, entries);
    ASSERT_EQ(broken.size(), 1u);
    EXPECT_EQ(broken[0], "flows.packets 11 != ipv4 + ipv6 12");
}

TEST(FormatIp, MappedIpv4AndIpv6)
{
    EXPECT_EQ(format_ip(key4(7, 0).src, 4), "10.0.0.7");
    const std::array<std::uint8_t, 16> v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(format_ip(v6, 6), "2001:db8::1");
}

TEST(ProtoName, KnownNamesAndNumbers)
{
    EXPECT_EQ(proto_name(6), "tcp");
    EXPECT_EQ(proto_name(17), "udp");
    EXPECT_EQ(proto_name(58), "icmpv6");
    EXPECT_EQ(proto_name(132), "sctp");
    EXPECT_EQ(proto_name(253), "253");
}

TEST(SizeBucket, RmonBoundaries)
{
    EXPECT_EQ(size_bucket(0).min, 0u);
    EXPECT_EQ(size_bucket(0).max, 64u);
    EXPECT_EQ(size_bucket(1).min, 65u);
    EXPECT_EQ(size_bucket(5).min, 1024u);
    EXPECT_EQ(size_bucket(5).max, 1518u);
    EXPECT_EQ(size_bucket(6).min, 1519u);
    EXPECT_FALSE(size_bucket(6).max.has_value());
}

TEST(TablesJson, OccupancyCapacityOverflowAndHistogram)
{
    SummaryReport r;
    r.duration_s = 2;
    AttachmentReport a{"veth0", "xdp", "native", {}};
    a.counters.table_overflow[TS_TABLE_FLOWS] = {4, 400};
    a.counters.table_overflow[TS_TABLE_TALKERS] = {2, 100};
    a.counters.table_unkeyed = {1, 20};
    a.counters.size_hist[0] = {9, 540};
    a.tables = {TableReport{TS_TABLE_TALKERS, "talkers", 5, 1024, {97, 9800}},
                TableReport{TS_TABLE_FLOWS, "flows", 12, 131072, {95, 9500}}};
    a.histogram = true;
    r.attachments.push_back(a);
    r.attachments.push_back({"veth1", "xdp", "native", {}});  // no table, no histogram
    const auto j = nlohmann::json::parse(to_line(summary_json(r)));
    const auto& t = j["interfaces"][0]["tables"]["flows"];
    EXPECT_EQ(t["entries"], 12);
    EXPECT_EQ(t["capacity"], 131072);
    EXPECT_EQ(t["counted"]["packets"], 95);
    EXPECT_EQ(t["counted"]["bytes"], 9500);
    EXPECT_EQ(t["overflow"]["packets"], 4);
    EXPECT_EQ(t["overflow"]["bytes"], 400);
    EXPECT_EQ(t["unkeyed"]["packets"], 1);
    const auto& talkers = j["interfaces"][0]["tables"]["talkers"];
    EXPECT_EQ(talkers["entries"], 5);
    EXPECT_EQ(talkers["capacity"], 1024);
    EXPECT_EQ(talkers["overflow"]["packets"], 2);
    EXPECT_EQ(talkers["overflow"]["bytes"], 100);
    EXPECT_FALSE(j["interfaces"][0]["tables"].contains("ports")) << "a table that is off is not reported";
    const auto& h = j["interfaces"][0]["histogram"];
    ASSERT_EQ(h.size(), static_cast<std::size_t>(TS_SIZE_BUCKETS));
    EXPECT_EQ(h[0], (nlohmann::json{{"min", 0}, {"max", 64}, {"packets", 9}, {"bytes", 540}}));
    EXPECT_TRUE(h[6]["max"].is_null());
    EXPECT_FALSE(j["interfaces"][1].contains("tables"));
    EXPECT_FALSE(j["interfaces"][1].contains("histogram"));
}

}  // namespace
}  // namespace trafstat

namespace trafstat {
namespace {

TEST(FlowTotals, IdleKeysAgeOutAndKeepTheirCounts)
{
    FlowTotals t;
    const std::vector<FlowEntry> both = {{key4(1, 1), {2, 120, 0, 0, 0}}, {key4(2, 1), {3, 180, 0, 0, 0}}};
    const std::vector<FlowEntry> one = {{key4(1, 1), {1, 60, 0, 0, 0}}};
    t.add(both);
    t.end_interval(2);
    for (int i = 0; i < 2; ++i) {
        t.add(one);
        t.end_interval(2);
    }
    EXPECT_EQ(t.size(), 2u) << "key 2 idle for 2 intervals: still kept";
    t.add(one);
    t.end_interval(2);
    EXPECT_EQ(t.size(), 1u) << "idle for 3 intervals: aged out";
    EXPECT_EQ(t.aged_keys(), 1u);
    EXPECT_EQ(t.aged(), (Counter{3, 180}));
    EXPECT_EQ(t.counted(), (Counter{8, 480})) << "counted keeps everything";
    EXPECT_EQ(t.entries()[0].stats.packets, 5u);
    t.end_interval(0);
    EXPECT_EQ(t.size(), 1u) << "max_idle 0: never";
}

}  // namespace
}  // namespace trafstat
