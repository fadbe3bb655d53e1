// The --tui renderer without a terminal: what the screen holds for a report,
// the keys (views, sort, pause, help, quit), the sparkline, and that every
// size, down to 1x1, gives lines that fit.
#include "cli/options.hpp"
#include "output/tui.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include <trafstat/abi.h>

namespace trafstat {
namespace {

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

FlowEntry flow(std::uint8_t src_last, std::uint16_t sport, std::uint64_t packets, std::uint64_t bytes)
{
    FlowEntry e;
    e.key.src = v4(198, 18, 0, src_last);
    e.key.dst = v4(198, 19, 0, 1);
    e.key.proto = 17;
    e.key.sport = sport;
    e.key.dport = 9;
    e.key.ip_version = 4;
    e.stats = {packets, bytes, 0, 0, 0};
    return e;
}

// One interval on vb0: 1000 UDP packets of 100 bytes over 0.5 s, in three flows
// whose order by bytes (flow 2 first) differs from their order by packets (flow 1 first).
IntervalReport report(std::uint64_t scale = 1, std::string ifname = "vb0")
{
    AttachmentReport a{std::move(ifname), "xdp", "native", {}};
    a.counters[TS_CLASS_ALL] = {1000 * scale, 100000 * scale};
    a.counters[TS_CLASS_IPV4] = {1000 * scale, 100000 * scale};
    a.counters[TS_CLASS_UDP] = {1000 * scale, 100000 * scale};
    a.counters[TS_CLASS_VLAN] = {0, 0};
    std::vector<FlowEntry> flows = {flow(1, 1024, 600 * scale, 30000 * scale), flow(2, 1025, 300 * scale, 60000 * scale),
                                    flow(3, 1026, 100 * scale, 10000 * scale)};
    a.tables = {TableReport{TS_TABLE_FLOWS, "flows", 3, 131072, sum_of(flows)}};
    a.views.flows = flows;
    a.views.talkers = talkers_of(flows);
    a.views.ports = ports_of(flows);
    IntervalReport r;
    r.time = std::chrono::system_clock::now();
    r.interval_s = 0.5;
    r.attachments.push_back(std::move(a));
    return r;
}

std::string screen(const TuiModel& m, int w = 120, int h = 40)
{
    std::string s;
    for (const TuiLine& l : m.lines(w, h))
        s += l.text + "\n";
    return s;
}

// The line holding `needle`, or "".
std::string line_with(const TuiModel& m, std::string_view needle, int w = 120, int h = 40)
{
    for (const TuiLine& l : m.lines(w, h))
        if (l.text.find(needle) != std::string::npos)
            return l.text;
    return {};
}

std::size_t row_of(const TuiModel& m, std::string_view needle)
{
    const auto lines = m.lines(120, 40);
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].text.find(needle) != std::string::npos)
            return i;
    return lines.size();
}

constexpr TuiViews k_all{true, true, true};

TEST(Tui, WaitsForTheFirstInterval)
{
    TuiModel m(k_all, SortKey::bps, 1.0, true);
    const auto lines = m.lines(80, 24);
    ASSERT_EQ(lines.size(), 24u);
    EXPECT_EQ(lines.front().style, TuiStyle::title);
    EXPECT_EQ(lines.back().style, TuiStyle::status);
    EXPECT_NE(screen(m, 80, 24).find("waiting for the first interval (1.0s)"), std::string::npos);
}

