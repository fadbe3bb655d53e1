#include "output/tui.hpp"
#include "output/labels.hpp"

#include "output/units.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <iterator>
#include <tuple>
#include <type_traits>
#include <variant>

namespace trafstat {

namespace {

constexpr std::array<std::string_view, 8> k_bars_utf8 = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr std::string_view k_bars_ascii = "_.-:=+*#";

// Classes always shown in the top part; the others only when they saw packets.
constexpr std::array<ts_class, 7> k_main_classes = {TS_CLASS_ALL, TS_CLASS_IPV4, TS_CLASS_IPV6,  TS_CLASS_TCP,
                                                    TS_CLASS_UDP, TS_CLASS_ICMP, TS_CLASS_ICMPV6};

// Widths of the numeric columns: pps, bps, packets, bytes.
constexpr std::array<std::size_t, 4> k_num_width = {11, 11, 11, 13};
constexpr std::size_t k_class_width = 12;

// One row of a table: the label, then pps, bps, packets, bytes right-aligned.
std::string row_text(std::string_view label, std::size_t label_width, const std::array<std::string, 4>& nums)
{
    std::string text = fit_columns(label, label_width, true);
    for (std::size_t i = 0; i < nums.size(); ++i)
        text += fmt::format("{:>{}}", nums[i], k_num_width[i]);
    return text;
}

std::array<std::string, 4> numbers(const Counter& c, double seconds)
{
    const Rate r = rate(c, seconds);
    return {format_pps(r.pps), format_bps(r.bps), fmt::format("{}", c.packets), fmt::format("{}", c.bytes)};
}

// The numeric headings, the sorted one in brackets.
std::array<std::string, 4> headings(std::optional<SortKey> sort_key = std::nullopt)
{
    std::array<std::string, 4> h = {"pps", "bps", "packets", "bytes"};
    if (!sort_key)
        return h;
    const SortKey sort = *sort_key;
    const std::size_t marked = sort == SortKey::pps ? 0 : sort == SortKey::bps ? 1 : sort == SortKey::packets ? 2 : 3;
    h[marked] = fmt::format("[{}]", h[marked]);
    return h;
}

// A row of the view table: what it is (formatted only when shown: a view may
// hold many thousands of rows), the attachment it is from, the counts shown.
struct ViewRow {
    std::variant<const Talker*, const Port*, const FlowEntry*> item;
    const std::string* iface;
    Counter counter;
};

std::string label_of(const ViewRow& row)
{
    return std::visit(
        [](const auto* x) {
            using T = std::decay_t<decltype(*x)>;
            if constexpr (std::is_same_v<T, Talker>)
                return format_ip(x->ip, x->ip_version);
            else if constexpr (std::is_same_v<T, Port>)
                return port_label(*x);
            else
                return flow_label(*x);
        },
        row.item);
}

Counter side_counter(const Talker& t, TalkerSide side)
{
    return side == TalkerSide::src ? t.sent : side == TalkerSide::dst ? t.received : t.total();
}

// Every row of `view` over every attachment, in `sort` order (talkers by
// `side`, with that side's counts). Each attachment's rows are sorted with
// sort_top (its tie-break), then the attachments' rows are merged by the sort
// value. The rows point into the sorted copies held here.
struct ViewRows {
    std::vector<std::vector<Talker>> talkers;
    std::vector<std::vector<Port>> ports;
    std::vector<std::vector<FlowEntry>> flows;
    std::vector<ViewRow> rows;

