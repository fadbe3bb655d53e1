// The --tui renderer without a terminal: what the screen holds for a report,
// the keys (views, sort, pause, help, quit), the sparkline, and that every
// size, down to 1x1, gives lines that fit.
#include "cli/options.hpp"
#include "output/tui.hpp"

#include <fmt/format.h>
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
    std::vector<FlowEntry> flows = {flow(1, 1024, 600 * scale, 30000 * scale),
                                    flow(2, 1025, 300 * scale, 60000 * scale),
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

std::string screen(TuiModel& m, int w = 120, int h = 40)
{
    std::string s;
    for (const TuiLine& l : m.lines(w, h))
        s += l.text + "\n";
    return s;
}

// The line holding `needle`, or "".
std::string line_with(TuiModel& m, std::string_view needle, int w = 120, int h = 40)
{
    for (const TuiLine& l : m.lines(w, h))
        if (l.text.find(needle) != std::string::npos)
            return l.text;
    return {};
}

std::size_t row_of(TuiModel& m, std::string_view needle)
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

    EXPECT_EQ(m.key('z'), TuiAction::none);
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

// The footer: the status-styled lines at the bottom, joined.
std::string footer_of(const std::vector<TuiLine>& lines)
{
    std::string s;
    for (auto it = lines.rbegin(); it != lines.rend() - 1 && it->style == TuiStyle::status; ++it)
        s = it->text + "\n" + s;
    return s;
}

TEST(Tui, HelpLines)
{
    TuiModel m(k_all, SortKey::bps, 1, true);
    EXPECT_EQ(footer_of(m.lines(200, 10)).find("space pause/resume"), std::string::npos);
    m.key('h');
    EXPECT_TRUE(m.help());
    // Every key, on as many lines as the width needs, none wider than it.
    for (int w : {200, 80, 40}) {
        const auto lines = m.lines(w, 24);
        const std::string help = footer_of(lines);
        for (const char* key :
             {"t talkers", "s sort: bps, pps, bytes, packets", "d talkers by total/src/dst (now total)",
              "Up/Down j/k scroll a row", "PgUp/PgDn a page", "Home/End g/G first/last row", "space pause/resume",
              "q quit", "h/? help"})
            EXPECT_NE(help.find(key), std::string::npos) << w << ": " << key << "\n" << help;
        EXPECT_EQ(lines.size(), 24u);
        for (const auto& l : lines)
            EXPECT_LE(text_columns(l.text), static_cast<std::size_t>(w)) << l.text;
        if (w < 200)
            EXPECT_GT(std::count(help.begin(), help.end(), '\n'), 1) << help;
    }
    m.key('?');
    EXPECT_FALSE(m.help());
    // Without talkers there is no side to choose.
    TuiModel flows_only(TuiViews{false, false, true}, SortKey::bps, 1, true);
    flows_only.key('h');
    EXPECT_EQ(footer_of(flows_only.lines(200, 10)).find("d talkers by"), std::string::npos);
}

// One interval on vb0 with `n` UDP flows from 198.18.x.y, flow i carrying
// n - i packets: by bps or pps the rows are in the order they were made.
IntervalReport many_flows(std::size_t n)
{
    std::vector<FlowEntry> flows;
    for (std::size_t i = 0; i < n; ++i) {
        FlowEntry f =
            flow(static_cast<std::uint8_t>(i % 250 + 1), static_cast<std::uint16_t>(2000 + i), n - i, (n - i) * 100);
        f.key.src[14] = static_cast<std::uint8_t>(i / 250);
        flows.push_back(f);
    }
    IntervalReport r = report();
    r.attachments[0].views.flows = flows;
    r.attachments[0].views.talkers = talkers_of(flows);
    r.attachments[0].views.ports = ports_of(flows);
    return r;
}

// The source ports of the flow rows on the screen, top to bottom.
std::vector<int> shown_sports(TuiModel& m, int w = 120, int h = 40)
{
    std::vector<int> out;
    for (const TuiLine& l : m.lines(w, h)) {
        const auto gt = l.text.find(" > 198.19.0.1:9");
        if (l.text.rfind("  udp 198.18.", 0) == 0 && gt != std::string::npos)
            out.push_back(std::stoi(l.text.substr(l.text.rfind(':', gt) + 1)));
    }
    return out;
}

TEST(TuiScroll, KeysMoveAWindowOverEveryRow)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(many_flows(100));
    auto rows = shown_sports(m);
    ASSERT_FALSE(rows.empty());
    const std::size_t page = rows.size();
    ASSERT_LT(page, 100u);
    EXPECT_EQ(rows.front(), 2000);
    EXPECT_NE(line_with(m, "flows: 100 this interval, by bps").find(fmt::format("rows 1-{} of 100", page)),
              std::string::npos)
        << screen(m);

    // Down / j: one row; Up / k: back; never above the first.
    EXPECT_EQ(m.key(tui_key::down), TuiAction::redraw);
    EXPECT_EQ(m.scroll(), 1u);
    EXPECT_EQ(shown_sports(m).front(), 2001);
    EXPECT_NE(screen(m).find(fmt::format("rows 2-{} of 100", page + 1)), std::string::npos);
    m.key('j');
    EXPECT_EQ(shown_sports(m).front(), 2002);
    m.key('k');
    m.key(tui_key::up);
    m.key(tui_key::up);
    EXPECT_EQ(m.scroll(), 0u);
    EXPECT_EQ(shown_sports(m).front(), 2000);

    // PgDn: the next page, the row under the last one shown now on top.
    m.key(tui_key::page_down);
    EXPECT_EQ(shown_sports(m).front(), 2000 + static_cast<int>(page));
    m.key(tui_key::page_up);
    EXPECT_EQ(shown_sports(m).front(), 2000);

    // End / G: the last page, full; the last row, never seen before, is shown.
    EXPECT_EQ(screen(m).find("udp 198.18.0.100:2099 "), std::string::npos);
    m.key(tui_key::end);
    rows = shown_sports(m);
    EXPECT_EQ(rows.size(), page);
    EXPECT_EQ(rows.back(), 2099);
    EXPECT_EQ(m.scroll(), 100 - page);
    EXPECT_NE(screen(m).find(fmt::format("rows {}-100 of 100", 101 - page)), std::string::npos) << screen(m);
    // Nothing below the end: Down and PgDn stay.
    m.key(tui_key::down);
    m.key(tui_key::page_down);
    EXPECT_EQ(m.scroll(), 100 - page);
    // Home / g: the top.
    m.key(tui_key::home);
    EXPECT_EQ(m.scroll(), 0u);
    m.key('G');
    EXPECT_EQ(m.scroll(), 100 - page);
    m.key('g');
    EXPECT_EQ(m.scroll(), 0u);
    // PgUp at the top stays.
    m.key(tui_key::page_up);
    EXPECT_EQ(m.scroll(), 0u);
}

