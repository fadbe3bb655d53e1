// The drops without the kernel (docs/drops.md): class and reason names, the
// reconciliation rule, cutting the flows, totals since start with bounded
// flows, the engine against a fake drop source (names, link counter deltas,
// missed runs), the JSON and metrics renderings, and the options.
#include "cli/options.hpp"
#include "engine/drops.hpp"
#include "output/json.hpp"
#include "output/metrics.hpp"
#include "stats/drops.hpp"

#include "base/exit_codes.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace trafstat {
namespace {

constexpr std::uint32_t kNoSocket = 2;  // the kernel's value in this test's names
constexpr std::uint32_t kUdp4 = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP);
constexpr std::uint32_t kTcp6 = TS_DROP_CLASS_IP(TS_IP_V6, TS_CLASS_TCP);

std::shared_ptr<const DropReasons> reasons()
{
    return std::make_shared<const DropReasons>(std::vector<std::string>{"", "consumed", "no_socket"});
}

DroppedFlow flow(std::uint16_t dport, std::uint64_t packets, ts_drop_direction d = TS_DROP_RECEIVED)
{
    DroppedFlow f{.key = {.direction = d, .reason = kNoSocket, .cls = kUdp4}, .counted = {packets, packets * 100}};
    f.key.flow.ip_version = 4;
    f.key.flow.proto = 17;
    f.key.flow.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    f.key.flow.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
    f.key.flow.sport = 4000;
    f.key.flow.dport = dport;
    return f;
}

// One interface's drain: `flows` of no_socket ipv4/udp, received, and what
// the table had no room for.
InterfaceDrops drain_of(std::vector<DroppedFlow> flows, Counter overflow = {})
{
    InterfaceDrops d;
    Counter total = overflow;
    for (const DroppedFlow& f : flows) {
        total.packets += f.counted.packets;
        total.bytes += f.counted.bytes;
    }
    if (total.packets)
        d.directions[TS_DROP_RECEIVED].counts.push_back({.reason = kNoSocket, .cls = kUdp4, .counted = total});
    d.directions[TS_DROP_RECEIVED].flow_overflow = overflow;
    d.flows = std::move(flows);
    return d;
}

TEST(DropNames, ClassesAreTheCountersPartition)
{
    EXPECT_EQ(drop_class_name(kUdp4), "ipv4/udp");
    EXPECT_EQ(drop_class_name(kTcp6), "ipv6/tcp");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASS_IP(TS_IP_V6, TS_CLASS_MALFORMED_L4)), "ipv6/malformed_l4");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASS_NON_IP(TS_CLASS_ARP)), "arp");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASS_NON_IP(TS_CLASS_OTHER_L3)), "other_l3");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASS_NON_IP(TS_CLASS_MALFORMED)), "malformed");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASS_UNPARSED), "unparsed");
    EXPECT_EQ(drop_class_name(TS_DROP_CLASSES), "unparsed");
    EXPECT_EQ(drop_class_ip(kTcp6), TS_IP_V6);
    EXPECT_EQ(drop_class_ip(TS_DROP_CLASS_NON_IP(TS_CLASS_ARP)), std::nullopt);
    EXPECT_EQ(drop_class_l4(kTcp6), "tcp");
    // Every class has a name of its own.
    std::set<std::string> names;
    for (std::uint32_t c = 0; c < TS_DROP_CLASSES; ++c)
        names.insert(drop_class_name(c));
    EXPECT_EQ(names.size(), static_cast<std::size_t>(TS_DROP_CLASSES));
}

TEST(DropNames, ReasonsByTheKernelsValueAndTrafstatsOwn)
{
    const auto r = reasons();
    EXPECT_TRUE(r->known());
    EXPECT_EQ(r->name(kNoSocket), "no_socket");
    EXPECT_EQ(r->name(0), "unknown");  // the kernel names none there
    EXPECT_EQ(r->name(200), "unknown");
    EXPECT_EQ(r->name(TS_DROP_REASON_UNKNOWN), "unknown");
    EXPECT_EQ(r->name(TS_DROP_REASON_XDP_ABORTED), "xdp_aborted");
    EXPECT_EQ(r->name(TS_DROP_REASON_XDP_INVALID), "xdp_invalid");
    EXPECT_FALSE(DropReasons{}.known());
    EXPECT_EQ(DropReasons{}.name(kNoSocket), "unknown");
    EXPECT_EQ(drop_direction_name(TS_DROP_RECEIVED), "received");
    EXPECT_EQ(drop_direction_name(TS_DROP_LEAVING), "leaving");
}