TEST(Tui, ShowsInterfaceClassesTableAndFlows)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    const std::string s = screen(m);
    EXPECT_NE(s.find("view: flows  sort: bps"), std::string::npos) << s;
    EXPECT_NE(s.find("vb0 xdp/native  all 1.60 Mbps"), std::string::npos) << s;
    EXPECT_NE(s.find("flows table: 3 of 131072 slots (0.0%), overflow 0 packets 0 bytes"), std::string::npos) << s;
    // class rows: the main ones always, others only when non-zero
    EXPECT_NE(line_with(m, "  all     ").find("2.00 Kpps"), std::string::npos) << s;
    EXPECT_NE(line_with(m, "  udp     ").find("1.60 Mbps"), std::string::npos) << s;
    EXPECT_NE(line_with(m, "  icmpv6  ").find("0 pps"), std::string::npos) << s;
    EXPECT_EQ(s.find("  vlan "), std::string::npos) << s;
    EXPECT_EQ(s.find("  arp "), std::string::npos) << s;
    // the flows, by bps: 198.18.0.2 (60000 bytes) first
    EXPECT_NE(s.find("flows: 3 this interval, by bps"), std::string::npos) << s;
    EXPECT_LT(row_of(m, "udp 198.18.0.2:1025 > 198.19.0.1:9"), row_of(m, "udp 198.18.0.1:1024 > 198.19.0.1:9"));
    EXPECT_LT(row_of(m, "udp 198.18.0.1:1024"), row_of(m, "udp 198.18.0.3:1026"));
    EXPECT_NE(line_with(m, "198.18.0.2:1025").find("960 Kbps"), std::string::npos);
    EXPECT_NE(line_with(m, "flow  ").find("[bps]"), std::string::npos);
}