TEST(TuiScroll, NoScrollWhenEveryRowFits)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    EXPECT_NE(screen(m).find("flows: 3 this interval, by bps  rows 1-3 of 3"), std::string::npos) << screen(m);
    m.key(tui_key::end);
    m.key(tui_key::down);
    m.key(tui_key::page_down);
    EXPECT_EQ(m.scroll(), 0u);
    EXPECT_EQ(shown_sports(m), (std::vector<int>{1025, 1024, 1026}));
}

TEST(TuiScroll, OffsetIsClampedWhenRowsShrinkAndOnResize)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(many_flows(100));
    const std::size_t page = shown_sports(m).size();
    m.key(tui_key::end);
    ASSERT_EQ(m.lines(120, 40).size(), 40u);
    ASSERT_EQ(m.scroll(), 100 - page);

    // Fewer rows next interval: the last page of what there is now.
    m.push(many_flows(page + 5));
    auto rows = shown_sports(m);
    EXPECT_EQ(m.scroll(), 5u);
    EXPECT_EQ(rows.size(), page);
    EXPECT_EQ(rows.back(), 2000 + static_cast<int>(page) + 4);
    m.push(many_flows(4));
    EXPECT_EQ(shown_sports(m), (std::vector<int>{2000, 2001, 2002, 2003}));
    EXPECT_EQ(m.scroll(), 0u);

    // A taller screen: the offset comes down so the last page stays full.
    m.push(many_flows(100));
    m.lines(120, 40);
    m.key(tui_key::end);
    rows = shown_sports(m, 120, 60);
    EXPECT_EQ(rows.size(), page + 20);
    EXPECT_EQ(rows.back(), 2099);
    EXPECT_EQ(m.scroll(), 100 - page - 20);
    // PgDn moves by the page of the last screen drawn.
    m.key(tui_key::home);
    m.key(tui_key::page_down);
    EXPECT_EQ(m.scroll(), page + 20);
    // A shorter screen, even one with no room for rows, keeps the first row shown.
    m.key(tui_key::end);
    m.lines(120, 10);
    EXPECT_EQ(m.scroll(), 100 - page - 20);
    EXPECT_EQ(shown_sports(m).front(), 2000 + static_cast<int>(100 - page - 20));
}