    ViewRows(const IntervalReport& r, TuiView view, SortKey sort, TalkerSide side)
    {
        // Reserved: the rows point into the inner vectors, which must not move.
        talkers.reserve(r.attachments.size());
        ports.reserve(r.attachments.size());
        flows.reserve(r.attachments.size());
        for (const AttachmentReport& a : r.attachments) {
            const auto& v = a.views;
            if (view == TuiView::talkers && v.talkers) {
                auto& sorted = talkers.emplace_back(*v.talkers);
                sort_top(sorted, sort, 0, side);
                for (const Talker& t : sorted)
                    rows.push_back({&t, &a.ifname, side_counter(t, side)});
            } else if (view == TuiView::ports && v.ports) {
                auto& sorted = ports.emplace_back(*v.ports);
                sort_top(sorted, sort, 0);
                for (const Port& p : sorted)
                    rows.push_back({&p, &a.ifname, p.total()});
            } else if (view == TuiView::flows && v.flows) {
                auto& sorted = flows.emplace_back(*v.flows);
                sort_top(sorted, sort, 0);
                for (const FlowEntry& f : sorted)
                    rows.push_back({&f, &a.ifname, {f.stats.packets, f.stats.bytes}});
            }
        }
        if (r.attachments.size() > 1) {
            const bool by_bytes = sort == SortKey::bps || sort == SortKey::bytes;
            std::stable_sort(rows.begin(), rows.end(), [&](const ViewRow& x, const ViewRow& y) {
                return by_bytes ? x.counter.bytes > y.counter.bytes : x.counter.packets > y.counter.packets;
            });
        }
    }
    ViewRows(const ViewRows&) = delete;  // the rows point into this one
    ViewRows& operator=(const ViewRows&) = delete;
};

bool view_enabled(const TuiViews& v, TuiView view)
{
    switch (view) {
    case TuiView::talkers:
        return v.talkers;
    case TuiView::ports:
        return v.ports;
    case TuiView::flows:
        return v.flows;
    case TuiView::drops:
        return v.drops;
    }
    return false;
}

// One reason's row in the drops view: this interval's counts (and classes),
// and since start.
struct ReasonRow {
    std::string_view direction;  // "" on the row that sums the reasons not shown
    std::string reason;          // or "3 more reasons"
    Counter now;
    std::uint64_t since_start;
    std::string classes;
};

// The reasons of one direction of an interface: every one seen since start,
// largest this interval first (then since start), the smaller ones after
// kTopDropReasons summed on one row.
std::vector<ReasonRow> reason_rows(const DropsReport& r, const DirectionDrops& now, const DirectionDrops& since,
                                   ts_drop_direction dir)
{
    const auto interval = drops_by_reason(now, r);
    std::vector<ReasonRow> rows;
    for (const ReasonDrops& total : drops_by_reason(since, r)) {
        ReasonRow row{
            drop_direction_name(dir), std::string(total.reason), {}, total.counted.packets, classes_brief(total)};
        const auto it = std::find_if(interval.begin(), interval.end(),
                                     [&](const ReasonDrops& x) { return x.reason == total.reason; });
        if (it != interval.end()) {
            row.now = it->counted;
            row.classes = classes_brief(*it);
        }
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ReasonRow& a, const ReasonRow& b) {
        return std::tie(a.now.packets, a.now.bytes, a.since_start) >
               std::tie(b.now.packets, b.now.bytes, b.since_start);
    });
    if (rows.size() > kTopDropReasons) {
        ReasonRow rest{"", more_reasons(rows.size() - kTopDropReasons), {}, 0, ""};
        for (std::size_t i = kTopDropReasons; i < rows.size(); ++i) {
            rest.now.packets += rows[i].now.packets;
            rest.now.bytes += rows[i].now.bytes;
            rest.since_start += rows[i].since_start;
        }
        rows.resize(kTopDropReasons);
        rows.push_back(std::move(rest));
    }
    return rows;
}

// The flows the report's drops hold, every interface's, largest first.
std::vector<std::pair<const InterfaceDrops*, const DroppedFlow*>> dropped_flow_rows(const DropsReport& r)
{
    std::vector<std::pair<const InterfaceDrops*, const DroppedFlow*>> rows;
    for (const InterfaceDrops& i : r.interfaces)
        for (const DroppedFlow& f : i.flows)
            rows.emplace_back(&i, &f);
    // Each interface's flows are sorted already: merge them by size.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return std::tie(a.second->counted.packets, a.second->counted.bytes) >
               std::tie(b.second->counted.packets, b.second->counted.bytes);
    });
    return rows;
}

// Length of the UTF-8 sequence starting with `lead`.
std::size_t utf8_length(unsigned char lead)
{
    return lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 1;
}

}  // namespace

std::string_view view_name(TuiView view)
{
    return kTuiViewNames.name(view);
}

