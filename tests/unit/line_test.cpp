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

}  // namespace
}  // namespace trafstat
