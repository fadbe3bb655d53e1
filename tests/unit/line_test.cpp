// The human line output: layout, alignment, hide_zero, the total block, summary.
#include "output/line.hpp"

#include "output/units.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>

namespace trafstat {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The cells of a table row (separated by two or more spaces), each with the
// column where it ends, to check right alignment.
struct Cell {
    std::string text;
    std::size_t end;
};
std::vector<Cell> cells_of(const std::string& line)
{
    std::vector<Cell> cells;
    std::size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && line[pos] == ' ') {
            ++pos;
        }
        std::size_t end = line.find("  ", pos);
        if (end == std::string::npos) {
            end = line.size();
        }
        if (end > pos) {
            cells.push_back({line.substr(pos, end - pos), end});
        }
        pos = end;
    }
    return cells;
}

AttachmentReport attachment(std::string ifname, std::string hook, std::string mode)
{
    AttachmentReport a{std::move(ifname), std::move(hook), std::move(mode), {}};
    a.counters[TS_CLASS_ALL] = {2000, 1500000};
    a.counters[TS_CLASS_IPV4] = {1990, 1499000};
    a.counters[TS_CLASS_ARP] = {10, 1000};
    a.counters[TS_CLASS_TCP] = {1990, 1499000};
    a.counters.l4_by_ip[TS_IP_V4][0] = {1990, 1499000};
    return a;
}

class LineTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // Headers show local time; pin it so the expected text is fixed.
        const char* tz = std::getenv("TZ");
        saved_tz_ = tz ? std::optional<std::string>{tz} : std::nullopt;
        setenv("TZ", "UTC", 1);
        tzset();
    }
    void TearDown() override
    {
        if (saved_tz_) {
            setenv("TZ", saved_tz_->c_str(), 1);
        } else {
            unsetenv("TZ");
        }
        tzset();
    }

    static IntervalReport interval(std::vector<AttachmentReport> attachments)
    {
        IntervalReport r;
        r.time = sys_days{2026y / November / 23} + 10h + 4min + 5s + 250ms;
        r.interval_s = 2.0;
        r.attachments = std::move(attachments);
        return r;
    }

private:
    std::optional<std::string> saved_tz_;
};

TEST_F(LineTest, OneAttachmentLayout)
{
    const std::string text = render_interval(interval({attachment("veth0", "xdp", "native")}), {});
    const auto lines = lines_of(text);
    // title, heading, 18 classes, and the empty line that ends the interval
    ASSERT_EQ(lines.size(), 2u + TS_CLASS_MAX + 1);
    EXPECT_EQ(lines[0], "10:04:05  veth0 xdp/native");
    EXPECT_EQ(lines[1].substr(0, 5), "class");
    EXPECT_EQ(lines.back(), "");
    EXPECT_TRUE(text.ends_with("\n\n"));

    for (int k = 0; k < TS_CLASS_MAX; ++k) {
        const auto cells = cells_of(lines[2 + static_cast<std::size_t>(k)]);
        ASSERT_EQ(cells.size(), 5u) << lines[2 + static_cast<std::size_t>(k)];
        EXPECT_EQ(cells[0].text, class_name(static_cast<ts_class>(k)));
    }
    // all: 2000 packets and 1.5 MB over 2 s
    const auto all = cells_of(lines[2]);
    EXPECT_EQ(all[1].text, "1.00 Kpps");
    EXPECT_EQ(all[2].text, "6.00 Mbps");
    EXPECT_EQ(all[3].text, "2000");
    EXPECT_EQ(all[4].text, "1500000");
    const auto udp = cells_of(lines[2 + TS_CLASS_UDP]);
    EXPECT_EQ(udp[1].text, "0 pps");
    EXPECT_EQ(udp[2].text, "0 bps");
    EXPECT_EQ(udp[3].text, "0");
}

TEST_F(LineTest, HeadingNamesTheColumns)
{
    const auto lines = lines_of(render_interval(interval({attachment("eth0", "xdp", "generic")}), {}));
    const auto heading = cells_of(lines[1]);
    ASSERT_EQ(heading.size(), 5u);
    EXPECT_EQ(heading[0].text, "class");
    EXPECT_EQ(heading[1].text, "pps");
    EXPECT_EQ(heading[2].text, "bps");
    EXPECT_EQ(heading[3].text, "packets");
    EXPECT_EQ(heading[4].text, "bytes");
}