std::size_t text_columns(std::string_view text)
{
    std::size_t columns = 0;
    for (std::size_t i = 0; i < text.size(); i += utf8_length(static_cast<unsigned char>(text[i])))
        ++columns;
    return columns;
}

std::string fit_columns(std::string_view text, std::size_t columns, bool pad)
{
    std::size_t i = 0, used = 0;
    while (i < text.size() && used < columns) {
        i += utf8_length(static_cast<unsigned char>(text[i]));
        ++used;
    }
    std::string out{text.substr(0, std::min(i, text.size()))};
    if (pad && used < columns)
        out.append(columns - used, ' ');
    return out;
}

// The packet-size histogram on one line: each RMON bucket's label, a bar of
// its share of the packets (eight heights) and the share in percent.
std::string size_histogram_bars(const ClassCounters& c, bool utf8)
{
    static constexpr std::array<std::string_view, 9> blocks = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static constexpr std::string_view ascii = " _.-:=+*#";
    const auto shares = size_shares(c);
    std::string out;
    for (std::size_t i = 0; i < c.size_hist.size(); ++i) {
        const SizeBucket b = size_bucket(i);
        const double share = shares[i];
        const auto level = static_cast<std::size_t>(std::lround(share * 8));
        out += b.max ? fmt::format(" {}-{} ", b.min, *b.max) : fmt::format(" {}+ ", b.min);
        out += utf8 ? std::string(blocks[level]) : std::string(1, ascii[level]);
        out += fmt::format("{:.0f}%", share * 100);
    }
    return out;
}

std::string sparkline(const std::deque<double>& values, std::size_t columns, bool utf8)
{
    const std::size_t n = std::min(values.size(), columns);
    const auto first = values.end() - static_cast<std::ptrdiff_t>(n);
    double max = 0;
    for (auto it = first; it != values.end(); ++it)
        max = std::max(max, *it);
    std::string out;
    for (auto it = first; it != values.end(); ++it) {
        // 0: the lowest bar; any traffic at all: one of the seven above it.
        std::size_t level = 0;
        if (*it > 0 && max > 0)
            level = 1 + static_cast<std::size_t>(std::lround(*it / max * 6));
        level = std::min<std::size_t>(level, 7);
        if (utf8)
            out += k_bars_utf8[level];
        else
            out += k_bars_ascii[level];
    }
    return out;
}

TuiModel::TuiModel(TuiViews views, SortKey sort, double interval_s, bool utf8, TalkerSide talkers_by)
    : views_(views), sort_(sort), talkers_by_(talkers_by), interval_s_(interval_s), utf8_(utf8)
{
    view_ = views.flows     ? TuiView::flows
            : views.talkers ? TuiView::talkers
            : views.ports   ? TuiView::ports
            : views.drops   ? TuiView::drops
                            : TuiView::flows;
}

void TuiModel::push(IntervalReport report)
{
    for (const AttachmentReport& a : report.attachments) {
        const auto title = attachment_title(a);
        auto it = std::find_if(latest_.history.begin(), latest_.history.end(),
                               [&](const auto& h) { return h.first == title; });
        if (it == latest_.history.end()) {
            latest_.history.push_back({title, {}});
            it = latest_.history.end() - 1;
        }
        it->second.push_back(rate(a.counters[TS_CLASS_ALL], report.interval_s).bps);
        while (it->second.size() > k_tui_history)
            it->second.pop_front();
    }
    if (report.drops) {
        // Since start per reason and class; the flows are shown per interval only.
        std::vector<InterfaceDrops> counts;
        for (const InterfaceDrops& i : report.drops->interfaces)
            counts.push_back({.ifname = i.ifname, .directions = i.directions, .flows = {}, .link = i.link});
        latest_.drops.add({.interfaces = std::move(counts), .missed = report.drops->missed});
    }
    latest_.report = std::move(report);
    if (!paused_)
        shown_ = latest_;
}

