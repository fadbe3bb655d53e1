// Views from the keyed table: talkers and ports summed from flows, top-N
// sorting with stable ties, service names from the system's database.
#include "output/json.hpp"
#include "output/labels.hpp"
#include "output/line.hpp"
#include "output/tui.hpp"
#include "stats/views.hpp"

#include <gtest/gtest.h>

namespace trafstat {
namespace {

std::array<std::uint8_t, 16> v4(std::uint8_t last)
{
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, last};
}

FlowEntry flow(std::uint8_t src, std::uint8_t dst, std::uint8_t proto, std::uint16_t sport, std::uint16_t dport,
               std::uint64_t packets, std::uint64_t bytes)
{
    FlowEntry e;
    e.key.src = v4(src);
    e.key.dst = v4(dst);
    e.key.proto = proto;
    e.key.sport = sport;
    e.key.dport = dport;
    e.key.ip_version = 4;
    e.stats = {packets, bytes, 0, 0, 0};
    return e;
}

const std::vector<FlowEntry> k_flows = {
    flow(1, 9, 6, 40000, 443, 10, 10000),  // 10.0.0.1 -> 10.0.0.9 https
    flow(9, 1, 6, 443, 40000, 8, 400),     // and back
    flow(2, 9, 17, 5353, 53, 3, 300),      // DNS
    flow(2, 9, 1, 8, 0, 1, 98),            // ICMP echo: no ports
};

TEST(Talkers, SentAndReceivedPerAddress)
{
    auto t = talkers_of(k_flows);
    ASSERT_EQ(t.size(), 3u);
    sort_top(t, SortKey::bytes, 0);
    EXPECT_EQ(format_ip(t[0].ip, 4), "10.0.0.9");  // 10000 + 300 + 98 received, 400 sent
    EXPECT_EQ(t[0].received, (Counter{14, 10398}));
    EXPECT_EQ(t[0].sent, (Counter{8, 400}));
    EXPECT_EQ(format_ip(t[1].ip, 4), "10.0.0.1");
    EXPECT_EQ(t[1].sent, (Counter{10, 10000}));
    // Every packet is counted once as sent and once as received.
    Counter sent, received;
    for (const Talker& x : t) {
        sent.packets += x.sent.packets;
        received.packets += x.received.packets;
    }
    EXPECT_EQ(sent.packets, 22u);
    EXPECT_EQ(received.packets, 22u);
}

TEST(Talkers, BySourceOrByDestination)
{
    auto t = talkers_of(k_flows);
    sort_top(t, SortKey::packets, 1, TalkerSide::src);
    EXPECT_EQ(format_ip(t[0].ip, 4), "10.0.0.1") << "10 packets sent, the most";
    t = talkers_of(k_flows);
    sort_top(t, SortKey::packets, 1, TalkerSide::dst);
    EXPECT_EQ(format_ip(t[0].ip, 4), "10.0.0.9") << "14 packets received";
    t = talkers_of(k_flows);
    sort_top(t, SortKey::bytes, 0, TalkerSide::src);
    EXPECT_EQ(format_ip(t[2].ip, 4), "10.0.0.2") << "398 bytes sent, the least";
}

TEST(Ports, ToAndFromPerProtocolPortIcmpLeftOut)
{
    auto p = ports_of(k_flows);
    sort_top(p, SortKey::packets, 0);
    ASSERT_EQ(p.size(), 4u);  // tcp/443, tcp/40000, udp/53, udp/5353
    EXPECT_EQ(p[0].proto, 6);
    EXPECT_EQ(p[0].total(), (Counter{18, 10400}));  // 443 or 40000: both 18 packets; the tie goes to the lower port
    EXPECT_EQ(p[0].port, 443);
    EXPECT_EQ(p[0].as_dst, (Counter{10, 10000}));
    EXPECT_EQ(p[0].as_src, (Counter{8, 400}));
}

TEST(SortTop, CutsAndOrdersByTheKey)
{
    std::vector<FlowEntry> f = k_flows;
    sort_top(f, SortKey::packets, 2);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].stats.packets, 10u);
    EXPECT_EQ(f[1].stats.packets, 8u);
    f = k_flows;
    sort_top(f, SortKey::bytes, 0);
    EXPECT_EQ(f.size(), 4u);
    EXPECT_EQ(f[1].stats.bytes, 400u);
    EXPECT_EQ(f[3].stats.bytes, 98u);
}

TEST(Services, FromTheSystemDatabase)
{
    // /etc/services (netbase) names these; the test fails loudly if it is missing.
    EXPECT_EQ(service_name(443, 6), "https");
    EXPECT_EQ(service_name(53, 17), "domain");
    EXPECT_EQ(service_name(22, 6), "ssh");
    EXPECT_FALSE(service_name(8, 1).has_value()) << "ICMP has no ports";
    EXPECT_FALSE(service_name(47999, 6).has_value());
}