TEST(DropsReconcile, FlowsShownNotShownAndOverflowAddUpToTheCounts)
{
    InterfaceDrops d = drain_of({flow(1, 5), flow(2, 3), flow(3, 7)}, {2, 200});
    d.ifname = "veth0";
    EXPECT_EQ(reconcile(d), std::vector<std::string>{});
    cut_dropped_flows(d, 2);
    ASSERT_EQ(d.flows.size(), 2U);
    EXPECT_EQ(d.flows[0].key.flow.dport, 3);  // largest first
    EXPECT_EQ(d.flows[1].key.flow.dport, 1);
    EXPECT_EQ(d.directions[TS_DROP_RECEIVED].flows, 3U);
    EXPECT_EQ(d.directions[TS_DROP_RECEIVED].flows_not_shown, (Counter{3, 300}));
    EXPECT_EQ(reconcile(d), std::vector<std::string>{});
    // A packet more in the counts than the flows hold is named.
    d.directions[TS_DROP_RECEIVED].counts.front().counted.packets += 1;
    const auto errors = reconcile(d);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors.front().find("veth0 received"), std::string::npos) << errors.front();
}

TEST(DropTotals, AddsDrainsAndBoundsTheFlowsKept)
{
    DropTotals totals(2);
    totals.add({.interfaces = {drain_of({flow(1, 5), flow(2, 3)})}, .missed = 1});
    totals.add({.interfaces = {drain_of({flow(1, 1), flow(3, 4)}, {6, 600})}, .missed = 2});
    EXPECT_EQ(totals.missed(), 3U);
    const std::vector<InterfaceDrops> all = totals.totals(0);
    ASSERT_EQ(all.size(), 1U);
    const InterfaceDrops& d = all.front();
    EXPECT_EQ(d.directions[TS_DROP_RECEIVED].total(), (Counter{19, 1900}));
    EXPECT_EQ(d.directions[TS_DROP_RECEIVED].flow_overflow, (Counter{6, 600}));
    // Two flows kept (dport 1: 6 packets, dport 2: 3); dport 3 came when there was no room.
    ASSERT_EQ(d.flows.size(), 2U);
    EXPECT_EQ(d.flows[0].counted, (Counter{6, 600}));
    EXPECT_EQ(d.directions[TS_DROP_RECEIVED].flows_not_shown, (Counter{4, 400}));
    EXPECT_EQ(reconcile(d), std::vector<std::string>{});
}

// Drains handed out in order, and the link counters read, per call.
class FakeDropSource final : public DropSource {
public:
    explicit FakeDropSource(std::deque<DropDrain> drains) : drains_(std::move(drains)) {}
    DropDrain drain() override
    {
        if (drains_.empty())
            return {.interfaces = {InterfaceDrops{}}};
        DropDrain d = std::move(drains_.front());
        drains_.pop_front();
        return d;
    }

private:
    std::deque<DropDrain> drains_;
};

TEST(DropEngine, NamesInterfacesAndGivesTheLinkCountersOfEachInterval)
{
    std::uint64_t rx_dropped = 10;
    LinkReader links = [&](std::size_t) -> std::optional<LinkCounters> {
        LinkCounters c;
        c.rx_dropped = rx_dropped;
        return c;
    };
    DropEngine engine(std::make_unique<FakeDropSource>(std::deque<DropDrain>{
                          {.interfaces = {drain_of({flow(1, 5), flow(2, 3)})}, .missed = 1},
                          {.interfaces = {drain_of({flow(1, 2)})}, .missed = 0},
                      }),
                      {"veth0"}, reasons(), links);
    rx_dropped = 14;
    DropsReport first = engine.interval(1);
    ASSERT_EQ(first.interfaces.size(), 1U);
    EXPECT_EQ(first.interfaces[0].ifname, "veth0");
    EXPECT_EQ(first.interfaces[0].link->rx_dropped, 4U);
    EXPECT_EQ(first.interfaces[0].flows.size(), 1U);
    EXPECT_EQ(first.missed, 1U);
    EXPECT_EQ(first.reasons->name(kNoSocket), "no_socket");
    EXPECT_EQ(reconcile(first.interfaces[0]), std::vector<std::string>{});

    rx_dropped = 15;
    const DropsReport second = engine.interval(0);
    EXPECT_EQ(second.interfaces[0].link->rx_dropped, 1U);
    EXPECT_EQ(second.missed, 0U);

    rx_dropped = 20;  // the last drain before the summary: nothing dropped, 5 more in the link counters
    const DropsReport all = engine.since_start(0);
    EXPECT_EQ(all.interfaces[0].directions[TS_DROP_RECEIVED].total(), (Counter{10, 1000}));
    EXPECT_EQ(all.interfaces[0].link->rx_dropped, 10U);
    EXPECT_EQ(all.missed, 1U);
    ASSERT_EQ(all.interfaces[0].flows.size(), 2U);
    EXPECT_EQ(all.interfaces[0].flows[0].counted, (Counter{7, 700}));
}