TEST(TuiScroll, ViewSwitchResetsTheOffsetSortKeepsIt)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(many_flows(100));
    m.lines(120, 40);
    m.key(tui_key::page_down);
    const std::size_t at = m.scroll();
    ASSERT_GT(at, 0u);
    m.key('s');
    m.lines(120, 40);
    EXPECT_EQ(m.scroll(), at);
    m.key('f');  // the view it is in: stays
    EXPECT_EQ(m.scroll(), at);
    m.key('t');
    EXPECT_EQ(m.scroll(), 0u);
    EXPECT_NE(screen(m).find("talkers: 101 this interval"), std::string::npos) << screen(m);
    m.key(tui_key::page_down);
    EXPECT_GT(m.scroll(), 0u);
    m.key('f');
    EXPECT_EQ(m.scroll(), 0u);
    EXPECT_EQ(shown_sports(m).front(), 2000);
}

TEST(TuiScroll, ScrollsThePausedFrame)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(many_flows(100));
    m.lines(120, 40);
    m.key(' ');
    m.push(many_flows(3));  // counted, not shown
    m.key(tui_key::end);
    EXPECT_EQ(shown_sports(m).back(), 2099);
    m.key(' ');  // live again: the 3 rows, the offset clamped
    EXPECT_EQ(shown_sports(m).size(), 3u);
    EXPECT_EQ(m.scroll(), 0u);
}

// The talker rows on the screen, top to bottom: address and bytes.
std::vector<std::pair<std::string, std::string>> shown_talkers(TuiModel& m)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const TuiLine& l : m.lines(120, 40)) {
        if (l.text.rfind("  198.1", 0) != 0)
            continue;
        const auto ip_end = l.text.find(' ', 2);
        const auto last = l.text.find_last_not_of(' ');
        const auto bytes = l.text.rfind(' ', last) + 1;
        out.emplace_back(l.text.substr(2, ip_end - 2), l.text.substr(bytes, last + 1 - bytes));
    }
    return out;
}

TEST(TuiTalkersBy, KeyCyclesTheSideAndTheOrder)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    m.key('t');
    EXPECT_EQ(m.talkers_by(), TalkerSide::total);
    EXPECT_NE(m.lines(120, 40).back().text.find("d talkers by total"), std::string::npos);
    EXPECT_NE(screen(m).find("view: talkers  sort: bps  by: total"), std::string::npos);
    EXPECT_NE(screen(m).find("talkers: 4 this interval, by bps (sent + received)"), std::string::npos);
    // sent + received: the destination (all 100000 bytes) first, then the sources by what they sent
    using T = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(shown_talkers(m),
              (T{{"198.19.0.1", "100000"}, {"198.18.0.2", "60000"}, {"198.18.0.1", "30000"}, {"198.18.0.3", "10000"}}));

    // d: src, the sources by what they sent; the destination sent nothing: last.
    EXPECT_EQ(m.key('d'), TuiAction::redraw);
    EXPECT_EQ(m.talkers_by(), TalkerSide::src);
    EXPECT_NE(m.lines(120, 40).back().text.find("d talkers by src"), std::string::npos);
    EXPECT_NE(screen(m).find("view: talkers  sort: bps  by: src"), std::string::npos);
    EXPECT_NE(screen(m).find("talkers: 4 this interval, by bps (sent: as source)"), std::string::npos);
    EXPECT_EQ(shown_talkers(m),
              (T{{"198.18.0.2", "60000"}, {"198.18.0.1", "30000"}, {"198.18.0.3", "10000"}, {"198.19.0.1", "0"}}));
    // by packets, src: 198.18.0.1 (600 packets) first
    m.key('s');
    EXPECT_EQ(shown_talkers(m).front().first, "198.18.0.1");
    m.key('s');
    m.key('s');
    m.key('s');
    ASSERT_EQ(m.sort(), SortKey::bps);

    // d: dst, the destination alone received; the rest by address.
    m.key('d');
    EXPECT_EQ(m.talkers_by(), TalkerSide::dst);
    EXPECT_NE(screen(m).find("(received: as destination)"), std::string::npos);
    EXPECT_EQ(shown_talkers(m),
              (T{{"198.19.0.1", "100000"}, {"198.18.0.1", "0"}, {"198.18.0.2", "0"}, {"198.18.0.3", "0"}}));
    m.key('D');
    EXPECT_EQ(m.talkers_by(), TalkerSide::total);

    // The other views are not affected, and the title names the side only with talkers.
    m.key('d');
    m.key('f');
    EXPECT_EQ(screen(m).find("by: src"), std::string::npos);
    EXPECT_LT(row_of(m, "198.18.0.2:1025"), row_of(m, "198.18.0.1:1024"));
}

