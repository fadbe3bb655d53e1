#include "output/line.hpp"
#include "output/labels.hpp"

#include "output/units.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

namespace trafstat {

namespace {

// One table row as text: class, pps, bps, packets, bytes.
constexpr std::size_t k_columns = 5;
using Row = std::array<std::string, k_columns>;

// A titled table: one attachment, or the total over all of them.
struct Block {
    std::string title;
    std::vector<Row> rows;
    std::string footer{};  // the keyed table's occupancy, when there is one
};

// Minimum widths keep the columns from jumping between intervals as rates
// change; wider values still widen their column.
constexpr std::array<std::size_t, k_columns> k_min_width = {12, 10, 10, 10, 12};
constexpr std::string_view k_gap = "  ";

// The class rows of one table, in enum order, with rates over `seconds`.
std::vector<Row> class_rows(const ClassCounters& c, double seconds, const LineOptions& o)
{
    std::vector<Row> rows;
    for (int k = TS_CLASS_ALL; k < TS_CLASS_MAX; ++k) {
        const auto cls = static_cast<ts_class>(k);
        const Counter& n = c[cls];
        if (o.hide_zero && n.packets == 0 && cls != TS_CLASS_ALL) {
            continue;
        }
        const Rate r = rate(n, seconds);
        rows.push_back({std::string{class_name(cls)}, format_pps(r.pps), format_bps(r.bps),
                        fmt::format("{}", n.packets), fmt::format("{}", n.bytes)});
    }
    return rows;
}

// The attachments' tables, plus a "total" table when there are several.
std::vector<Block> blocks_of(const std::vector<AttachmentReport>& attachments, double seconds, const LineOptions& o)
{
    std::vector<Block> blocks;
    for (const AttachmentReport& a : attachments) {
        std::string footer;
        for (const TableReport& t : a.tables) {
            const Counter& over = a.counters.table_overflow[t.id];
            footer += fmt::format("{} table: {} of {} slots, overflow {} packets {} bytes\n", t.name, t.entries,
                                  t.capacity, over.packets, over.bytes);
        }
        blocks.push_back({attachment_title(a), class_rows(a.counters, seconds, o), footer});
    }
    if (attachments.size() > 1) {
        blocks.push_back({"total", class_rows(total_of(attachments), seconds, o)});
    }
    return blocks;
}

// Renders the blocks with one set of column widths, so every table of one
// report lines up: the class name left-aligned, the numbers right-aligned.
// Each title is prefixed by `when`; tables are separated by an empty line.
std::string render(std::string_view when, const Row& heading, const std::vector<Block>& blocks)
{
    std::array<std::size_t, k_columns> width = k_min_width;
    auto widen = [&](const Row& row) {
        for (std::size_t i = 0; i < k_columns; ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    widen(heading);
    for (const Block& b : blocks) {
        std::for_each(b.rows.begin(), b.rows.end(), widen);
    }

    auto line = [&](const Row& row) {
        std::string text = fmt::format("{:<{}}", row[0], width[0]);
        for (std::size_t i = 1; i < k_columns; ++i) {
            text += fmt::format("{}{:>{}}", k_gap, row[i], width[i]);
        }
        return text + "\n";
    };

    std::string out;
    for (const Block& b : blocks) {
        if (!out.empty()) {
            out += "\n";
        }
        out += fmt::format("{}  {}\n", when, b.title);
        out += line(heading);
        for (const Row& row : b.rows) {
            out += line(row);
        }
        out += b.footer;
    }
    return out;
}

// The views of each attachment, as blocks of their own (their first column is
// wider than a class name): name, pps, bps, packets, bytes per row.
std::vector<Block> view_blocks(const std::vector<AttachmentReport>& attachments, double seconds)
{
    std::vector<Block> blocks;
    auto row = [&](std::string name, const Counter& c) {
        const Rate r = rate(c, seconds);
        return Row{std::move(name), format_pps(r.pps), format_bps(r.bps), fmt::format("{}", c.packets),
                   fmt::format("{}", c.bytes)};
    };
    for (const AttachmentReport& a : attachments) {
        if (a.views.talkers) {
            Block b{attachment_title(a) + " talkers (sent + received)", {}};
            for (const Talker& t : *a.views.talkers)
                b.rows.push_back(row(format_ip(t.ip, t.ip_version), t.total()));
            blocks.push_back(std::move(b));
        }
        if (a.views.ports) {
            Block b{attachment_title(a) + " ports (to + from)", {}};
            for (const Port& p : *a.views.ports)
                b.rows.push_back(row(port_label(p), p.total()));
            blocks.push_back(std::move(b));
        }
        if (a.views.flows) {
            Block b{attachment_title(a) + " flows", {}};
            for (const FlowEntry& f : *a.views.flows)
                b.rows.push_back(row(flow_label(f), {f.stats.packets, f.stats.bytes}));
            blocks.push_back(std::move(b));
        }
    }
    return blocks;
}

// Rows of cells under "  ", each column as wide as its widest cell, aligned
// as `align` says per column ('l' or 'r'); a left-aligned last cell is not
// padded, so no line ends in spaces. Rows may be shorter than the others.
std::string table_text(const std::vector<std::vector<std::string>>& rows, std::string_view align)
{
    std::vector<std::size_t> width(align.size());
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    std::string out;
    for (const auto& row : rows) {
        std::string text;
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i)
                text += k_gap;
            if (align[i] == 'r')
                text += fmt::format("{:>{}}", row[i], width[i]);
            else
                text += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}", row[i], width[i]);
        }
        out += "  " + text + "\n";
    }
    return out;
}

// One direction of one interface: its total (rates over `seconds` in an
// interval), the top reasons with their classes, its top dropped flows.
std::string direction_drops_text(std::string_view when, const DropsReport& r, const InterfaceDrops& i,
                                 ts_drop_direction dir, std::optional<double> seconds)
{
    const DirectionDrops& d = i.directions[dir];
    const Counter total = d.total();
    std::string out = fmt::format("{}  {} drops {}", when, i.ifname, drop_direction_name(dir));
    if (seconds) {
        const Rate rt = rate(total, *seconds);
        out += fmt::format("  {}  {}", format_pps(rt.pps), format_bps(rt.bps));
    }
    out += fmt::format("  {} packets  {} bytes\n", total.packets, total.bytes);

    const auto reasons = drops_by_reason(d, r);
    std::vector<std::vector<std::string>> rows = {{"reason", "packets", "classes"}};
    std::uint64_t rest = 0;
    for (std::size_t k = 0; k < reasons.size(); ++k) {
        if (k < kTopDropReasons)
            rows.push_back({std::string(reasons[k].reason), fmt::format("{}", reasons[k].counted.packets),
                            classes_brief(reasons[k])});
        else
            rest += reasons[k].counted.packets;
    }
    if (reasons.size() > kTopDropReasons)
        rows.push_back({more_reasons(reasons.size() - kTopDropReasons), fmt::format("{}", rest)});
    out += table_text(rows, "lrl");

    std::vector<std::vector<std::string>> flows = {{"top dropped flows", "reason", "class", "packets"}};
    for (const DroppedFlow& f : i.flows)
        if (f.key.direction == dir)
            flows.push_back({dropped_flow_label(f), std::string(reason_name(r, f.key.reason)),
                             drop_class_name(f.key.cls), fmt::format("{}", f.counted.packets)});
    if (flows.size() > 1)
        out += table_text(flows, "lllr");
    if (d.flow_overflow.packets)
        out += fmt::format("  {} packets {} bytes not in a flow: the dropped-flows table was full "
                           "(--drop-flow-table-size)\n",
                           d.flow_overflow.packets, d.flow_overflow.bytes);
    return out;
}

// The drops of each interface and direction that had any, and the interfaces'
// own counters that moved; "drops: none" when nothing did (unless -z).
std::string drops_text(std::string_view when, const DropsReport& r, std::optional<double> seconds, const LineOptions& o)
{
    std::string out;
    for (const InterfaceDrops& i : r.interfaces) {
        std::string text;
        for (std::size_t dir = 0; dir < TS_DROP_DIRECTIONS; ++dir)
            if (!i.directions[dir].counts.empty())
                text += "\n" + direction_drops_text(when, r, i, static_cast<ts_drop_direction>(dir), seconds);
        // Under the interface's drops, or a block of its own.
        if (i.link)
            if (const auto moved = moved_link_counters(*i.link); !moved.empty())
                text += fmt::format("{}{}  {} link counters (driver and stack): {}\n", text.empty() ? "\n" : "", when,
                                    i.ifname, moved);
        out += text;
    }
    if (out.empty() && !o.hide_zero) {
        std::string names;
        for (const InterfaceDrops& i : r.interfaces)
            names += (names.empty() ? "" : ", ") + i.ifname;
        out = fmt::format("\n{}  drops: none on {}\n", when, names);
    }
    return out;
}

}  // namespace