TEST_F(LineTest, ColumnsAreAlignedAcrossAllTables)
{
    auto big = attachment("veth1", "tc-egress", "tcx");
    big.counters[TS_CLASS_ALL] = {123456789012ULL, 987654321098765ULL};  // wider than the minimum
    const auto lines = lines_of(render_interval(interval({attachment("veth0", "xdp", "native"), big}), {}));

    std::vector<std::size_t> ends;  // of the heading's columns
    std::size_t rows = 0;
    for (const std::string& line : lines) {
        const auto cells = cells_of(line);
        if (cells.size() != 5) {
            continue;  // titles and empty lines
        }
        ++rows;
        EXPECT_EQ(line.find("  "), cells[0].text.size()) << "class name left-aligned: " << line;
        if (ends.empty()) {
            for (const Cell& c : cells) {
                ends.push_back(c.end);
            }
            EXPECT_EQ(ends.back(), line.size());
            continue;
        }
        for (std::size_t i = 1; i < cells.size(); ++i) {
            EXPECT_EQ(cells[i].end, ends[i]) << "column " << i << " not right-aligned: " << line;
        }
        EXPECT_EQ(line.size(), ends.back()) << line;
    }
    EXPECT_EQ(rows, 3u * (1 + TS_CLASS_MAX));  // two attachments and the total, each with its heading
}

TEST_F(LineTest, NoTrailingSpaces)
{
    for (const LineOptions o : {LineOptions{false}, LineOptions{true}}) {
        const IntervalReport r = interval({attachment("veth0", "xdp", "native"), attachment("veth1", "xdp", "")});
        for (const std::string& text : {render_interval(r, o), render_summary({3.0, r.attachments}, o)}) {
            for (const std::string& line : lines_of(text)) {
                EXPECT_TRUE(line.empty() || line.back() != ' ') << "'" << line << "'";
            }
        }
    }
}

TEST_F(LineTest, HideZeroKeepsAllAndNonZeroClasses)
{
    const auto lines = lines_of(render_interval(interval({attachment("veth0", "xdp", "native")}), {.hide_zero = true}));
    std::vector<std::string> classes;
    for (std::size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
        classes.push_back(cells_of(lines[i])[0].text);
    }
    EXPECT_EQ(classes, (std::vector<std::string>{"all", "ipv4", "arp", "tcp"}));
}

TEST_F(LineTest, HideZeroNeverHidesAll)
{
    const auto lines = lines_of(render_interval(interval({{"lo", "xdp", "generic", {}}}), {.hide_zero = true}));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(cells_of(lines[2])[0].text, "all");
    EXPECT_EQ(cells_of(lines[2])[3].text, "0");
    EXPECT_EQ(lines[3], "");
}

TEST_F(LineTest, TotalBlockOnlyWithSeveralAttachments)
{
    const auto one = lines_of(render_interval(interval({attachment("veth0", "xdp", "native")}), {}));
    for (const std::string& line : one) {
        EXPECT_EQ(line.find("total"), std::string::npos) << line;
    }

    auto second = attachment("veth1", "tc-ingress", "clsact");
    second.counters[TS_CLASS_UDP] = {4, 400};
    const auto lines = lines_of(render_interval(interval({attachment("veth0", "xdp", "native"), second}), {}));
    const std::size_t table = 2 + TS_CLASS_MAX;  // title, heading, classes
    ASSERT_EQ(lines.size(), 3 * table + 3);      // plus an empty line after each table
    EXPECT_EQ(lines[0], "10:04:05  veth0 xdp/native");
    EXPECT_EQ(lines[table], "");
    EXPECT_EQ(lines[table + 1], "10:04:05  veth1 tc-ingress/clsact");
    EXPECT_EQ(lines[2 * table + 1], "");
    EXPECT_EQ(lines[2 * table + 2], "10:04:05  total");

    const auto total_all = cells_of(lines[2 * table + 4]);
    EXPECT_EQ(total_all[0].text, "all");
    EXPECT_EQ(total_all[3].text, "4000");
    EXPECT_EQ(total_all[4].text, "3000000");
    const auto total_udp = cells_of(lines[2 * table + 4 + TS_CLASS_UDP]);
    EXPECT_EQ(total_udp[0].text, "udp");
    EXPECT_EQ(total_udp[1].text, "2 pps");
    EXPECT_EQ(total_udp[3].text, "4");
}