TEST(TuiTalkersBy, StartsFromTheOption)
{
    EXPECT_EQ(kTalkerSideNames.parse("total"), TalkerSide::total);
    EXPECT_EQ(kTalkerSideNames.parse("src"), TalkerSide::src);
    EXPECT_EQ(kTalkerSideNames.parse("dst"), TalkerSide::dst);
    TuiModel m(k_all, SortKey::bps, 0.5, true, *kTalkerSideNames.parse("dst"));
    EXPECT_EQ(m.talkers_by(), TalkerSide::dst);
    m.push(report());
    m.key('t');
    EXPECT_NE(screen(m).find("by: dst"), std::string::npos);
    EXPECT_EQ(shown_talkers(m).front().first, "198.19.0.1");
    m.key('d');
    EXPECT_EQ(m.talkers_by(), TalkerSide::total);
}

TEST(TuiTalkersBy, RefusedWithoutTalkers)
{
    TuiModel m(TuiViews{false, false, true}, SortKey::bps, 1, true);
    m.push(report());
    EXPECT_EQ(m.key('d'), TuiAction::redraw);
    EXPECT_EQ(m.talkers_by(), TalkerSide::total);
    EXPECT_NE(m.lines(120, 40).back().text.find("start trafstat with --talkers"), std::string::npos);
    EXPECT_EQ(m.lines(120, 40).back().text.find("d talkers by"), std::string::npos);
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
        EXPECT_TRUE(std::all_of(l.text.begin(), l.text.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x80;
        })) << l.text;
}

TEST(Tui, HistoryIsBounded)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    for (std::size_t i = 0; i < k_tui_history + 50; ++i)
        m.push(report());
    const std::string head = line_with(m, "vb0 xdp/native", 1000, 40);
    EXPECT_EQ(text_columns(head),
              text_columns("vb0 xdp/native  all 1.60 Mbps  ") + k_tui_history + text_columns("  peak 1.60 Mbps"));
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
    TuiModel scrolled(k_all, SortKey::bps, 0.5, true);
    scrolled.push(many_flows(300));
    scrolled.lines(120, 40);
    scrolled.key(tui_key::end);
    TuiModel help(k_all, SortKey::bps, 0.5, true);
    help.push(many_flows(300));
    help.key('h');
    for (TuiModel* t : {&m, &scrolled, &help})
        for (int w : {1, 2, 10, 40, 79, 80, 120, 300})
            for (int h : {1, 2, 3, 5, 12, 24, 40, 100}) {
                if (t == &scrolled) {  // at the end of the rows at this size
                    t->lines(w, h);
                    t->key(tui_key::end);
                }
                const auto lines = t->lines(w, h);
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

// --drops: vb0 dropped 1000 packets as received this interval (over 0.5 s),
// by two reasons; 30 leaving; its own counters moved. vb1 dropped nothing.
constexpr std::uint32_t k_no_socket = 2, k_netfilter = 5, k_qdisc = 40;
constexpr std::uint32_t k_udp4 = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_UDP);
constexpr std::uint32_t k_tcp4 = TS_DROP_CLASS_IP(TS_IP_V4, TS_CLASS_TCP);

DroppedFlow dropped(ts_drop_direction dir, std::uint32_t reason, std::uint8_t src_last, std::uint64_t packets)
{
    const FlowEntry f = flow(src_last, static_cast<std::uint16_t>(1000 + src_last), packets, packets * 100);
    return {.key = {.direction = dir, .reason = reason, .cls = k_udp4, .flow = f.key},
            .counted = {packets, packets * 100}};
}