TuiAction TuiModel::key(int ch)
{
    message_.clear();
    auto switch_to = [&](TuiView v) {
        if (view_enabled(views_, v)) {
            if (v != view_)
                scroll_ = 0;  // another table: from its top
            view_ = v;
        } else {
            message_ = fmt::format("the {} view is off: start trafstat with --{}", view_name(v), view_name(v));
        }
        return TuiAction::redraw;
    };
    switch (ch) {
    case 'q':
    case 'Q':
        return TuiAction::quit;
    case 't':
    case 'T':
        return switch_to(TuiView::talkers);
    case 'p':
    case 'P':
        return switch_to(TuiView::ports);
    case 'f':
    case 'F':
        return switch_to(TuiView::flows);
    case 'x':
    case 'X':
        return switch_to(TuiView::drops);
    case 's':
    case 'S':
        if (view_ == TuiView::drops)
            message_ = "drops are ordered by packets; s sorts the talkers, ports and flows views";
        sort_ = sort_ == SortKey::bps     ? SortKey::pps
                : sort_ == SortKey::pps   ? SortKey::bytes
                : sort_ == SortKey::bytes ? SortKey::packets
                                          : SortKey::bps;
        return TuiAction::redraw;
    case 'd':
    case 'D':
        if (!views_.talkers) {
            message_ = "d orders the talkers, and the talkers view is off: start trafstat with --talkers";
            return TuiAction::redraw;
        }
        talkers_by_ = talkers_by_ == TalkerSide::total ? TalkerSide::src
                      : talkers_by_ == TalkerSide::src ? TalkerSide::dst
                                                       : TalkerSide::total;
        return TuiAction::redraw;
    // Scrolling the table, within what the last screen showed.
    case tui_key::up:
    case 'k':
        scroll_ -= std::min<std::size_t>(scroll_, 1);
        return TuiAction::redraw;
    case tui_key::down:
    case 'j':
        scroll_ = std::min(scroll_ + 1, max_scroll_);
        return TuiAction::redraw;
    case tui_key::page_up:
        scroll_ -= std::min(scroll_, std::max<std::size_t>(page_, 1));
        return TuiAction::redraw;
    case tui_key::page_down:
        scroll_ = std::min(scroll_ + std::max<std::size_t>(page_, 1), max_scroll_);
        return TuiAction::redraw;
    case tui_key::home:
    case 'g':
        scroll_ = 0;
        return TuiAction::redraw;
    case tui_key::end:
    case 'G':
        scroll_ = max_scroll_;
        return TuiAction::redraw;
    case ' ':
        paused_ = !paused_;
        if (!paused_)
            shown_ = latest_;
        return TuiAction::redraw;
    case 'h':
    case 'H':
    case '?':
        help_ = !help_;
        return TuiAction::redraw;
    default:
        return TuiAction::none;
    }
}

// The last lines: what the last key could not do, the help (as many lines as
// its items need at this width), or the status line.
std::vector<std::string> TuiModel::footer(std::size_t width) const
{
    if (!message_.empty())
        return {message_};
    if (help_) {
        std::vector<std::string> items = {"t talkers", "p ports", "f flows", "x drops",
                                          "s sort: bps, pps, bytes, packets"};
        if (views_.talkers)
            items.push_back(fmt::format("d talkers by total/src/dst (now {})", side_name(talkers_by_)));
        for (const char* item : {"Up/Down j/k scroll a row", "PgUp/PgDn a page", "Home/End g/G first/last row",
                                 "space pause/resume", "q quit", "h/? help"})
            items.emplace_back(item);
        std::vector<std::string> out(1);
        for (const auto& item : items) {
            if (!out.back().empty() && text_columns(out.back()) + 2 + text_columns(item) > width)
                out.emplace_back();
            out.back() += (out.back().empty() ? "" : "  ") + item;
        }
        return out;
    }
    if (paused_)
        return {"PAUSED: counting goes on; space resumes  (h help, q quit)"};
    return {fmt::format("t/p/f{} view  s sort  {}j/k scroll  space pause  q quit  h help", views_.drops ? "/x" : "",
                        views_.talkers ? fmt::format("d talkers by {}  ", side_name(talkers_by_)) : "")};
}