TEST(Tui, KeysSwitchViewsAndSort)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    EXPECT_EQ(m.key('t'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::talkers);
    std::string s = screen(m);
    EXPECT_NE(s.find("talkers: 4 this interval"), std::string::npos) << s;
    EXPECT_NE(line_with(m, "198.19.0.1 ").find("1.60 Mbps"), std::string::npos) << s;

    EXPECT_EQ(m.key('p'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::ports);
    EXPECT_NE(screen(m).find("udp/9 (discard)"), std::string::npos);

    EXPECT_EQ(m.key('f'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::flows);

    // s: bps -> pps -> bytes -> packets -> bps; by pps, 198.18.0.1 (600 packets) leads
    EXPECT_EQ(m.key('s'), TuiAction::redraw);
    EXPECT_EQ(m.sort(), SortKey::pps);
    EXPECT_NE(screen(m).find("sort: pps"), std::string::npos);
    EXPECT_NE(line_with(m, "flow  ").find("[pps]"), std::string::npos);
    EXPECT_LT(row_of(m, "198.18.0.1:1024"), row_of(m, "198.18.0.2:1025"));
    m.key('s');
    EXPECT_EQ(m.sort(), SortKey::bytes);
    EXPECT_LT(row_of(m, "198.18.0.2:1025"), row_of(m, "198.18.0.1:1024"));
    m.key('s');
    EXPECT_EQ(m.sort(), SortKey::packets);
    m.key('s');
    EXPECT_EQ(m.sort(), SortKey::bps);

    EXPECT_EQ(m.key('x'), TuiAction::none);
    EXPECT_EQ(m.key('q'), TuiAction::quit);
}

TEST(Tui, ViewNotEnabledIsSaidInTheStatusLine)
{
    TuiModel m(TuiViews{false, false, true}, SortKey::bps, 1, true);
    m.push(report());
    EXPECT_EQ(m.key('t'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::flows);
    const auto lines = m.lines(120, 40);
    EXPECT_NE(lines.back().text.find("the talkers view is off: start trafstat with --talkers"), std::string::npos);
    m.key('s');  // any key clears the message
    EXPECT_EQ(m.lines(120, 40).back().text.find("view is off"), std::string::npos);
}

TEST(Tui, InitialViewIsAnEnabledOne)
{
    EXPECT_EQ(TuiModel(TuiViews{true, false, false}, SortKey::bps, 1, true).view(), TuiView::talkers);
    EXPECT_EQ(TuiModel(TuiViews{false, true, false}, SortKey::pps, 1, true).view(), TuiView::ports);
    EXPECT_EQ(TuiModel(TuiViews{true, true, true}, SortKey::pps, 1, true).sort(), SortKey::pps);
    TuiModel none(TuiViews{}, SortKey::bps, 1, true);
    none.push(report());
    EXPECT_NE(screen(none).find("no view: start trafstat with --flows, --talkers or --ports"), std::string::npos);
}

TEST(Tui, PauseFreezesTheDisplayNotTheCounting)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report(1));
    EXPECT_EQ(m.key(' '), TuiAction::redraw);
    EXPECT_TRUE(m.paused());
    m.push(report(2));
    std::string s = screen(m);
    EXPECT_NE(s.find("PAUSED"), std::string::npos);
    EXPECT_NE(s.find("all 1.60 Mbps"), std::string::npos) << s;  // still the first interval
    m.key(' ');
    EXPECT_FALSE(m.paused());
    s = screen(m);
    EXPECT_EQ(s.find("PAUSED"), std::string::npos);
    EXPECT_NE(s.find("all 3.20 Mbps"), std::string::npos) << s;  // the latest one at once
}

TEST(Tui, HelpLine)
{
    TuiModel m(k_all, SortKey::bps, 1, true);
    EXPECT_EQ(m.lines(200, 10).back().text.find("space pause/resume"), std::string::npos);
    m.key('h');
    EXPECT_NE(m.lines(200, 10).back().text.find("space pause/resume"), std::string::npos);
    m.key('?');
    EXPECT_FALSE(m.help());
}

TEST(Tui, SparklineOfAllBps)
{
    std::deque<double> v = {0, 1, 2, 4, 8};
    EXPECT_EQ(sparkline(v, 10, true), "▁▃▄▅█");
    EXPECT_EQ(sparkline(v, 10, false), "_-:=#");
    EXPECT_EQ(sparkline(v, 2, false), "=#");  // the last ones
    EXPECT_EQ(sparkline({0, 0}, 5, true), "▁▁");
    EXPECT_EQ(sparkline({}, 5, true), "");

    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report(1));
    m.push(report(4));
    EXPECT_NE(line_with(m, "vb0 xdp/native").find("▄█  peak 6.40 Mbps"), std::string::npos)
        << line_with(m, "vb0 xdp/native");
    TuiModel ascii(k_all, SortKey::bps, 0.5, false);
    ascii.push(report(1));
    ascii.push(report(4));
    EXPECT_NE(line_with(ascii, "vb0 xdp/native").find(":#  peak"), std::string::npos);
    for (const TuiLine& l : ascii.lines(120, 40))
        EXPECT_TRUE(std::all_of(l.text.begin(), l.text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
            << l.text;
}

TEST(Tui, HistoryIsBounded)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    for (std::size_t i = 0; i < k_tui_history + 50; ++i)
        m.push(report());
    const std::string head = line_with(m, "vb0 xdp/native", 1000, 40);
    EXPECT_EQ(text_columns(head), text_columns("vb0 xdp/native  all 1.60 Mbps  ") + k_tui_history +
                                      text_columns("  peak 1.60 Mbps"));
}

TEST(Tui, SeveralInterfacesShareOneSortedTable)
{
    IntervalReport r = report(1, "vb0");
    r.attachments.push_back(report(2, "vb1").attachments[0]);
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(r);
    const std::string s = screen(m);
    EXPECT_NE(s.find("vb1 xdp/native"), std::string::npos);
    EXPECT_NE(s.find("flows: 6 this interval"), std::string::npos) << s;
    EXPECT_NE(line_with(m, "iface").find("flow"), std::string::npos);
    // vb1's flows carry twice the bytes: its largest first, then vb0's largest ties with vb1's second
    const auto lines = m.lines(120, 40);
    std::vector<std::string> rows;
    for (const auto& l : lines)
        if (l.text.find(" > 198.19.0.1:9") != std::string::npos)
            rows.push_back(l.text);
    ASSERT_EQ(rows.size(), 6u) << s;
    EXPECT_NE(rows[0].find("vb1"), std::string::npos);
    EXPECT_NE(rows[0].find("198.18.0.2:1025"), std::string::npos);
}

TEST(Tui, EverySizeFits)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    m.push(report(3));
    for (int w : {1, 2, 10, 40, 79, 80, 120, 300})
        for (int h : {1, 2, 3, 5, 12, 24, 40, 100}) {
            const auto lines = m.lines(w, h);
            ASSERT_EQ(lines.size(), static_cast<std::size_t>(h)) << w << "x" << h;
            for (const auto& l : lines)
                EXPECT_LE(text_columns(l.text), static_cast<std::size_t>(w)) << w << "x" << h << ": " << l.text;
            EXPECT_EQ(lines.front().style, TuiStyle::title);
            if (h > 1)
                EXPECT_EQ(lines.back().style, TuiStyle::status);
        }
    EXPECT_TRUE(m.lines(0, 10).empty());
    EXPECT_TRUE(m.lines(10, 0).empty());
    // The rows cut to the screen: 12 lines leave no room for all three flows
    std::size_t shown = 0;
    for (const auto& l : m.lines(120, 15))
        shown += l.text.find(" > 198.19.0.1:9") != std::string::npos;
    EXPECT_LT(shown, 3u);
}

