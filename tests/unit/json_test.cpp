// NDJSON output: parse the produced line back and check the schema of docs/json.md.
#include "output/json.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace trafstat {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> k_all_classes = {
    "all",    "ipv4", "ipv6", "arp", "other_l3", "malformed", "tcp",          "udp",  "icmp",
    "icmpv6", "sctp", "gre",  "esp", "other_l4", "fragment",  "malformed_l4", "vlan", "pppoe",
};
const std::vector<std::string> k_l4_classes = {
    "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", "other_l4", "fragment", "malformed_l4",
};

std::vector<std::string> keys_of(const json& object)
{
    std::vector<std::string> keys;
    for (const auto& [key, value] : object.items()) {
        keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

AttachmentReport attachment(std::string ifname, std::string hook, std::string mode)
{
    AttachmentReport a{std::move(ifname), std::move(hook), std::move(mode), {}};
    a.counters[TS_CLASS_ALL] = {30, 3000};
    a.counters[TS_CLASS_IPV4] = {20, 2400};
    a.counters[TS_CLASS_IPV6] = {10, 600};
    a.counters[TS_CLASS_TCP] = {20, 2400};
    a.counters[TS_CLASS_UDP] = {10, 600};
    a.counters.l4_by_ip[TS_IP_V4][TS_CLASS_TCP - TS_L4_FIRST] = {20, 2400};
    a.counters.l4_by_ip[TS_IP_V6][TS_CLASS_UDP - TS_L4_FIRST] = {10, 600};
    return a;
}

IntervalReport interval()
{
    IntervalReport r;
    r.time = sys_days{2026y / November / 23} + 10h + 0min + 1s + 123ms + 900us;
    r.interval_s = 0.5;  // measured, not the nominal 1 s
    r.attachments = {attachment("veth0", "xdp", "native"), attachment("veth1", "tc-ingress", "tcx")};
    r.attachments[1].counters[TS_CLASS_ARP] = {1, 42};
    r.attachments[1].counters[TS_CLASS_ALL] = {31, 3042};
    return r;
}

// Produces the line as trafstat prints it, and parses it back as a consumer would.
json round_trip(const nlohmann::ordered_json& j)
{
    const std::string line = to_line(j);
    EXPECT_EQ(line.find('\n'), std::string::npos) << "one object per line";
    return json::parse(line);
}

TEST(Iso8601, UtcWithMilliseconds)
{
    const auto t = sys_days{2026y / November / 23} + 10h + 0min + 1s + 123ms + 999us;
    EXPECT_EQ(iso8601_utc(t), "2026-11-23T10:00:01.123Z");  // truncated, not rounded
    EXPECT_EQ(iso8601_utc(sys_days{1970y / January / 1}), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(sys_days{2024y / February / 29} + 23h + 59min + 59s + 7ms), "2024-02-29T23:59:59.007Z");
}

TEST(IntervalJson, TopLevelFields)
{
    const json j = round_trip(interval_json(interval()));
    EXPECT_EQ(keys_of(j), sorted({"type", "time", "interval_s", "interfaces", "total"}));
    EXPECT_EQ(j["type"], "interval");
    EXPECT_EQ(j["time"], "2026-11-23T10:00:01.123Z");
    EXPECT_TRUE(
        std::regex_match(j["time"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    EXPECT_TRUE(j["interval_s"].is_number_float());
    EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 0.5);
}

TEST(IntervalJson, InterfacesInOrderWithIdentity)
{
    const json j = round_trip(interval_json(interval()));
    ASSERT_TRUE(j["interfaces"].is_array());
    ASSERT_EQ(j["interfaces"].size(), 2u);
    const json& first = j["interfaces"][0];
    EXPECT_EQ(keys_of(first), sorted({"name", "hook", "mode", "classes", "l4_by_ip"}));
    EXPECT_EQ(first["name"], "veth0");
    EXPECT_EQ(first["hook"], "xdp");
    EXPECT_EQ(first["mode"], "native");
    EXPECT_EQ(j["interfaces"][1]["name"], "veth1");
    EXPECT_EQ(j["interfaces"][1]["hook"], "tc-ingress");
    EXPECT_EQ(j["interfaces"][1]["mode"], "tcx");
}

TEST(IntervalJson, EveryClassPresentWithCountsAndRates)
{
    const json j = round_trip(interval_json(interval()));
    const auto& interfaces = j["interfaces"];
    for (const json* classes : {&interfaces[0]["classes"], &interfaces[1]["classes"], &j["total"]["classes"]}) {
        EXPECT_EQ(keys_of(*classes), sorted(k_all_classes));
        for (const auto& [name, c] : classes->items()) {
            EXPECT_EQ(keys_of(c), sorted({"packets", "bytes", "pps", "bps"})) << name;
            EXPECT_TRUE(c["packets"].is_number_unsigned()) << name;
            EXPECT_TRUE(c["bytes"].is_number_unsigned()) << name;
            EXPECT_TRUE(c["pps"].is_number_float()) << name;
            EXPECT_TRUE(c["bps"].is_number_float()) << name;
        }
    }
}

TEST(IntervalJson, ValuesAndRatesUseTheMeasuredInterval)
{
    const json j = round_trip(interval_json(interval()));
    const json& tcp = j["interfaces"][0]["classes"]["tcp"];
    EXPECT_EQ(tcp["packets"].get<std::uint64_t>(), 20u);
    EXPECT_EQ(tcp["bytes"].get<std::uint64_t>(), 2400u);
    EXPECT_DOUBLE_EQ(tcp["pps"].get<double>(), 40.0);     // 20 / 0.5 s
    EXPECT_DOUBLE_EQ(tcp["bps"].get<double>(), 38400.0);  // 2400 * 8 / 0.5 s
    const json& sctp = j["interfaces"][0]["classes"]["sctp"];
    EXPECT_EQ(sctp["packets"].get<std::uint64_t>(), 0u);
    EXPECT_DOUBLE_EQ(sctp["pps"].get<double>(), 0.0);
}

TEST(IntervalJson, TotalSumsAttachments)
{
    const json j = round_trip(interval_json(interval()));
    EXPECT_EQ(keys_of(j["total"]), std::vector<std::string>{"classes"});
    const json& all = j["total"]["classes"]["all"];
    EXPECT_EQ(all["packets"].get<std::uint64_t>(), 61u);
    EXPECT_EQ(all["bytes"].get<std::uint64_t>(), 6042u);
    EXPECT_DOUBLE_EQ(all["pps"].get<double>(), 122.0);
    EXPECT_EQ(j["total"]["classes"]["arp"]["packets"].get<std::uint64_t>(), 1u);
}

TEST(IntervalJson, TotalPresentWithOneOrNoAttachment)
{
    IntervalReport r = interval();
    r.attachments.resize(1);
    json j = round_trip(interval_json(r));
    EXPECT_EQ(j["total"]["classes"]["all"]["packets"].get<std::uint64_t>(), 30u);

    r.attachments.clear();
    j = round_trip(interval_json(r));
    EXPECT_TRUE(j["interfaces"].is_array());
    EXPECT_TRUE(j["interfaces"].empty());
    EXPECT_EQ(keys_of(j["total"]["classes"]), sorted(k_all_classes));
}

TEST(IntervalJson, L4ByIpHasOnlyL4Classes)
{
    const json j = round_trip(interval_json(interval()));
    const json& by_ip = j["interfaces"][0]["l4_by_ip"];
    EXPECT_EQ(keys_of(by_ip), (std::vector<std::string>{"ipv4", "ipv6"}));
    for (const char* v : {"ipv4", "ipv6"}) {
        EXPECT_EQ(keys_of(by_ip[v]), sorted(k_l4_classes)) << v;
        for (const auto& [name, c] : by_ip[v].items()) {
            EXPECT_EQ(keys_of(c), sorted({"packets", "bytes"})) << v << "." << name;
            EXPECT_TRUE(c["packets"].is_number_unsigned());
        }
    }
    EXPECT_EQ(by_ip["ipv4"]["tcp"]["packets"].get<std::uint64_t>(), 20u);
    EXPECT_EQ(by_ip["ipv6"]["tcp"]["packets"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(by_ip["ipv6"]["udp"]["bytes"].get<std::uint64_t>(), 600u);
}

TEST(IntervalJson, ZeroIntervalGivesZeroRatesNotNull)
{
    IntervalReport r = interval();
    r.interval_s = 0;
    const json j = round_trip(interval_json(r));
    EXPECT_TRUE(j["total"]["classes"]["all"]["pps"].is_number_float());
    EXPECT_EQ(j["total"]["classes"]["all"]["pps"].get<double>(), 0.0);
}

// docs/json.md: floats always with a decimal point, never an exponent.
TEST(IntervalJson, TinyAndHugeFloatsArePlainDecimals)
{
    IntervalReport r = interval();
    r.attachments.resize(1);
    r.attachments[0].ifname = "1e-06";  // a string that looks like a number stays as it is
    r.interval_s = 1e-6;                // replay's floor
    const std::string line = to_line(interval_json(r));
    EXPECT_NE(line.find(R"("interval_s":0.000001,)"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("name":"1e-06")"), std::string::npos) << line;
    // 3000 bytes in a microsecond: 2.4e10 bit/s, 3e7 packets/s; 30 packets: 3e7.
    EXPECT_NE(line.find(R"("bps":24000000000.0)"), std::string::npos) << line;
    const json j = json::parse(line);
    EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 1e-6);
    EXPECT_EQ(line.find("e-0"), line.find(R"("1e-06")") + 2) << "no exponent but in the name: " << line;
    EXPECT_EQ(line.find("e+"), std::string::npos) << line;
}

TEST(PlainDecimals, RewritesExponentsOnly)
{
    EXPECT_EQ(plain_decimals(R"({"a":1e-06,"b":-2.5e-07,"c":1.5e+17,"d":1e+15,"e":0.5,"f":12})"),
              R"({"a":0.000001,"b":-0.00000025,"c":150000000000000000.0,"d":1000000000000000.0,"e":0.5,"f":12})");
    EXPECT_EQ(plain_decimals(R"(["1e-06","a\"1e+20",3.25e-05])"), R"(["1e-06","a\"1e+20",0.0000325])");
    EXPECT_EQ(plain_decimals("1.2345e+3"), "1234.5");
    for (const double v : {1e-6, 2.5e-9, 1.5e17, 9.999999999e20, -3e-5, 1.0 / 3 * 1e-7}) {
        const std::string text = plain_decimals(nlohmann::json(v).dump());
        EXPECT_EQ(text.find_first_of("eE"), std::string::npos) << text;
        EXPECT_NE(text.find('.'), std::string::npos) << text;
        EXPECT_EQ(json::parse(text).get<double>(), v) << text;
    }
}

TEST(IntervalJson, LargeCountersStayExact)
{
    IntervalReport r = interval();
    r.attachments.resize(1);
    r.attachments[0].counters[TS_CLASS_ALL].bytes = 18446744073709551615ULL;
    const std::string line = to_line(interval_json(r));
    EXPECT_NE(line.find("18446744073709551615"), std::string::npos);
    EXPECT_EQ(json::parse(line)["interfaces"][0]["classes"]["all"]["bytes"].get<std::uint64_t>(),
              18446744073709551615ULL);
}

TEST(SummaryJson, CountsSinceStartWithoutRates)
{
    const IntervalReport i = interval();
    const json j = round_trip(summary_json({42.5, i.attachments}));
    EXPECT_EQ(keys_of(j), sorted({"type", "duration_s", "interfaces", "total"}));
    EXPECT_EQ(j["type"], "summary");
    EXPECT_TRUE(j["duration_s"].is_number_float());
    EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 42.5);
    ASSERT_EQ(j["interfaces"].size(), 2u);
    EXPECT_EQ(j["interfaces"][1]["name"], "veth1");
    for (const json* classes : {&j["interfaces"][0]["classes"], &j["total"]["classes"]}) {
        EXPECT_EQ(keys_of(*classes), sorted(k_all_classes));
        for (const auto& [name, c] : classes->items()) {
            EXPECT_EQ(keys_of(c), sorted({"packets", "bytes"})) << name;
        }
    }
    EXPECT_EQ(j["total"]["classes"]["all"]["packets"].get<std::uint64_t>(), 61u);
    EXPECT_EQ(keys_of(j["interfaces"][0]["l4_by_ip"]["ipv6"]), sorted(k_l4_classes));
}

// The summary line is streamed row by row (write_summary_json): it must be
// the line the whole object makes, byte for byte, views and all.
std::string streamed_summary(const SummaryReport& r)
{
    std::string line;
    std::size_t pieces = 0;
    write_summary_json(r, [&](std::string_view piece) {
        line += piece;
        ++pieces;
    });
    EXPECT_GT(pieces, 1u) << "written in pieces";
    return line;
}

TEST(SummaryJson, StreamedEqualsTheWholeObjectWithManyRows)
{
    IntervalReport i = interval();
    AttachmentReport& a = i.attachments[0];
    a.tables = {TableReport{TS_TABLE_TALKERS, "talkers", 5000, 8192, {30, 3000}, 1, {2, 20}},
                TableReport{TS_TABLE_FLOWS, "flows", 5000, 8192, {30, 3000}, 0, {}}};
    a.histogram = true;
    a.counters.size_hist[1] = {30, 3000};
    a.super_packets = true;
    a.views.talkers.emplace();
    a.views.ports.emplace();
    a.views.flows.emplace();
    for (std::uint16_t n = 0; n < 5000; ++n) {
        FlowEntry f;
        f.key.ip_version = n % 2 ? 4 : 6;
        f.key.src[15] = static_cast<std::uint8_t>(n);
        f.key.dst[14] = static_cast<std::uint8_t>(n >> 8);
        f.key.sport = n;
        f.key.dport = 443;
        f.key.proto = n % 3 ? 6 : 17;
        f.stats = {n, n * 100u, 1'700'000'000'000'000'000u + n, n % 5 ? 1'700'000'001'000'000'000u : 0, 0x12};
        a.views.flows->push_back(f);
        a.views.talkers->push_back(Talker{f.key.src, f.key.ip_version, {n, n}, {1, 2}});
        a.views.ports->push_back(Port{f.key.proto, n, {n, 7}, {3, n}});
    }
    i.attachments[1].views.flows.emplace();  // on, and empty
    i.attachments[1].ifname = "bad\xff";     // replaced as the whole line replaces it
    const SummaryReport r{12.25, i.attachments};

    const std::string streamed = streamed_summary(r);
    EXPECT_EQ(streamed, to_line(summary_json(r)));
    const json j = json::parse(streamed);
    EXPECT_EQ(j["interfaces"][0]["flows"].size(), 5000u);
    EXPECT_EQ(j["interfaces"][0]["talkers"].size(), 5000u);
    EXPECT_EQ(j["interfaces"][0]["ports"].size(), 5000u);
    EXPECT_EQ(j["interfaces"][1]["flows"], json::array());

    EXPECT_EQ(streamed_summary(SummaryReport{}), to_line(summary_json(SummaryReport{})));
}

TEST(ToLine, CompactAndEscaped)
{
    json j = {{"name", "a\"b"}, {"n", 1}};
    EXPECT_EQ(to_line(j), R"({"n":1,"name":"a\"b"})");
    j["name"] = std::string("bad\xff");  // not UTF-8: replaced, no exception
    std::string line;
    ASSERT_NO_THROW(line = to_line(j));
    EXPECT_EQ(json::parse(line)["name"], "bad\xef\xbf\xbd");  // U+FFFD
}

// Generic XDP: the super-packets seen, on every interval and summary entry,
// and that they were counted as their segments; no such fields elsewhere.
TEST(Json, SuperPacketsOnGenericXdpEntriesOnly)
{
    IntervalReport r = interval();
    r.attachments[0].mode = "generic";
    r.attachments[0].super_packets = true;
    r.attachments[0].counters.super_packets = {3, 190000};
    for (const json& j : {round_trip(interval_json(r)), round_trip(summary_json({1.0, r.attachments}))}) {
        const json& generic = j["interfaces"][0];
        EXPECT_EQ(generic["super_packets"], json({{"packets", 3}, {"bytes", 190000}}));
        EXPECT_EQ(generic["segments_counted"], true);
        EXPECT_FALSE(j["interfaces"][1].contains("super_packets"));
        EXPECT_FALSE(j["interfaces"][1].contains("segments_counted"));
    }
    r.attachments[0].counters.super_packets = {};
    EXPECT_EQ(round_trip(interval_json(r))["interfaces"][0]["super_packets"], json({{"packets", 0}, {"bytes", 0}}));
}

}  // namespace
}  // namespace trafstat
