#include "output/tui.hpp"

#include "output/units.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>

namespace trafstat {

namespace {

constexpr std::array<std::string_view, 8> k_bars_utf8 = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr std::string_view k_bars_ascii = "_.-:=+*#";

// Classes always shown in the top part; the others only when they saw packets.
constexpr std::array<ts_class, 7> k_main_classes = {TS_CLASS_ALL, TS_CLASS_IPV4,  TS_CLASS_IPV6, TS_CLASS_TCP,
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

// A row of the view table: its label, the attachment it is from, its counts.
struct ViewRow {
    std::string label;
    std::string iface;
    Counter counter;
};

// The rows of `view` over every attachment, in `sort` order, at most `limit`.
// Each attachment's rows are sorted with sort_top (its tie-break), then the
// attachments' rows are merged by the sort value.
std::vector<ViewRow> view_rows(const IntervalReport& r, TuiView view, SortKey sort, std::size_t limit)
{
    std::vector<ViewRow> rows;
    for (const AttachmentReport& a : r.attachments) {
        const auto& v = a.views;
        if (view == TuiView::talkers && v.talkers) {
            auto sorted = *v.talkers;
            sort_top(sorted, sort, limit);
            for (const Talker& t : sorted)
                rows.push_back({format_ip(t.ip, t.ip_version), a.ifname, t.total()});
        } else if (view == TuiView::ports && v.ports) {
            auto sorted = *v.ports;
            sort_top(sorted, sort, limit);
            for (const Port& p : sorted)
                rows.push_back({port_label(p), a.ifname, p.total()});
        } else if (view == TuiView::flows && v.flows) {
            auto sorted = *v.flows;
            sort_top(sorted, sort, limit);
            for (const FlowEntry& f : sorted)
                rows.push_back({flow_label(f), a.ifname, {f.stats.packets, f.stats.bytes}});
        }
    }
    if (r.attachments.size() > 1) {
        const bool by_bytes = sort == SortKey::bps || sort == SortKey::bytes;
        std::stable_sort(rows.begin(), rows.end(), [&](const ViewRow& x, const ViewRow& y) {
            return by_bytes ? x.counter.bytes > y.counter.bytes : x.counter.packets > y.counter.packets;
        });
        if (limit && rows.size() > limit)
            rows.resize(limit);
    }
    return rows;
}

bool view_enabled(const TuiViews& v, TuiView view)
{
    return view == TuiView::talkers ? v.talkers : view == TuiView::ports ? v.ports : v.flows;
}

// Length of the UTF-8 sequence starting with `lead`.
std::size_t utf8_length(unsigned char lead)
{
    return lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 1;
}

}  // namespace

std::string_view sort_name(SortKey key)
{
    switch (key) {
    case SortKey::bps:
        return "bps";
    case SortKey::pps:
        return "pps";
    case SortKey::bytes:
        return "bytes";
    case SortKey::packets:
        return "packets";
    }
    return "bps";
}

std::string_view view_name(TuiView view)
{
    return view == TuiView::talkers ? "talkers" : view == TuiView::ports ? "ports" : "flows";
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

TuiModel::TuiModel(TuiViews views, SortKey sort, double interval_s, bool utf8)
    : views_(views), sort_(sort), interval_s_(interval_s), utf8_(utf8)
{
    view_ = views.flows ? TuiView::flows : views.talkers ? TuiView::talkers : views.ports ? TuiView::ports
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
    latest_.report = std::move(report);
    if (!paused_)
        shown_ = latest_;
}

TuiAction TuiModel::key(int ch)
{
    message_.clear();
    auto switch_to = [&](TuiView v) {
        if (view_enabled(views_, v))
            view_ = v;
        else
            message_ = fmt::format("the {} view is off: start trafstat with --{}", view_name(v), view_name(v));
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
    case 's':
    case 'S':
        sort_ = sort_ == SortKey::bps     ? SortKey::pps
                : sort_ == SortKey::pps   ? SortKey::bytes
                : sort_ == SortKey::bytes ? SortKey::packets
                                          : SortKey::bps;
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

std::vector<TuiLine> TuiModel::lines(int width_in, int height_in) const
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
    title += fmt::format("  view: {}  sort: {}", view_name(view_), sort_name(sort_));
    if (paused_)
        title += "  PAUSED";
    add(title, TuiStyle::title);

    // Body: the attachments, then the view; cut to what fits above the status line.
    std::vector<TuiLine> body;
    auto body_add = [&](std::string text, TuiStyle style = TuiStyle::plain) {
        body.push_back({fit_columns(text, width), style});
    };
    if (!shown_.report) {
        body_add(fmt::format("waiting for the first interval ({:.1f}s)...", interval_s_));
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
                const double pct = t.capacity ? 100.0 * static_cast<double>(t.entries) / static_cast<double>(t.capacity)
                                              : 0.0;
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

        // The view table.
        if (!views_.talkers && !views_.ports && !views_.flows) {
            body_add("no view: start trafstat with --flows, --talkers or --ports");
        } else {
            const bool many = r.attachments.size() > 1;
            const std::size_t header = body.size() + 2;  // view heading + column heading
            const std::size_t room = height > header + 2 ? height - header - 2 : 0;  // title, status
            const auto rows = view_rows(r, view_, sort_, room);
            std::size_t total = 0;
            for (const AttachmentReport& a : r.attachments) {
                const auto& v = a.views;
                total += view_ == TuiView::talkers ? (v.talkers ? v.talkers->size() : 0)
                         : view_ == TuiView::ports ? (v.ports ? v.ports->size() : 0)
                                                   : (v.flows ? v.flows->size() : 0);
            }
            body_add(fmt::format("{}: {} this interval, by {}{}", view_name(view_), total, sort_name(sort_),
                                 view_ == TuiView::talkers ? " (sent + received)"
                                 : view_ == TuiView::ports ? " (to + from)"
                                                           : ""),
                     TuiStyle::heading);
            const std::size_t fixed = 2 + 4 + (many ? 17 : 0);
            std::size_t label_width = 0;
            for (const ViewRow& row : rows)
                label_width = std::max(label_width, text_columns(row.label));
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
            for (const ViewRow& row : rows)
                body_add(prefix(row.iface) + row_text(row.label, label_width + 4, numbers(row.counter, seconds)));
        }
    }
    const std::size_t body_room = height > 2 ? height - 2 : 0;
    for (std::size_t i = 0; i < body.size() && i < body_room; ++i)
        out.push_back(std::move(body[i]));
    while (height > 1 && out.size() < height - 1)
        out.push_back({"", TuiStyle::plain});

    // Status line.
    if (height > 1) {
        std::string status;
        if (!message_.empty())
            status = message_;
        else if (help_)
            status = "t talkers  p ports  f flows  s sort (bps, pps, bytes, packets)  space pause/resume  q quit  "
                     "h/? help";
        else if (paused_)
            status = "PAUSED: counting goes on; space resumes  (h help, q quit)";
        else
            status = "t/p/f view  s sort  space pause  q quit  h help";
        add(status, TuiStyle::status);
    }
    out.resize(std::min(out.size(), height));
    return out;
}

}  // namespace trafstat