TEST_F(LineTest, HideZeroAppliesPerTable)
{
    auto second = attachment("veth1", "xdp", "native");
    second.counters[TS_CLASS_ICMP] = {1, 98};
    const std::string text =
        render_interval(interval({attachment("veth0", "xdp", "native"), second}), {.hide_zero = true});
    const auto lines = lines_of(text);
    // veth0 without icmp, veth1 and the total with it
    std::vector<std::string> tables;
    std::string current;
    for (const std::string& line : lines) {
        const auto cells = cells_of(line);
        if (cells.size() == 5 && cells[0].text != "class") {
            current += cells[0].text + " ";
        } else if (line.empty()) {
            tables.push_back(current);
            current.clear();
        }
    }
    const std::vector<std::string> expected = {"all ipv4 arp tcp ", "all ipv4 arp tcp icmp ", "all ipv4 arp tcp icmp "};
    EXPECT_EQ(tables, expected);
}

TEST_F(LineTest, TitleWithoutMode)
{
    const auto lines = lines_of(render_interval(interval({attachment("eth0", "tc-egress", "")}), {}));
    EXPECT_EQ(lines[0], "10:04:05  eth0 tc-egress");
}

TEST_F(LineTest, ZeroLengthIntervalShowsZeroRates)
{
    IntervalReport r = interval({attachment("veth0", "xdp", "native")});
    r.interval_s = 0;
    const auto all = cells_of(lines_of(render_interval(r, {}))[2]);
    EXPECT_EQ(all[1].text, "0 pps");
    EXPECT_EQ(all[3].text, "2000");
}

TEST_F(LineTest, SummaryShowsTotalsAndAverageRates)
{
    const SummaryReport s{12.34, {attachment("veth0", "xdp", "native"), attachment("veth1", "xdp", "native")}};
    const std::string text = render_summary(s, {});
    const auto lines = lines_of(text);
    EXPECT_EQ(lines[0], "summary after 12.3s  veth0 xdp/native");
    const auto heading = cells_of(lines[1]);
    ASSERT_EQ(heading.size(), 5u);
    EXPECT_EQ(heading[1].text, "avg pps");
    EXPECT_EQ(heading[2].text, "avg bps");
    EXPECT_EQ(heading[3].text, "packets");

    const std::size_t table = 2 + TS_CLASS_MAX;
    ASSERT_EQ(lines.size(), 3 * table + 2);  // no empty line after the last table
    EXPECT_EQ(lines[2 * table + 2], "summary after 12.3s  total");
    const auto total_all = cells_of(lines[2 * table + 4]);
    EXPECT_EQ(total_all[1].text, format_pps(4000 / 12.34));  // "324 pps"
    EXPECT_EQ(total_all[1].text, "324 pps");
    EXPECT_EQ(total_all[2].text, "1.94 Mbps");  // 3e6 bytes * 8 / 12.34 s = 1944894
    EXPECT_EQ(total_all[3].text, "4000");
    EXPECT_TRUE(text.ends_with("\n"));
    EXPECT_FALSE(text.ends_with("\n\n"));
}

TEST_F(LineTest, SummaryHideZero)
{
    const auto lines = lines_of(render_summary({1.0, {attachment("veth0", "xdp", "native")}}, {.hide_zero = true}));
    EXPECT_EQ(lines.size(), 2u + 4u);  // title, heading, all ipv4 arp tcp
}

TEST_F(LineTest, SummaryNotesSuperPacketsOnlyWhenSeen)
{
    AttachmentReport a = attachment("veth0", "xdp", "generic");
    a.super_packets = true;
    const std::string note =
        "veth0 xdp/generic: 7 frames larger than the MTU (GSO super-packets), counted as the wire segments they "
        "stand for\n";
    EXPECT_EQ(render_summary({1.0, {a}}, {}).find("super-packets"), std::string::npos) << "none seen";
    a.counters.super_packets = {7, 400000};
    const std::string text = render_summary({1.0, {a}}, {});
    EXPECT_TRUE(text.ends_with("\n" + note)) << text;
    EXPECT_EQ(render_interval({{}, 1.0, {a}}, {}).find("super-packets"), std::string::npos) << "summary only";
}

// Drops (--drops): a hand-built report of veth0 and veth1.
constexpr std::uint32_t k_no_socket = 2, k_netfilter = 5, k_rcvbuff = 10, k_csum = 30, k_qdisc = 40, k_tcp = 50,
                        k_not_specified = 1;

std::shared_ptr<const DropReasons> kernel_reasons()
{
    std::vector<std::string> names(64);
    names[k_not_specified] = "not_specified";
    names[k_no_socket] = "no_socket";
    names[k_netfilter] = "netfilter_drop";
    names[k_rcvbuff] = "socket_rcvbuff";
    names[k_csum] = "ip_csum";
    names[k_qdisc] = "qdisc_drop";
    names[k_tcp] = "tcp_invalid_sequence";
    return std::make_shared<const DropReasons>(std::move(names));
}