void TuiModel::drops_body(std::vector<TuiLine>& body, std::size_t width, std::size_t room)
{
    auto add = [&](std::string text, TuiStyle style = TuiStyle::plain) {
        body.push_back({fit_columns(text, width), style});
    };
    const IntervalReport& report = *shown_.report;
    if (!report.drops) {
        add("no drops in this interval's report");
        return;
    }
    const DropsReport& r = *report.drops;
    const double seconds = report.interval_s;
    const auto totals = shown_.drops.totals(0);
    constexpr std::size_t reason_width = 24, direction_width = 9;
    for (std::size_t n = 0; n < r.interfaces.size(); ++n) {
        const InterfaceDrops& i = r.interfaces[n];
        const InterfaceDrops& since = n < totals.size() ? totals[n] : i;
        // The interface: each direction's rate now and its packets since start.
        std::string head = fmt::format("{} drops", i.ifname);
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
            const Rate rt = rate(i.directions[d].total(), seconds);
            head += fmt::format("  {} {} {} ({} since start)", drop_direction_name(static_cast<ts_drop_direction>(d)),
                                format_pps(rt.pps), format_bps(rt.bps), since.directions[d].total().packets);
        }
        add(head, TuiStyle::heading);
        // Beside them, the interface's own counters, labelled as theirs.
        if (!i.link) {
            add("  link counters (driver and stack): not readable");
        } else {
            const auto now = moved_link_counters(*i.link);
            const auto total = since.link ? moved_link_counters(*since.link) : std::string();
            add(fmt::format("  link counters (driver and stack): {}; since start: {}", now.empty() ? "none moved" : now,
                            total.empty() ? "none moved" : total));
        }
        std::vector<ReasonRow> rows;
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
            const auto dir = static_cast<ts_drop_direction>(d);
            auto more = reason_rows(r, i.directions[d], since.directions[d], dir);
            std::move(more.begin(), more.end(), std::back_inserter(rows));
        }
        if (rows.empty()) {
            add("  no drops since start");
        } else {
            add("  " +
                    row_text(fmt::format("{:<{}}  reason", "direction", direction_width),
                             direction_width + 2 + reason_width, headings()) +
                    fmt::format("{:>13}  classes", "since start"),
                TuiStyle::heading);
            for (const ReasonRow& row : rows)
                add("  " +
                    row_text(fmt::format("{:<{}}  {}", row.direction, direction_width,
                                         fit_columns(row.reason, reason_width)),
                             direction_width + 2 + reason_width, numbers(row.now, seconds)) +
                    fmt::format("{:>13}", row.since_start) + (row.classes.empty() ? "" : "  " + row.classes));
        }
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d)
            if (const Counter& over = i.directions[d].flow_overflow; over.packets)
                add(fmt::format("  {}: {} packets {} bytes not in a flow: the dropped-flows table was full "
                                "(--drop-flow-table-size)",
                                drop_direction_name(static_cast<ts_drop_direction>(d)), over.packets, over.bytes));
        add("");
    }

    // The dropped flows of the interval, scrolled as the other views' tables.
    const bool many = r.interfaces.size() > 1;
    const std::size_t header = body.size() + 2;  // heading + column heading
    const std::size_t rows_room = room > header ? room - header : 0;
    const auto flows = dropped_flow_rows(r);
    const std::size_t total = flows.size();
    max_scroll_ = total > rows_room ? total - rows_room : 0;
    scroll_ = std::min(scroll_, max_scroll_);
    page_ = rows_room;
    const std::size_t first = scroll_, last = std::min(total, scroll_ + rows_room);
    std::string heading = fmt::format("dropped flows: {} this interval, by packets", total);
    if (total && last > first)
        heading += fmt::format("  rows {}-{} of {}", first + 1, last, total);
    add(heading, TuiStyle::heading);
    // Direction, reason and class as wide as the rows shown need; packets and
    // bytes only (the reasons above have the rates).
    std::vector<std::array<std::string, 4>> cells;
    std::array<std::size_t, 4> w = {9, 6, 5, 4};  // the headings' widths
    for (std::size_t n = first; n < last; ++n) {
        const DroppedFlow& f = *flows[n].second;
        cells.push_back({std::string(drop_direction_name(f.key.direction)), std::string(reason_name(r, f.key.reason)),
                         drop_class_name(f.key.cls), dropped_flow_label(f)});
        for (std::size_t c = 0; c < w.size(); ++c)
            w[c] = std::max(w[c], text_columns(cells.back()[c]));
    }
    constexpr std::size_t packets_width = 11, bytes_width = 13;
    const std::size_t fixed = 2 + (many ? 17 : 0) + w[0] + w[1] + w[2] + 3 * 2 + 2 + packets_width + bytes_width;
    // Cut the flow rather than the numbers, as the other views do.
    if (fixed + w[3] > width)
        w[3] = width > fixed + 16 ? width - fixed : 16;
    auto row = [&](std::string_view iface, const std::array<std::string, 4>& c, std::string_view packets,
                   std::string_view bytes) {
        std::string text = many ? fmt::format("  {:<16} ", fit_columns(iface, 16)) : std::string("  ");
        for (std::size_t k = 0; k < c.size(); ++k)
            text += fit_columns(c[k], w[k], true) + "  ";
        return text + fmt::format("{:>{}}{:>{}}", packets, packets_width, bytes, bytes_width);
    };
    add(row("iface", {"direction", "reason", "class", "flow"}, "[packets]", "bytes"), TuiStyle::heading);
    for (std::size_t n = first; n < last; ++n) {
        const Counter& c = flows[n].second->counted;
        add(row(flows[n].first->ifname, cells[n - first], fmt::format("{}", c.packets), fmt::format("{}", c.bytes)));
    }
}