std::string render_interval(const IntervalReport& r, const LineOptions& o)
{
    static const Row heading = {"class", "pps", "bps", "packets", "bytes"};
    static const Row view_heading = {"", "pps", "bps", "packets", "bytes"};
    std::string out = render(local_hms(r.time), heading, blocks_of(r.attachments, r.interval_s, o));
    if (auto views = view_blocks(r.attachments, r.interval_s); !views.empty())
        out += "\n" + render(local_hms(r.time), view_heading, views);
    if (r.drops)
        out += drops_text(local_hms(r.time), *r.drops, r.interval_s, o);
    // The trailing empty line separates this interval from the next one.
    return out + "\n";
}

// The packet-size histogram of each attachment that counted one, with a bar of
// each bucket's share of the packets.
std::string render_histograms(std::string_view when, const std::vector<AttachmentReport>& attachments)
{
    std::string out;
    for (const AttachmentReport& a : attachments) {
        if (!a.histogram) {
            continue;
        }
        const auto shares = size_shares(a.counters);
        out += fmt::format("\n{}  {} packet sizes\n", when, attachment_title(a));
        for (std::size_t i = 0; i < a.counters.size_hist.size(); ++i) {
            const SizeBucket b = size_bucket(i);
            const Counter& n = a.counters.size_hist[i];
            const double share = shares[i];
            const auto label = b.max ? fmt::format("{}-{}", b.min, *b.max) : fmt::format("{}+", b.min);
            out += fmt::format("{:<12}  {:>10}  {:>5.1f}%  {}\n", label, n.packets, share * 100,
                               std::string(static_cast<std::size_t>(share * 40 + 0.5), '#'));
        }
    }
    return out;
}

