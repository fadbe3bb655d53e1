// The /metrics text (docs/metrics.md) of a hand-built AgentSnapshot: exact
// lines, the partition and the per-key rule adding up, and promtool's check.
#include "output/metrics.hpp"
#include "support/privileged.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace trafstat {
namespace {

FlowKey key(const char* src, const char* dst, std::uint8_t proto = 0, std::uint16_t sport = 0, std::uint16_t dport = 0)
{
    FlowKey k;
    k.proto = proto;
    k.sport = sport;
    k.dport = dport;
    in_addr v4{};
    if (inet_pton(AF_INET, src, &v4) == 1) {
        k.ip_version = 4;
        for (auto* addr : {&k.src, &k.dst}) {
            (*addr)[10] = (*addr)[11] = 0xff;
            inet_pton(AF_INET, addr == &k.src ? src : dst, addr->data() + 12);
        }
    } else {
        k.ip_version = 6;
        inet_pton(AF_INET6, src, k.src.data());
        inet_pton(AF_INET6, dst, k.dst.data());
    }
    return k;
}

Counter& l4(ClassCounters& c, ts_ip_version v, ts_class cls)
{
    return c.l4_by_ip[v][static_cast<std::size_t>(cls - TS_L4_FIRST)];
}

// eth0 at XDP with talkers (IPv4 and IPv6 keys) and ports (an IPv4 and an
// IPv6 key with the same protocol and ports) loaded; an attachment whose
// device name needs escaping, down, without tables.
AgentSnapshot sample_snapshot()
{
    AttachmentSnapshot eth0;
    eth0.device = "eth0";
    eth0.hook = "xdp";
    eth0.mode = "native";
    eth0.attached_at_s = 1764493029.5;
    ClassCounters& t = eth0.totals;
    l4(t, TS_IP_V4, TS_CLASS_TCP) = {100, 150000};
    l4(t, TS_IP_V4, TS_CLASS_UDP) = {20, 3000};
    l4(t, TS_IP_V6, TS_CLASS_TCP) = {5, 700};
    l4(t, TS_IP_V6, TS_CLASS_ICMPV6) = {3, 300};
    t[TS_CLASS_IPV4] = {120, 153000};
    t[TS_CLASS_IPV6] = {8, 1000};
    t[TS_CLASS_TCP] = {105, 150700};
    t[TS_CLASS_UDP] = {20, 3000};
    t[TS_CLASS_ICMPV6] = {3, 300};
    t[TS_CLASS_ARP] = {2, 120};
    t[TS_CLASS_OTHER_L3] = {1, 60};
    t[TS_CLASS_MALFORMED] = {1, 20};
    t[TS_CLASS_ALL] = {132, 154200};
    t[TS_CLASS_VLAN] = {7, 1000};
    t.super_packets = {1, 9000};
    t.table_overflow[TS_TABLE_TALKERS] = {5, 500};
    t.table_overflow[TS_TABLE_PORTS] = {3, 300};

    TableSnapshot& talkers = eth0.tables[TS_TABLE_TALKERS];
    talkers.loaded = talkers.active = true;
    talkers.capacity = 65536;
    talkers.entries = 3;
    talkers.exported = {{key("10.0.0.1", "10.0.0.2"), {100, 150000}}, {key("2001:db8::1", "2001:db8::2"), {8, 1000}}};
    talkers.other = {15, 2500};

    TableSnapshot& ports = eth0.tables[TS_TABLE_PORTS];
    ports.loaded = true;
    ports.active = false;
    ports.capacity = 4096;
    ports.entries = 2;
    ports.exported = {{key("10.0.0.1", "10.0.0.2", IPPROTO_TCP, 40000, 443), {60, 90000}},
                      {key("2001:db8::1", "2001:db8::2", IPPROTO_TCP, 40000, 443), {5, 700}},
                      {key("10.0.0.1", "10.0.0.2", IPPROTO_UDP, 5353, 53), {20, 3000}}};
    ports.other = {40, 60000};

    AttachmentSnapshot odd;
    odd.device = "we\"ird\\dev";
    odd.hook = "tc-ingress";
    odd.mode = "tcx";
    odd.up = false;
    odd.attached_at_s = 1764493000;
    l4(odd.totals, TS_IP_V4, TS_CLASS_UDP) = {10, 1000};
    odd.totals[TS_CLASS_IPV4] = odd.totals[TS_CLASS_UDP] = odd.totals[TS_CLASS_ALL] = {10, 1000};

    return {{eth0, odd}};
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

bool has_line(const std::string& text, const std::string& line)
{
    const auto lines = lines_of(text);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// Sum of the samples of `name` whose labels contain `with`.
std::uint64_t sum_of(const std::string& text, const std::string& name, const std::string& with)
{
    std::uint64_t sum = 0;
    for (const auto& line : lines_of(text))
        if (line.starts_with(name + "{") && line.find(with) != std::string::npos)
            sum += std::stoull(line.substr(line.rfind(' ') + 1));
    return sum;
}

TEST(Metrics, RepresentativeLines)
{
    const std::string text = metrics_text(sample_snapshot(), 0.0125);
    for (const std::string line : {
             "trafstat_build_info{version=\"" TRAFSTAT_VERSION "\"} 1",
             "trafstat_attachment_up{device=\"eth0\",hook=\"xdp\",mode=\"native\"} 1",
             "trafstat_attachment_up{device=\"we\\\"ird\\\\dev\",hook=\"tc-ingress\",mode=\"tcx\"} 0",
             "trafstat_attached_timestamp_seconds{device=\"eth0\",hook=\"xdp\"} 1764493029.5",
             "trafstat_packets_total{device=\"eth0\",hook=\"xdp\",ip=\"ipv4\",class=\"tcp\"} 100",
             "trafstat_bytes_total{device=\"eth0\",hook=\"xdp\",ip=\"ipv6\",class=\"icmpv6\"} 300",
             "trafstat_packets_total{device=\"eth0\",hook=\"xdp\",ip=\"ipv4\",class=\"icmpv6\"} 0",
             "trafstat_packets_total{device=\"eth0\",hook=\"xdp\",ip=\"ipv6\",class=\"malformed_l4\"} 0",
             "trafstat_packets_total{device=\"eth0\",hook=\"xdp\",ip=\"\",class=\"arp\"} 2",
             "trafstat_bytes_total{device=\"eth0\",hook=\"xdp\",ip=\"\",class=\"malformed\"} 20",
             "trafstat_packets_total{device=\"we\\\"ird\\\\dev\",hook=\"tc-ingress\",ip=\"ipv4\",class=\"udp\"} 10",
             "trafstat_flag_packets_total{device=\"eth0\",hook=\"xdp\",flag=\"vlan\"} 7",
             "trafstat_flag_packets_total{device=\"eth0\",hook=\"xdp\",flag=\"pppoe\"} 0",
             "trafstat_flag_bytes_total{device=\"eth0\",hook=\"xdp\",flag=\"super_packets\"} 9000",
             "trafstat_table_capacity{device=\"eth0\",hook=\"xdp\",table=\"talkers\"} 65536",
             "trafstat_table_entries{device=\"eth0\",hook=\"xdp\",table=\"ports\"} 2",
             "trafstat_table_active{device=\"eth0\",hook=\"xdp\",table=\"talkers\"} 1",
             "trafstat_table_active{device=\"eth0\",hook=\"xdp\",table=\"ports\"} 0",
             "trafstat_table_overflow_packets_total{device=\"eth0\",hook=\"xdp\",table=\"talkers\"} 5",
             "trafstat_table_overflow_bytes_total{device=\"eth0\",hook=\"xdp\",table=\"ports\"} 300",
             "trafstat_table_unkeyed_packets_total{device=\"eth0\",hook=\"xdp\"} 0",
             "trafstat_talker_packets_total{device=\"eth0\",hook=\"xdp\",src=\"10.0.0.1\",dst=\"10.0.0.2\"} 100",
             "trafstat_talker_bytes_total{device=\"eth0\",hook=\"xdp\",src=\"2001:db8::1\",dst=\"2001:db8::2\"} 1000",
             "trafstat_talker_packets_total{device=\"eth0\",hook=\"xdp\",src=\"other\",dst=\"other\"} 15",
             // The IPv4 and the IPv6 key: one series, their sum.
             "trafstat_port_packets_total{device=\"eth0\",hook=\"xdp\",proto=\"tcp\",sport=\"40000\",dport=\"443\"} 65",
             "trafstat_port_bytes_total{device=\"eth0\",hook=\"xdp\",proto=\"udp\",sport=\"5353\",dport=\"53\"} 3000",
             "trafstat_port_packets_total{device=\"eth0\",hook=\"xdp\",proto=\"other\",sport=\"other\",dport=\"other\"}"
             " "
             "40",
             "trafstat_scrape_duration_seconds 0.0125",
         })
        EXPECT_TRUE(has_line(text, line)) << line << "\nnot in:\n" << text;

    // Only what exists: no flows table, no drop mode, no tables on the second attachment.
    EXPECT_EQ(text.find("trafstat_flow_"), std::string::npos);
    EXPECT_EQ(text.find("trafstat_dropped_"), std::string::npos);
    EXPECT_EQ(text.find("table=\"flows\""), std::string::npos);
    EXPECT_EQ(text.find("trafstat_table_unkeyed_packets_total{device=\"we"), std::string::npos);
}

TEST(Metrics, EveryFamilyOnceAndTogether)
{
    std::set<std::string> typed, helped;
    std::string current;
    for (const auto& line : lines_of(metrics_text(sample_snapshot(), 0.0125))) {
        std::istringstream words(line);
        std::string hash, kind, name;
        if (line.starts_with("# ")) {
            words >> hash >> kind >> name;
            auto& seen = kind == "TYPE" ? typed : helped;
            EXPECT_TRUE(seen.insert(name).second) << kind << " twice for " << name;
            current = name;
            continue;
        }
        name = line.substr(0, line.find_first_of("{ "));
        EXPECT_EQ(name, current) << "a sample away from its family: " << line;
    }
    EXPECT_EQ(typed, helped);
    EXPECT_EQ(typed.size(), 21U);  // all 25 but the flows' and drop mode's
    EXPECT_TRUE(typed.count("trafstat_table_paused_packets_total")) << "the paused counters";
}

TEST(Metrics, PartitionAddsUpToEveryFrame)
{
    const AgentSnapshot s = sample_snapshot();
    const std::string text = metrics_text(s, 0);
    for (const auto& a : s.attachments) {
        const std::string hook = "hook=\"" + a.hook + "\"";  // one attachment per hook here
        EXPECT_EQ(sum_of(text, "trafstat_packets_total", hook), a.totals[TS_CLASS_ALL].packets) << a.device;
        EXPECT_EQ(sum_of(text, "trafstat_bytes_total", hook), a.totals[TS_CLASS_ALL].bytes) << a.device;
    }
    // 10 L4 classes for each IP version and 3 other classes, zeros included, per attachment.
    std::size_t series = 0;
    for (const auto& line : lines_of(text))
        series += line.starts_with("trafstat_packets_total{") ? 1 : 0;
    EXPECT_EQ(series, 2U * (2 * TS_L4_COUNT + 3));
}

TEST(Metrics, PerKeyFamiliesReconcileWithTheTotals)
{
    const AgentSnapshot s = sample_snapshot();
    const std::string text = metrics_text(s, 0);
    const ClassCounters& t = s.attachments[0].totals;
    const std::uint64_t ip = t[TS_CLASS_IPV4].packets + t[TS_CLASS_IPV6].packets;
    const std::uint64_t ip_bytes = t[TS_CLASS_IPV4].bytes + t[TS_CLASS_IPV6].bytes;
    const std::string eth0 = "device=\"eth0\"";
    for (const auto& [family, table] : {std::pair{"trafstat_talker", "talkers"}, std::pair{"trafstat_port", "ports"}}) {
        const std::string in_table = std::string("table=\"") + table + "\"";
        EXPECT_EQ(sum_of(text, std::string(family) + "_packets_total", eth0) +
                      sum_of(text, "trafstat_table_overflow_packets_total", in_table) +
                      sum_of(text, "trafstat_table_unkeyed_packets_total", eth0),
                  ip)
            << family;
        EXPECT_EQ(sum_of(text, std::string(family) + "_bytes_total", eth0) +
                      sum_of(text, "trafstat_table_overflow_bytes_total", in_table) +
                      sum_of(text, "trafstat_table_unkeyed_bytes_total", eth0),
                  ip_bytes)
            << family;
    }
}

TEST(Metrics, DropModeIsOneUnparsedSeries)
{
    AttachmentSnapshot a;
    a.device = "veth0";
    a.hook = "xdp";
    a.mode = "native";
    a.drop_mode = true;
    a.totals[TS_CLASS_ALL] = {50, 3000};
    const std::string text = metrics_text({{a}}, 0);
    EXPECT_TRUE(has_line(text, "trafstat_packets_total{device=\"veth0\",hook=\"xdp\",ip=\"\",class=\"unparsed\"} 50"))
        << text;
    EXPECT_TRUE(has_line(text, "trafstat_bytes_total{device=\"veth0\",hook=\"xdp\",ip=\"\",class=\"unparsed\"} 3000"));
    EXPECT_TRUE(has_line(text, "trafstat_dropped_packets_total{device=\"veth0\",hook=\"xdp\"} 50"));
    EXPECT_TRUE(has_line(text, "trafstat_dropped_bytes_total{device=\"veth0\",hook=\"xdp\"} 3000"));
    EXPECT_EQ(text.find("class=\"tcp\""), std::string::npos);
    EXPECT_EQ(text.find("trafstat_flag_"), std::string::npos);
}

TEST(Metrics, NoAttachments)
{
    EXPECT_EQ(metrics_text({}, 0.5), "# HELP trafstat_build_info Always 1: the version of trafstat serving these "
                                     "metrics.\n# TYPE trafstat_build_info gauge\n"
                                     "trafstat_build_info{version=\"" TRAFSTAT_VERSION "\"} 1\n"
                                     "# HELP trafstat_scrape_duration_seconds How long collecting this scrape's "
                                     "snapshot of the counters took.\n"
                                     "# TYPE trafstat_scrape_duration_seconds gauge\n"
                                     "trafstat_scrape_duration_seconds 0.5\n");
}

// promtool (Debian package prometheus) must accept the text without a word.
// Without promtool: skipped, loudly; under CI=true, a failure.
TEST(Metrics, PromtoolCheckMetricsPasses)
{
    if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
        if (test::running_in_ci())
            FAIL() << "promtool is not installed (Debian package prometheus, scripts/install-deps.sh); CI=true: "
                      "this check may not be skipped";
        GTEST_SKIP() << "SKIPPED: promtool is not installed (Debian package prometheus, scripts/install-deps.sh)";
    }
    AgentSnapshot s = sample_snapshot();
    AttachmentSnapshot dropping;
    dropping.device = "veth0";
    dropping.hook = "xdp";
    dropping.mode = "generic";
    dropping.drop_mode = true;
    s.attachments.push_back(dropping);
    char path[] = "/tmp/trafstat-metrics-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << metrics_text(s, 0.0125);
    FILE* p = popen(("promtool check metrics < " + std::string(path) + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string output;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
        output.append(buf, n);
    const int status = pclose(p);
    unlink(path);
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace trafstat