DropsReport sample_report()
{
    InterfaceDrops d = drain_of({flow(9, 3)});
    d.ifname = "veth0";
    d.directions[TS_DROP_LEAVING].counts.push_back(
        {.reason = TS_DROP_REASON_XDP_ABORTED, .cls = TS_DROP_CLASS_UNPARSED, .counted = {2, 0}});
    d.directions[TS_DROP_LEAVING].flow_overflow = {2, 0};
    d.link = LinkCounters{};
    d.link->tx_dropped = 7;
    cut_dropped_flows(d, 0);
    return {.interfaces = {d}, .reasons = reasons(), .missed = 4};
}

// The summary line is streamed (write_summary_json): with drops and their
// flows, the same bytes as the whole object.
TEST(DropsJson, StreamedSummaryEqualsTheWholeObject)
{
    SummaryReport s;
    s.drops = sample_report();
    std::string line;
    write_summary_json(s, [&](std::string_view piece) { line += piece; });
    EXPECT_EQ(line, to_line(summary_json(s)));
    EXPECT_EQ(nlohmann::json::parse(line)["dropped_flows"].size(), 1U);
}

TEST(DropsJson, PerInterfaceDirectionReasonAndClassThenTheFlows)
{
    SummaryReport s;
    s.drops = sample_report();
    const auto j = summary_json(s);
    ASSERT_EQ(j["drops"].size(), 1U);
    const auto& d = j["drops"][0];
    EXPECT_EQ(d["name"], "veth0");
    EXPECT_EQ(d["received"]["packets"], 3);
    EXPECT_EQ(d["received"]["bytes"], 300);
    EXPECT_EQ(d["received"]["reasons"]["no_socket"]["packets"], 3);
    EXPECT_EQ(d["received"]["reasons"]["no_socket"]["classes"]["ipv4/udp"]["bytes"], 300);
    EXPECT_EQ(d["received"]["flows"], 1);
    EXPECT_EQ(d["leaving"]["reasons"]["xdp_aborted"]["classes"]["unparsed"]["packets"], 2);
    EXPECT_EQ(d["leaving"]["flow_overflow"]["packets"], 2);
    EXPECT_EQ(d["link"]["tx_dropped"], 7);
    EXPECT_EQ(d["link"]["rx_nohandler"], 0);
    EXPECT_EQ(j["drops_missed"], 4);
    ASSERT_EQ(j["dropped_flows"].size(), 1U);
    const auto& f = j["dropped_flows"][0];
    EXPECT_EQ(f["interface"], "veth0");
    EXPECT_EQ(f["direction"], "received");
    EXPECT_EQ(f["reason"], "no_socket");
    EXPECT_EQ(f["class"], "ipv4/udp");
    EXPECT_EQ(f["proto"], "udp");
    EXPECT_EQ(f["src"], "10.0.0.1");
    EXPECT_EQ(f["dst"], "10.0.0.2");
    EXPECT_EQ(f["dport"], 9);
    EXPECT_EQ(f["packets"], 3);
    // Without --drops, neither key.
    EXPECT_FALSE(summary_json(SummaryReport{}).contains("drops"));
    EXPECT_FALSE(summary_json(SummaryReport{}).contains("dropped_flows"));
}