IntervalReport with_drops(IntervalReport r, std::size_t flows = 3)
{
    std::vector<std::string> names(64);
    names[k_no_socket] = "no_socket";
    names[k_netfilter] = "netfilter_drop";
    names[k_qdisc] = "qdisc_drop";
    InterfaceDrops vb0{.ifname = "vb0"};
    vb0.directions[TS_DROP_RECEIVED].counts = {{k_no_socket, k_udp4, {700, 70000}},
                                               {k_netfilter, k_tcp4, {300, 30000}}};
    vb0.directions[TS_DROP_LEAVING].counts = {{k_qdisc, k_udp4, {30, 3000}}};
    vb0.directions[TS_DROP_LEAVING].flow_overflow = {5, 500};
    for (std::size_t i = 0; i < flows; ++i)
        vb0.flows.push_back(dropped(TS_DROP_RECEIVED, k_no_socket, static_cast<std::uint8_t>(i + 1), 600 - i));
    vb0.link = LinkCounters{.rx_dropped = 4};
    InterfaceDrops vb1{.ifname = "vb1"};
    vb1.link = LinkCounters{};
    r.drops = DropsReport{.interfaces = {std::move(vb0), std::move(vb1)},
                          .reasons = std::make_shared<const DropReasons>(std::move(names))};
    return r;
}

constexpr TuiViews k_all_and_drops{true, true, true, true};