TEST(Tui, FitColumnsCountsCharactersNotBytes)
{
    EXPECT_EQ(text_columns("▁▂▃ab"), 5u);
    EXPECT_EQ(fit_columns("▁▂▃ab", 2), "▁▂");
    EXPECT_EQ(fit_columns("ab", 4, true), "ab  ");
    EXPECT_EQ(fit_columns("abc", 0), "");
}

}  // namespace
}  // namespace trafstat

namespace trafstat {
namespace {

ParseResult parse(std::vector<const char*> args)
{
    args.insert(args.begin(), "trafstat");
    return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(TuiOptions, TuiAloneTurnsOnFlows)
{
    auto r = parse({"--tui", "eth0"});
    const auto* o = std::get_if<Options>(&r);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->tui);
    EXPECT_TRUE(o->show_flows);
    EXPECT_FALSE(o->show_talkers);
    EXPECT_FALSE(o->show_ports);
    EXPECT_EQ(o->tables, TS_TABLE_BIT(TS_TABLE_FLOWS));
    EXPECT_TRUE(o->histogram);
}

TEST(TuiOptions, TuiKeepsTheViewsGiven)
{
    auto r = parse({"--tui", "--talkers", "eth0"});
    const auto* o = std::get_if<Options>(&r);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->show_talkers);
    EXPECT_FALSE(o->show_flows);
    EXPECT_EQ(o->tables, TS_TABLE_BIT(TS_TABLE_TALKERS));
}

TEST(TuiOptions, TuiWithDropShowsTotalsOnly)
{
    auto r = parse({"--tui", "-d", "eth0"});
    const auto* o = std::get_if<Options>(&r);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->show_flows);
    EXPECT_EQ(o->tables, 0u);
}

TEST(TuiOptions, TuiWithJsonIsAUsageError)
{
    for (auto args : {std::vector<const char*>{"--tui", "--json", "eth0"}, std::vector<const char*>{"--json", "--tui"}}) {
        auto r = parse(args);
        const auto* exit = std::get_if<ParseExit>(&r);
        ASSERT_TRUE(exit);
        EXPECT_EQ(exit->code, 2);
        EXPECT_TRUE(exit->to_stderr);
        EXPECT_EQ(exit->text.find('\n'), std::string::npos);
        EXPECT_NE(exit->text.find("--tui and --json cannot be combined"), std::string::npos) << exit->text;
    }
}

TEST(TuiOptions, DefaultIsNoTui)
{
    auto r = parse({"eth0"});
    ASSERT_TRUE(std::get_if<Options>(&r));
    EXPECT_FALSE(std::get<Options>(r).tui);
}

}  // namespace
}  // namespace trafstat
