// Flow records for export: deltas, and why each ends (FIN/RST, idle, active, forced).
#include "engine/flow_export.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace trafstat {
namespace {

constexpr std::uint64_t kMs = 1'000'000;  // ns

FlowKey key(std::uint16_t sport, std::uint8_t proto = 17)
{
    FlowKey k;
    k.src[15] = 1;
    k.dst[15] = 2;
    k.sport = sport;
    k.dport = 53;
    k.proto = proto;
    k.ip_version = 4;
    return k;
}

FlowEntry entry(const FlowKey& k, std::uint64_t packets, std::uint64_t first_ms, std::uint64_t last_ms,
                std::uint8_t flags = 0)
{
    return {k, {packets, packets * 100, first_ms * kMs, last_ms * kMs, flags}};
}

TEST(FlowExport, AFlowIsOneRecordWhenItGoesIdle)
{
    FlowExport x({60, 15}, 7, false);
    EXPECT_TRUE(x.add(std::vector{entry(key(1000), 3, 1000, 2000)}, 2000).empty());
    EXPECT_TRUE(x.add(std::vector{entry(key(1000), 2, 3000, 4000)}, 4000).empty());
    EXPECT_TRUE(x.add({}, 18'999).empty()) << "idle 14.999 s";
    const auto out = x.add({}, 19'000);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].key, key(1000));
    EXPECT_EQ(out[0].packets, 5u);
    EXPECT_EQ(out[0].octets, 500u);
    EXPECT_EQ(out[0].start_ms, 1000u);
    EXPECT_EQ(out[0].end_ms, 4000u);
    EXPECT_EQ(out[0].end_reason, EndReason::idle_timeout);
    EXPECT_EQ(out[0].ifindex, 7u);
    EXPECT_FALSE(out[0].egress);
    EXPECT_EQ(x.followed(), 0u);
}

TEST(FlowExport, ALongFlowIsExportedEveryActiveTimeoutAsDeltas)
{
    FlowExport x({10, 5}, 1, true);
    std::vector<FlowRecord> all;
    for (std::uint64_t s = 0; s < 35; ++s) {
        auto out = x.add(std::vector{entry(key(1), 1, 1000 * s, 1000 * s + 500)}, 1000 * s + 1000);
        all.insert(all.end(), out.begin(), out.end());
    }
    auto last = x.flush();
    all.insert(all.end(), last.begin(), last.end());
    ASSERT_EQ(all.size(), 4u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(all[i].end_reason, EndReason::active_timeout);
        EXPECT_EQ(all[i].packets, 10u) << i;
        EXPECT_EQ(all[i].start_ms, 10'000 * i);
        EXPECT_TRUE(all[i].egress);
    }
    EXPECT_EQ(all[3].end_reason, EndReason::forced_end);
    EXPECT_EQ(all[3].packets, 5u);
    const auto packets = std::accumulate(all.begin(), all.end(), std::uint64_t{0},
                                         [](std::uint64_t n, const FlowRecord& r) { return n + r.packets; });
    EXPECT_EQ(packets, 35u) << "the deltas add up to the flow";
}

TEST(FlowExport, TcpFinOrRstEndsTheFlowAndWhatFollowsIsANewOne)
{
    FlowExport x({60, 15}, 1, false);
    const auto out =
        x.add(std::vector{entry(key(80, 6), 4, 0, 10, 0x02 | 0x10), entry(key(80, 6), 1, 20, 20, 0x01)}, 30);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].end_reason, EndReason::end_of_flow);
    EXPECT_EQ(out[0].packets, 5u);
    EXPECT_EQ(out[0].tcp_flags, 0x13);
    const auto rst = x.add(std::vector{entry(key(81, 6), 2, 40, 50, 0x04)}, 50);
    ASSERT_EQ(rst.size(), 1u);
    EXPECT_EQ(rst[0].end_reason, EndReason::end_of_flow);
    // A FIN bit in UDP is nothing: only TCP ends so.
    EXPECT_TRUE(x.add(std::vector{entry(key(82, 17), 1, 60, 60, 0x01)}, 60).empty());
    EXPECT_EQ(x.followed(), 1u);
}

TEST(FlowExport, TotalsAccountForEveryIpPacket)
{
    FlowExport x({60, 15}, 3, false);
    ClassCounters delta;
    delta[TS_CLASS_IPV4] = {10, 1000};
    delta[TS_CLASS_IPV6] = {5, 500};
    delta.table_overflow[TS_TABLE_FLOWS] = {2, 200};
    delta.table_paused[TS_TABLE_FLOWS] = {1, 100};
    delta.table_unkeyed = {1, 100};
    delta.table_overflow[TS_TABLE_TALKERS] = {9, 900};  // another table's: not the flows'
    x.count(delta);
    x.add(std::vector{entry(key(1), 6, 0, 0), entry(key(2), 5, 0, 0)}, 0);
    const auto records = x.flush();
    const ExporterTotals t = x.totals();
    EXPECT_EQ(t.ifindex, 3u);
    EXPECT_EQ(t.packets_total, 15u);
    EXPECT_EQ(t.octets_total, 1500u);
    EXPECT_EQ(t.ignored_packets, 4u);
    EXPECT_EQ(t.ignored_octets, 400u);
    EXPECT_EQ(t.exported_records, records.size());
    std::uint64_t exported = 0;
    for (const auto& r : records)
        exported += r.packets;
    EXPECT_EQ(exported + t.ignored_packets, t.packets_total);
}

}  // namespace
}  // namespace trafstat