TEST(TuiDrops, KeyRefusedWithoutDrops)
{
    TuiModel m(k_all, SortKey::bps, 0.5, true);
    m.push(report());
    EXPECT_EQ(m.key('x'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::flows);
    EXPECT_EQ(m.message(), "the drops view is off: start trafstat with --drops");
    EXPECT_EQ(line_with(m, "t/p/f"), "") << "the message replaces the status line";
    m.key('j');
    EXPECT_NE(line_with(m, "t/p/f view  s sort"), "") << "no x without --drops";
}

TEST(TuiDrops, ViewShowsRatesReasonsLinkCountersAndFlows)
{
    TuiModel m(k_all_and_drops, SortKey::bps, 0.5, true);
    m.push(with_drops(report()));
    EXPECT_NE(line_with(m, "t/p/f/x view"), "");
    EXPECT_EQ(m.key('x'), TuiAction::redraw);
    EXPECT_EQ(m.view(), TuiView::drops);
    const std::string s = screen(m);
    EXPECT_NE(s.find("view: drops  by: packets"), std::string::npos) << s;
    EXPECT_EQ(s.find("vb0 xdp/native"), std::string::npos) << "the classes make room for the drops\n" << s;
    EXPECT_NE(s.find("vb0 drops  received 2.00 Kpps 1.60 Mbps (1000 since start)  leaving 60 pps 48.0 Kbps (30 since "
                     "start)"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("  link counters (driver and stack): rx_dropped 4; since start: rx_dropped 4"), std::string::npos)
        << s;
    EXPECT_NE(s.find("vb1 drops  received 0 pps 0 bps (0 since start)"), std::string::npos) << s;
    EXPECT_NE(s.find("  link counters (driver and stack): none moved; since start: none moved"), std::string::npos)
        << s;
    EXPECT_NE(s.find("  no drops since start"), std::string::npos) << s;
    // The reasons, largest first, with their rates, counts, since start and classes.
    EXPECT_LT(row_of(m, "received   no_socket"), row_of(m, "received   netfilter_drop"));
    EXPECT_LT(row_of(m, "received   netfilter_drop"), row_of(m, "leaving    qdisc_drop"));
    const auto no_socket = line_with(m, "received   no_socket ");
    EXPECT_NE(no_socket.find("1.40 Kpps"), std::string::npos) << no_socket;
    EXPECT_TRUE(no_socket.ends_with("  700  ipv4/udp")) << no_socket;
    EXPECT_NE(s.find("leaving: 5 packets 500 bytes not in a flow"), std::string::npos) << s;
    // The dropped flows, largest first, with their reason and class.
    EXPECT_NE(s.find("dropped flows: 3 this interval, by packets  rows 1-3 of 3"), std::string::npos) << s;
    EXPECT_NE(line_with(m, "[packets]").find("direction  reason     class     flow"), std::string::npos) << s;
    const auto first = line_with(m, "udp 198.18.0.1:1001 > 198.19.0.1:9");
    EXPECT_NE(first.find("vb0"), std::string::npos) << "an iface column with several interfaces: " << first;
    EXPECT_NE(first.find("received   no_socket"), std::string::npos) << first;
    EXPECT_NE(first.find("ipv4/udp"), std::string::npos) << first;
    EXPECT_NE(first.find("600"), std::string::npos) << first;
    EXPECT_LT(row_of(m, "198.18.0.1:1001"), row_of(m, "198.18.0.2:1002"));
    EXPECT_LT(row_of(m, "198.18.0.2:1002"), row_of(m, "198.18.0.3:1003"));
    // s does not order the drops: said, and the other views' order still moves.
    m.key('s');
    EXPECT_EQ(m.message(), "drops are ordered by packets; s sorts the talkers, ports and flows views");
    EXPECT_EQ(m.sort(), SortKey::pps);
    m.key('f');
    EXPECT_EQ(m.view(), TuiView::flows);
}

TEST(TuiDrops, SinceStartKeepsTheReasonsOfEarlierIntervals)
{
    TuiModel m(k_all_and_drops, SortKey::bps, 0.5, true);
    m.push(with_drops(report()));
    IntervalReport second = with_drops(report());
    auto& received = second.drops->interfaces[0].directions[TS_DROP_RECEIVED].counts;
    received = {{k_netfilter, k_tcp4, {10, 1000}}};
    second.drops->interfaces[0].flows.clear();
    m.push(second);
    m.key('x');
    const std::string s = screen(m);
    // This interval's reason first; the other one with nothing now, its total since start.
    EXPECT_LT(row_of(m, "received   netfilter_drop"), row_of(m, "received   no_socket"));
    const auto no_socket = line_with(m, "received   no_socket ");
    EXPECT_NE(no_socket.find("0 pps"), std::string::npos) << no_socket;
    EXPECT_TRUE(no_socket.ends_with("  700  ipv4/udp")) << no_socket;
    EXPECT_TRUE(line_with(m, "received   netfilter_drop ").ends_with("  310  ipv4/tcp")) << s;
    EXPECT_NE(s.find("received 20 pps"), std::string::npos) << s;
    EXPECT_NE(s.find("(1010 since start)"), std::string::npos) << s;
    EXPECT_NE(s.find("since start: rx_dropped 8"), std::string::npos) << s;
    EXPECT_NE(s.find("dropped flows: 0 this interval"), std::string::npos) << s;
    // Paused: the frozen frame keeps its totals while counting goes on.
    m.key(' ');
    m.push(with_drops(report()));
    EXPECT_NE(screen(m).find("(1010 since start)"), std::string::npos);
    m.key(' ');
    EXPECT_NE(screen(m).find("(2010 since start)"), std::string::npos) << screen(m);
}

TEST(TuiDrops, FewReasonsShownTheRestSummed)
{
    TuiModel m(k_all_and_drops, SortKey::bps, 1, true);
    IntervalReport r = with_drops(report());
    auto& counts = r.drops->interfaces[0].directions[TS_DROP_RECEIVED].counts;
    counts.clear();
    for (std::uint32_t reason = 10; reason < 18; ++reason)  // 8 unnamed kernel reasons... and one name: unknown
        counts.push_back({reason, k_udp4, {reason, reason * 10}});
    counts.push_back({TS_DROP_REASON_XDP_INVALID, TS_DROP_CLASS_UNPARSED, {1, 0}});
    counts.push_back({TS_DROP_REASON_XDP_ABORTED, TS_DROP_CLASS_UNPARSED, {2, 0}});
    counts.push_back({k_netfilter, k_tcp4, {3, 300}});
    counts.push_back({k_qdisc, k_tcp4, {4, 400}});
    counts.push_back({k_no_socket, k_tcp4, {5, 500}});
    m.push(r);
    m.key('x');
    const std::string s = screen(m);
    // unknown (10+...+17 = 108), no_socket 5, qdisc_drop 4, netfilter_drop 3, xdp_aborted 2; xdp_invalid 1 summed.
    EXPECT_LT(row_of(m, "received   unknown"), row_of(m, "received   no_socket"));
    EXPECT_LT(row_of(m, "received   netfilter_drop"), row_of(m, "received   xdp_aborted"));
    EXPECT_EQ(s.find("xdp_invalid"), std::string::npos) << s;
    EXPECT_TRUE(line_with(m, "1 more reason").ends_with("  1")) << s;
    EXPECT_TRUE(line_with(m, "received   unknown").ends_with("  108  ipv4/udp")) << s;
}

TEST(TuiDrops, OnlyViewWithoutTablesAndEverySizeFits)
{
    TuiModel only(TuiViews{false, false, false, true}, SortKey::bps, 0.5, false);
    EXPECT_EQ(only.view(), TuiView::drops) << "--tui --drop --drops: the drops are the view";
    only.push(with_drops(report(), 300));
    TuiModel scrolled(k_all_and_drops, SortKey::bps, 0.5, true);
    scrolled.push(with_drops(report(), 300));
    scrolled.key('x');
    for (TuiModel* t : {&only, &scrolled})
        for (int w : {1, 2, 10, 40, 79, 80, 120, 300})
            for (int h : {1, 2, 3, 5, 12, 24, 40, 100}) {
                if (t == &scrolled) {
                    t->lines(w, h);
                    t->key(tui_key::end);
                }
                const auto lines = t->lines(w, h);
                ASSERT_EQ(lines.size(), static_cast<std::size_t>(h)) << w << "x" << h;
                for (const auto& l : lines)
                    EXPECT_LE(text_columns(l.text), static_cast<std::size_t>(w)) << w << "x" << h << ": " << l.text;
            }
    // The flows scroll as the other tables: End shows the last of the 300.
    scrolled.lines(120, 40);
    scrolled.key(tui_key::end);
    const std::string s = screen(scrolled);
    EXPECT_NE(s.find("of 300"), std::string::npos) << s;
    EXPECT_NE(s.find("rows "), std::string::npos) << s;
    EXPECT_NE(s.find("-300 of 300"), std::string::npos) << s;
    EXPECT_EQ(s.find("198.18.0.1:1001 "), std::string::npos) << s;
    // Switching views starts the drops from their first row.
    scrolled.key('f');
    scrolled.key('x');
    EXPECT_EQ(scrolled.scroll(), 0u);
}

TEST(TuiDrops, HelpNamesTheKey)
{
    TuiModel m(k_all_and_drops, SortKey::bps, 1, true);
    m.key('h');
    EXPECT_NE(footer_of(m.lines(200, 10)).find("x drops"), std::string::npos);
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
    const auto* o = std::get_if<LiveConfig>(&r);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->tui);
    EXPECT_TRUE(o->counting.counts(TS_TABLE_FLOWS));
    EXPECT_FALSE(o->counting.counts(TS_TABLE_TALKERS));
    EXPECT_FALSE(o->counting.counts(TS_TABLE_PORTS));
    EXPECT_EQ(o->counting.tables, TS_TABLE_BIT(TS_TABLE_FLOWS));
    EXPECT_TRUE(o->counting.histogram);
}

TEST(TuiOptions, TuiKeepsTheViewsGiven)
{
    auto r = parse({"--tui", "--talkers", "eth0"});
    const auto* o = std::get_if<LiveConfig>(&r);
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->counting.counts(TS_TABLE_TALKERS));
    EXPECT_FALSE(o->counting.counts(TS_TABLE_FLOWS));
    EXPECT_EQ(o->counting.tables, TS_TABLE_BIT(TS_TABLE_TALKERS));
}

TEST(TuiOptions, TuiWithDropShowsTotalsOnly)
{
    auto r = parse({"--tui", "-d", "eth0"});
    const auto* o = std::get_if<LiveConfig>(&r);
    ASSERT_TRUE(o);
    EXPECT_FALSE(o->counting.counts(TS_TABLE_FLOWS));
    EXPECT_EQ(o->counting.tables, 0u);
}

TEST(TuiOptions, TuiWithJsonIsAUsageError)
{
    for (auto args :
         {std::vector<const char*>{"--tui", "--json", "eth0"}, std::vector<const char*>{"--json", "--tui"}}) {
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
    ASSERT_TRUE(std::get_if<LiveConfig>(&r));
    EXPECT_FALSE(std::get<LiveConfig>(r).tui);
}

}  // namespace
}  // namespace trafstat