constexpr std::uint32_t udp4 = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP);
constexpr std::uint32_t tcp4 = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_TCP);
constexpr std::uint32_t udp6 = TS_DROP_CLASS_IP(TS_IP_V6, TS_CLASS_UDP);

DroppedFlow dropped(ts_drop_direction dir, std::uint32_t reason, std::uint32_t cls, std::uint8_t proto,
                    std::uint8_t src, std::uint16_t sport, std::uint16_t dport, std::uint64_t packets)
{
    DroppedFlow f{.key = {.direction = dir, .reason = reason, .cls = cls}, .counted = {packets, packets * 100}};
    if (proto) {
        f.key.flow.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, src};
        f.key.flow.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
        f.key.flow.proto = proto;
        f.key.flow.sport = sport;
        f.key.flow.dport = dport;
        f.key.flow.ip_version = 4;
    }
    return f;
}

// veth0: 1392 packets dropped as received, over seven reasons (the counts in
// reason order, not by size), 25 leaving; its own counters moved. veth1: nothing.
DropsReport drops_report()
{
    InterfaceDrops veth0{.ifname = "veth0"};
    veth0.directions[TS_DROP_RECEIVED].counts = {
        {k_not_specified, TS_DROP_CLASS_UNPARSED, {5, 500}},
        {k_no_socket, udp4, {800, 80000}},
        {k_no_socket, udp6, {200, 20000}},
        {k_netfilter, tcp4, {300, 30000}},
        {k_rcvbuff, udp4, {50, 5000}},
        {k_csum, TS_DROP_CLASS_NON_IP(TS_CLASS_MALFORMED), {20, 2000}},
        {k_tcp, tcp4, {10, 1000}},
        {TS_DROP_REASON_XDP_ABORTED, TS_DROP_CLASS_UNPARSED, {7, 0}},
    };
    veth0.directions[TS_DROP_LEAVING].counts = {{k_qdisc, udp4, {25, 2500}}};
    veth0.directions[TS_DROP_LEAVING].flow_overflow = {5, 500};
    veth0.flows = {dropped(TS_DROP_RECEIVED, k_no_socket, udp4, 17, 1, 1234, 9, 800),
                   dropped(TS_DROP_RECEIVED, k_netfilter, tcp4, 6, 3, 40000, 22, 300),
                   dropped(TS_DROP_LEAVING, k_qdisc, udp4, 17, 4, 5000, 53, 20),
                   dropped(TS_DROP_RECEIVED, TS_DROP_REASON_XDP_ABORTED, TS_DROP_CLASS_UNPARSED, 0, 0, 0, 0, 7)};
    veth0.link = LinkCounters{.rx_dropped = 3, .rx_missed_errors = 2};
    InterfaceDrops veth1{.ifname = "veth1", .link = LinkCounters{}};
    return {.interfaces = {std::move(veth0), std::move(veth1)}, .reasons = kernel_reasons()};
}

// The lines from the first one starting with `title` to the next empty one.
std::vector<std::string> block_of(const std::string& text, std::string_view title)
{
    std::vector<std::string> block;
    for (const std::string& line : lines_of(text)) {
        if (block.empty() && !line.starts_with(title))
            continue;
        if (line.empty())
            break;
        block.push_back(line);
    }
    return block;
}