TEST(DropsJson, IntervalLinesHaveRates)
{
    IntervalReport r;
    r.interval_s = 0.5;
    r.drops = sample_report();
    const auto j = interval_json(r);
    EXPECT_DOUBLE_EQ(j["drops"][0]["received"]["pps"].get<double>(), 6.0);
    EXPECT_DOUBLE_EQ(j["drops"][0]["received"]["bps"].get<double>(), 4800.0);
}

TEST(DropsMetrics, PerDirectionReasonIpAndClass)
{
    AgentSnapshot s;
    s.drops = sample_report();
    const std::string text = metrics_text(s, 0);
    for (const char* line : {
             "trafstat_drops_total{device=\"veth0\",direction=\"received\",reason=\"no_socket\",ip=\"ipv4\","
             "class=\"udp\"} 3\n",
             "trafstat_drop_bytes_total{device=\"veth0\",direction=\"received\",reason=\"no_socket\",ip=\"ipv4\","
             "class=\"udp\"} 300\n",
             "trafstat_drops_total{device=\"veth0\",direction=\"leaving\",reason=\"xdp_aborted\",ip=\"\","
             "class=\"unparsed\"} 2\n",
             "trafstat_link_stat_total{device=\"veth0\",stat=\"tx_dropped\"} 7\n",
             "trafstat_drops_missed_total 4\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in\n" << text;
    EXPECT_EQ(metrics_text(AgentSnapshot{}, 0).find("drop"), std::string::npos);
}

// Two values the kernel does not name are one `unknown` series (Prometheus
// refuses two samples with the same labels), and one JSON reason.
TEST(DropsMetrics, UnnamedReasonsAreOneUnknownSeries)
{
    DropsReport r = sample_report();
    r.interfaces[0].directions[TS_DROP_RECEIVED].counts = {
        {.reason = 130, .cls = kUdp4, .counted = {1, 100}},
        {.reason = 140, .cls = kUdp4, .counted = {2, 200}},
    };
    AgentSnapshot s;
    s.drops = r;
    const std::string text = metrics_text(s, 0);
    const std::string series = "trafstat_drops_total{device=\"veth0\",direction=\"received\",reason=\"unknown\","
                               "ip=\"ipv4\",class=\"udp\"} ";
    EXPECT_NE(text.find(series + "3\n"), std::string::npos) << text;
    EXPECT_EQ(text.find(series, text.find(series) + 1), std::string::npos) << "one series";
    SummaryReport summary;
    summary.drops = r;
    EXPECT_EQ(summary_json(summary)["drops"][0]["received"]["reasons"]["unknown"]["packets"], 3);
}

ParseResult parse(std::initializer_list<const char*> args)
{
    std::vector<const char*> argv = {"trafstat"};
    argv.insert(argv.end(), args.begin(), args.end());
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(DropsOptions, LiveAndAgentTakeThemReplayRefusesThem)
{
    const ParseResult live = parse({"--drops", "--drop-flow-table-size", "64", "veth0"});
    ASSERT_TRUE(std::holds_alternative<LiveConfig>(live));
    EXPECT_EQ(std::get<LiveConfig>(live).drops, (DropsConfig{.on = true, .flow_capacity = 64}));
    EXPECT_FALSE(std::get<LiveConfig>(parse({"veth0"})).drops.on);

    const ParseResult agent = parse({"agent", "--drops", "veth0"});
    ASSERT_TRUE(std::holds_alternative<AgentConfig>(agent));
    EXPECT_TRUE(std::get<AgentConfig>(agent).drops.on);

    const ParseResult replay = parse({"replay", "--drops", "x.pcap"});
    ASSERT_TRUE(std::holds_alternative<ParseExit>(replay));
    const ParseExit& refused = std::get<ParseExit>(replay);
    EXPECT_EQ(refused.code, exit_code::usage);
    EXPECT_NE(refused.text.find("replay: --drops"), std::string::npos) << refused.text;
    EXPECT_EQ(refused.text.find('\n'), std::string::npos) << refused.text;

    const ParseResult zero = parse({"--drops", "--drop-flow-table-size", "0", "veth0"});
    ASSERT_TRUE(std::holds_alternative<ParseExit>(zero));
    EXPECT_EQ(std::get<ParseExit>(zero).code, exit_code::usage);
}

}  // namespace
}  // namespace trafstat