TEST(ViewsJson, TalkersPortsFlowsArrays)
{
    SummaryReport r;
    r.duration_s = 1;
    AttachmentReport a{"veth0", "xdp", "native", {}};
    a.views.talkers = talkers_of(k_flows);
    a.views.ports = ports_of(k_flows);
    a.views.flows = k_flows;
    (*a.views.flows)[0].stats.first_ns = 1763900000'250000000;
    (*a.views.flows)[0].stats.last_ns = 1763900007'500000000;
    r.attachments.push_back(a);
    const auto j = nlohmann::json::parse(to_line(summary_json(r)));
    const auto& e = j["interfaces"][0];
    ASSERT_EQ(e["talkers"].size(), 3u);
    EXPECT_EQ(e["talkers"][0]["ip"], "10.0.0.1");
    EXPECT_EQ(e["talkers"][0]["sent"]["packets"], 10);
    EXPECT_EQ(e["talkers"][0]["packets"], 18);  // sent + received
    const auto& dns = e["ports"][3];
    EXPECT_EQ(dns["proto"], "udp");
    EXPECT_EQ(dns["port"], 5353);
    const auto& https = e["ports"][0];
    EXPECT_EQ(https["port"], 443);
    EXPECT_EQ(https["service"], "https");
    EXPECT_EQ(https["as_dst"]["bytes"], 10000);
    const auto& f0 = e["flows"][0];
    EXPECT_EQ(f0, (nlohmann::json{{"src", "10.0.0.1"},
                                  {"dst", "10.0.0.9"},
                                  {"sport", 40000},
                                  {"dport", 443},
                                  {"proto", "tcp"},
                                  {"packets", 10},
                                  {"bytes", 10000},
                                  {"first_seen", 1763900000.25},
                                  {"last_seen", 1763900007.5},
                                  {"tcp_flags", 0}}));
    EXPECT_EQ(e["flows"][3]["proto"], "icmp");
}

TEST(ViewsLine, BlocksAfterTheClasses)
{
    IntervalReport r;
    r.interval_s = 1;
    AttachmentReport a{"veth0", "xdp", "native", {}};
    a.views.flows = k_flows;
    a.views.ports = ports_of(k_flows);
    r.attachments.push_back(a);
    const std::string text = render_interval(r, {});
    EXPECT_NE(text.find("veth0 xdp/native flows"), std::string::npos) << text;
    EXPECT_NE(text.find("tcp 10.0.0.1:40000 > 10.0.0.9:443"), std::string::npos) << text;
    EXPECT_NE(text.find("icmp 10.0.0.2 > 10.0.0.9 type 8 code 0"), std::string::npos) << text;
    EXPECT_NE(text.find("tcp/443 (https)"), std::string::npos) << text;
}

}  // namespace
}  // namespace trafstat

namespace trafstat {
namespace {

ClassCounters sized()
{
    ClassCounters c;
    c.size_hist[0] = {75, 4500};
    c.size_hist[5] = {25, 37500};
    return c;
}

TEST(SizeHistogram, TuiBarsShowEachBucketsShare)
{
    EXPECT_EQ(size_histogram_bars(sized(), true),
              " 0-64 ▆75% 65-127  0% 128-255  0% 256-511  0% 512-1023  0% 1024-1518 ▂25% 1519+  0%");
    EXPECT_EQ(size_histogram_bars(sized(), false),
              " 0-64 +75% 65-127  0% 128-255  0% 256-511  0% 512-1023  0% 1024-1518 .25% 1519+  0%");
    EXPECT_EQ(size_histogram_bars(ClassCounters{}, false),
              " 0-64  0% 65-127  0% 128-255  0% 256-511  0% 512-1023  0% 1024-1518  0% 1519+  0%")
        << "no packets: no division by zero, every share 0";
}

TEST(SizeHistogram, LineSummaryHasOneRowPerBucket)
{
    SummaryReport r;
    r.duration_s = 1;
    AttachmentReport a{"veth0", "xdp", "native", sized()};
    a.histogram = true;
    r.attachments.push_back(a);
    const std::string text = render_summary(r, {});
    EXPECT_NE(text.find("veth0 xdp/native packet sizes"), std::string::npos) << text;
    EXPECT_NE(text.find("0-64                  75   75.0%  ##############################"), std::string::npos) << text;
    EXPECT_NE(text.find("1519+                  0    0.0%"), std::string::npos) << text;
}

}  // namespace
}  // namespace trafstat