TEST_F(LineTest, IntervalDropsTopReasonsFlowsAndLinkCounters)
{
    IntervalReport r = interval({attachment("veth0", "xdp", "native")});
    r.drops = drops_report();
    const std::string text = render_interval(r, {});
    EXPECT_TRUE(text.ends_with("\n\n"));
    EXPECT_LT(text.find("10:04:05  veth0 xdp/native"), text.find("drops")) << "after the interfaces";

    // 1392 packets, 138500 bytes over 2 s; the five largest reasons, then the rest.
    const auto received = block_of(text, "10:04:05  veth0 drops received");
    const std::vector<std::string> expected = {
        "10:04:05  veth0 drops received  696 pps  554 Kbps  1392 packets  138500 bytes",
        "  reason                packets  classes",
        "  no_socket                1000  ipv4/udp 800, ipv6/udp 200",
        "  netfilter_drop            300  ipv4/tcp",
        "  socket_rcvbuff             50  ipv4/udp",
        "  ip_csum                    20  malformed",
        "  tcp_invalid_sequence       10  ipv4/tcp",
        "  2 more reasons             12",
        "  top dropped flows                 reason          class     packets",
        "  udp 10.0.0.1:1234 > 10.0.0.2:9    no_socket       ipv4/udp      800",
        "  tcp 10.0.0.3:40000 > 10.0.0.2:22  netfilter_drop  ipv4/tcp      300",
        "  unparsed                          xdp_aborted     unparsed        7",
    };
    EXPECT_EQ(received, expected) << text;

    // Leaving: its own flows, the flow table's overflow, then the link counters
    // that moved (only those), labelled as the interface's own.
    const auto leaving = block_of(text, "10:04:05  veth0 drops leaving");
    const std::vector<std::string> expected_leaving = {
        "10:04:05  veth0 drops leaving  13 pps  10.0 Kbps  25 packets  2500 bytes",
        "  reason      packets  classes",
        "  qdisc_drop       25  ipv4/udp",
        "  top dropped flows                reason      class     packets",
        "  udp 10.0.0.4:5000 > 10.0.0.2:53  qdisc_drop  ipv4/udp       20",
        "  5 packets 500 bytes not in a flow: the dropped-flows table was full (--drop-flow-table-size)",
        "10:04:05  veth0 link counters (driver and stack): rx_dropped 3, rx_missed_errors 2",
    };
    EXPECT_EQ(leaving, expected_leaving) << text;

    // veth1 dropped nothing and its counters did not move: not a word.
    EXPECT_EQ(text.find("veth1"), std::string::npos) << text;
    EXPECT_EQ(text.find("drops: none"), std::string::npos) << text;
    for (const auto& line : lines_of(text))
        EXPECT_FALSE(line.ends_with(" ")) << "[" << line << "]";
}

TEST_F(LineTest, NoDropsIsOneLineUnlessHideZero)
{
    IntervalReport r = interval({attachment("veth0", "xdp", "native")});
    r.drops = DropsReport{.interfaces = {{.ifname = "veth0"}, {.ifname = "veth1", .link = LinkCounters{}}},
                          .reasons = kernel_reasons()};
    const std::string text = render_interval(r, {});
    EXPECT_TRUE(text.ends_with("\n\n10:04:05  drops: none on veth0, veth1\n\n")) << text;
    EXPECT_EQ(render_interval(r, {.hide_zero = true}).find("drops"), std::string::npos);
    // Without --drops, nothing is said about them.
    r.drops.reset();
    EXPECT_EQ(render_interval(r, {}).find("drops"), std::string::npos);
    EXPECT_EQ(render_summary({1.0, {attachment("veth0", "xdp", "native")}}, {}).find("drops"), std::string::npos);
}

TEST_F(LineTest, LinkCountersAloneAreShown)
{
    // The driver dropped what the kernel's drop tracepoint never saw.
    IntervalReport r = interval({attachment("veth0", "xdp", "native")});
    r.drops = DropsReport{.interfaces = {{.ifname = "veth0", .link = LinkCounters{.tx_dropped = 4}}}};
    const std::string text = render_interval(r, {.hide_zero = true});
    EXPECT_TRUE(text.ends_with("\n\n10:04:05  veth0 link counters (driver and stack): tx_dropped 4\n\n")) << text;
    EXPECT_EQ(text.find("drops: none"), std::string::npos) << text;
}

TEST_F(LineTest, SummaryDropsInPacketsAndBytes)
{
    SummaryReport s{10.0, {attachment("veth0", "xdp", "native")}};
    s.drops = drops_report();
    s.drops->reasons = nullptr;  // a kernel without reason names: every kernel reason is unknown
    const std::string text = render_summary(s, {});
    const auto received = block_of(text, "summary after 10.0s  veth0 drops received");
    ASSERT_GE(received.size(), 4u) << text;
    EXPECT_EQ(received[0], "summary after 10.0s  veth0 drops received  1392 packets  138500 bytes");
    EXPECT_EQ(cells_of(received[2])[0].text, "unknown");
    EXPECT_EQ(cells_of(received[2])[1].text, "1385");  // the six kernel reasons, as one
    EXPECT_EQ(cells_of(received[3])[0].text, "xdp_aborted");
    EXPECT_NE(text.find("summary after 10.0s  veth0 link counters (driver and stack): rx_dropped 3"),
              std::string::npos);
    EXPECT_TRUE(text.ends_with("\n")) << text;
    EXPECT_FALSE(text.ends_with("\n\n")) << text;
}

}  // namespace
}  // namespace trafstat