// Generic XDP sees GSO/GRO super-packets, not the wire: say how many, and that
// they counted as their segments.
std::string super_packet_notes(const std::vector<AttachmentReport>& attachments)
{
    std::string out;
    for (const AttachmentReport& a : attachments) {
        if (a.super_packets && a.counters.super_packets.packets)
            out += fmt::format("\n{}: {} frames larger than the MTU (GSO super-packets), counted as the wire "
                               "segments they stand for\n",
                               attachment_title(a), a.counters.super_packets.packets);
    }
    return out;
}

std::string render_summary(const SummaryReport& r, const LineOptions& o)
{
    static const Row heading = {"class", "avg pps", "avg bps", "packets", "bytes"};
    static const Row view_heading = {"", "avg pps", "avg bps", "packets", "bytes"};
    const auto when = fmt::format("summary after {:.1f}s", r.duration_s);
    std::string out = render(when, heading, blocks_of(r.attachments, r.duration_s, o));
    if (auto views = view_blocks(r.attachments, r.duration_s); !views.empty())
        out += "\n" + render(when, view_heading, views);
    if (r.drops)
        out += drops_text(when, *r.drops, std::nullopt, o);
    return out + render_histograms(when, r.attachments) + super_packet_notes(r.attachments);
}

}  // namespace trafstat