std::vector<TuiLine> TuiModel::lines(int width_in, int height_in)
{
    std::vector<TuiLine> out;
    if (width_in < 1 || height_in < 1)
        return out;
    const auto width = static_cast<std::size_t>(width_in);
    const auto height = static_cast<std::size_t>(height_in);
    auto add = [&](std::string text, TuiStyle style = TuiStyle::plain) {
        const bool bar = style == TuiStyle::title || style == TuiStyle::status;
        out.push_back({fit_columns(text, width, bar), style});
    };

    // Title.
    std::string title = "trafstat";
    if (shown_.report)
        title += fmt::format("  {}  {:.1f}s", local_hms(shown_.report->time), shown_.report->interval_s);
    title += fmt::format("  view: {}", view_name(view_));
    title += view_ == TuiView::drops ? "  by: packets" : fmt::format("  sort: {}", sort_name(sort_));
    if (view_ == TuiView::talkers)
        title += fmt::format("  by: {}", side_name(talkers_by_));
    if (paused_)
        title += "  PAUSED";
    add(title, TuiStyle::title);

    // The footer under the body; the title keeps the first line.
    auto foot = footer(width);
    foot.resize(std::min(foot.size(), height - 1));
    const std::size_t body_room = height - 1 - foot.size();

    // Body: the attachments, then the view; cut to what fits above the footer.
    std::vector<TuiLine> body;
    auto body_add = [&](std::string text, TuiStyle style = TuiStyle::plain) {
        body.push_back({fit_columns(text, width), style});
    };
    if (!shown_.report) {
        body_add(fmt::format("waiting for the first interval ({:.1f}s)...", interval_s_));
    } else if (view_ == TuiView::drops) {
        drops_body(body, width, body_room);
    } else {
        const IntervalReport& r = *shown_.report;
        const double seconds = r.interval_s;
        for (const AttachmentReport& a : r.attachments) {
            const auto name = attachment_title(a);
            const Rate all = rate(a.counters[TS_CLASS_ALL], seconds);
            // The interface line with the sparkline of `all` bps.
            std::string head = fmt::format("{}  all {}  ", name, format_bps(all.bps));
            const auto hist = std::find_if(shown_.history.begin(), shown_.history.end(),
                                           [&](const auto& h) { return h.first == name; });
            if (hist != shown_.history.end() && text_columns(head) < width) {
                double peak = 0;
                for (double v : hist->second)
                    peak = std::max(peak, v);
                const std::string tail = fmt::format("  peak {}", format_bps(peak));
                const std::size_t room = width - text_columns(head);
                const std::size_t spark = room > text_columns(tail) ? room - text_columns(tail) : room;
                head += sparkline(hist->second, spark, utf8_);
                if (room > text_columns(tail))
                    head += tail;
            }
            body_add(head, TuiStyle::heading);
            for (const TableReport& t : a.tables) {
                const double pct =
                    t.capacity ? 100.0 * static_cast<double>(t.entries) / static_cast<double>(t.capacity) : 0.0;
                const Counter& over = a.counters.table_overflow[t.id];
                body_add(fmt::format("  {} table: {} of {} slots ({:.1f}%), overflow {} packets {} bytes", t.name,
                                     t.entries, t.capacity, pct, over.packets, over.bytes));
            }
            if (a.histogram)
                body_add("  sizes " + size_histogram_bars(a.counters, utf8_));
            body_add("  " + row_text("class", k_class_width, headings()), TuiStyle::heading);
            for (int k = TS_CLASS_ALL; k < TS_CLASS_MAX; ++k) {
                const auto cls = static_cast<ts_class>(k);
                const bool main = std::find(k_main_classes.begin(), k_main_classes.end(), cls) != k_main_classes.end();
                if (!main && a.counters[cls].packets == 0)
                    continue;
                body_add("  " + row_text(class_name(cls), k_class_width, numbers(a.counters[cls], seconds)));
            }
            body_add("");
        }

        // The view table: every row of the view, a window of them shown from
        // the scroll offset, clamped so that the last page is full.
        if (!views_.talkers && !views_.ports && !views_.flows) {
            body_add("no view: start trafstat with --flows, --talkers or --ports");
        } else {
            const bool many = r.attachments.size() > 1;
            const std::size_t header = body.size() + 2;  // view heading + column heading
            const std::size_t room = body_room > header ? body_room - header : 0;
            const ViewRows view(r, view_, sort_, talkers_by_);
            const std::size_t total = view.rows.size();
            max_scroll_ = total > room ? total - room : 0;
            scroll_ = std::min(scroll_, max_scroll_);
            page_ = room;
            const std::size_t first = scroll_, last = std::min(total, scroll_ + room);
            std::vector<std::string> labels;
            for (std::size_t i = first; i < last; ++i)
                labels.push_back(label_of(view.rows[i]));

            std::string_view counted = view_ == TuiView::ports ? " (to + from)" : "";
            if (view_ == TuiView::talkers)
                counted = talkers_by_ == TalkerSide::src   ? " (sent: as source)"
                          : talkers_by_ == TalkerSide::dst ? " (received: as destination)"
                                                           : " (sent + received)";
            std::string heading =
                fmt::format("{}: {} this interval, by {}{}", view_name(view_), total, sort_name(sort_), counted);
            if (total && last > first)
                heading += fmt::format("  rows {}-{} of {}", first + 1, last, total);
            body_add(heading, TuiStyle::heading);
            const std::size_t fixed = 2 + 4 + (many ? 17 : 0);
            std::size_t label_width = 0;
            for (const auto& label : labels)
                label_width = std::max(label_width, text_columns(label));
            label_width = std::max<std::size_t>(label_width, 16);
            std::size_t nums = 0;
            for (auto w : k_num_width)
                nums += w;
            if (fixed + label_width + nums > width)
                label_width = width > fixed + nums + 16 ? width - fixed - nums : 16;
            const std::string_view what = view_ == TuiView::talkers ? "address"
                                          : view_ == TuiView::ports ? "port"
                                                                    : "flow";
            auto prefix = [&](std::string_view iface) {
                return many ? fmt::format("  {:<16} ", fit_columns(iface, 16)) : std::string("  ");
            };
            body_add(prefix("iface") + row_text(what, label_width + 4, headings(sort_)), TuiStyle::heading);
            for (std::size_t i = first; i < last; ++i)
                body_add(prefix(*view.rows[i].iface) +
                         row_text(labels[i - first], label_width + 4, numbers(view.rows[i].counter, seconds)));
        }
    }
    for (std::size_t i = 0; i < body.size() && i < body_room; ++i)
        out.push_back(std::move(body[i]));
    while (out.size() < height - foot.size())
        out.push_back({"", TuiStyle::plain});
    for (auto& line : foot)
        add(std::move(line), TuiStyle::status);
    return out;
}

}  // namespace trafstat
