#include "output/metrics.hpp"

#include "output/labels.hpp"
#include "output/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace trafstat {
namespace {

constexpr std::string_view kCounter = "counter";
constexpr std::string_view kGauge = "gauge";

// The families in the order they print. Samples come attachment by
// attachment, but the format wants each family's lines together after its
// HELP and TYPE: each family keeps its own lines until text().
class Exposition {
public:
    using Family = std::size_t;

    Family family(std::string_view name, std::string_view type, std::string_view help)
    {
        families_.push_back(
            {std::string(name), fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type), {}});
        return families_.size() - 1;
    }
    // `labels`: the inside of the braces, already escaped (label_set()).
    template <class Value>
    void sample(Family id, std::string_view labels, Value value)
    {
        Lines& f = families_[id];
        auto out = std::back_inserter(f.samples);
        if (labels.empty())
            fmt::format_to(out, "{} {}\n", f.name, value);
        else
            fmt::format_to(out, "{}{{{}}} {}\n", f.name, labels, value);
    }
    std::string text() const
    {
        std::string out;
        for (const Lines& f : families_)
            if (!f.samples.empty())
                out.append(f.header).append(f.samples);
        return out;
    }

private:
    struct Lines {
        std::string name, header, samples;
    };
    std::vector<Lines> families_;
};

using Label = std::pair<std::string_view, std::string_view>;

// `base` (a label set already made) followed by `more`, each value escaped
// as the format wants: backslash, double quote and newline.
std::string label_set(std::string_view base, std::initializer_list<Label> more)
{
    std::string out(base);
    for (const auto& [name, value] : more) {
        if (!out.empty())
            out += ',';
        out.append(name).append("=\"");
        for (const char c : value) {
            switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
            }
        }
        out += '"';
    }
    return out;
}

// A _packets_total and a _bytes_total family with the same series.
struct CounterPair {
    Exposition::Family packets, bytes;
};

CounterPair counter_pair(Exposition& ex, std::string_view prefix, std::string_view help)
{
    return {ex.family(fmt::format("{}_packets_total", prefix), kCounter, fmt::format("{} (packets).", help)),
            ex.family(fmt::format("{}_bytes_total", prefix), kCounter,
                      fmt::format("{} (bytes of the frames, without FCS).", help))};
}

void add(Exposition& ex, const CounterPair& pair, std::string_view labels, const Counter& c)
{
    ex.sample(pair.packets, labels, c.packets);
    ex.sample(pair.bytes, labels, c.bytes);
}

struct Families {
    Exposition::Family build_info, up, attached_at;
    CounterPair frames, flags, dropped;
    Exposition::Family table_capacity, table_entries, table_active;
    CounterPair table_overflow, table_paused, table_unkeyed;
    std::array<CounterPair, TS_TABLES> keys;
    Exposition::Family drops, drop_bytes, drops_missed, link_stats;
    Exposition::Family scrape_duration;
};

Families declare_families(Exposition& ex)
{
    Families f{};
    f.build_info = ex.family("trafstat_build_info", kGauge, "Always 1: the version of trafstat serving these metrics.");
    f.up = ex.family("trafstat_attachment_up", kGauge,
                     "1 while the attachment's link holds trafstat's program on the hook, else 0.");
    f.attached_at =
        ex.family("trafstat_attached_timestamp_seconds", kGauge, "Unix time when trafstat attached to the hook.");
    f.frames = counter_pair(ex, "trafstat",
                            "Frames since attach by IP version and class; the classes partition the frames, so "
                            "sum without (ip, class) is every frame");
    f.flags = counter_pair(ex, "trafstat_flag",
                           "Frames since attach with a VLAN tag, a PPPoE header, or longer than the interface's "
                           "largest frame (generic XDP super-packets); counted on top of the classes");
    f.dropped = counter_pair(ex, "trafstat_dropped", "Frames dropped since attach (drop mode)");
    f.table_capacity =
        ex.family("trafstat_table_capacity", kGauge, "Keys the keyed table holds per interval, all CPUs together.");
    f.table_entries =
        ex.family("trafstat_table_entries", kGauge, "Keys the keyed table held in the last drained interval.");
    f.table_active =
        ex.family("trafstat_table_active", kGauge, "1 while the keyed table counts, 0 while switched off at run time.");
    f.table_overflow = counter_pair(ex, "trafstat_table_overflow",
                                    "IP packets since attach that the full keyed table had no room for");
    f.table_paused = counter_pair(ex, "trafstat_table_paused",
                                  "IP packets since attach that came while the keyed table was switched off "
                                  "(trafstat control)");
    f.table_unkeyed = counter_pair(ex, "trafstat_table_unkeyed",
                                   "IP packets since attach whose addresses could not be read, in no keyed table");
    f.keys[TS_TABLE_TALKERS] =
        counter_pair(ex, "trafstat_talker", "IP packets since attach by source and destination address");
    f.keys[TS_TABLE_PORTS] =
        counter_pair(ex, "trafstat_port", "IP packets since attach by protocol, source and destination port");
    f.keys[TS_TABLE_FLOWS] = counter_pair(ex, "trafstat_flow", "IP packets since attach by 5-tuple");
    f.drops = ex.family("trafstat_drops_total", kCounter,
                        "Packets the kernel dropped on the interface since the agent started (agent --drops), by "
                        "direction (received on it, leaving through it), the kernel's drop reason, and the "
                        "packet's IP version and class (docs/drops.md).");
    f.drop_bytes = ex.family("trafstat_drop_bytes_total", kCounter,
                             "Bytes of the dropped packets, from their L2 header (docs/drops.md); XDP's failures "
                             "have none.");
    f.drops_missed = ex.family("trafstat_drops_missed_total", kCounter,
                               "Drops no interface counted: runs of the drop counter the kernel skipped (a drop "
                               "inside a drop's count on the same CPU).");
    f.link_stats = ex.family("trafstat_link_stat_total", kCounter,
                             "The interface's own counters since the agent started, from netlink "
                             "(IFLA_STATS64: the driver's and the stack's totals, as node_exporter's "
                             "node_network_*), beside trafstat_drops_total.");
    f.scrape_duration = ex.family("trafstat_scrape_duration_seconds", kGauge,
                                  "How long collecting this scrape's snapshot of the counters took.");
    return f;
}

// The partition of docs/metrics.md: every IP packet by version and L4
// class, every other frame by its L3 class; in drop mode, one series.
void add_traffic(Exposition& ex, const Families& f, const AttachmentSnapshot& a, const std::string& base)
{
    const ClassCounters& t = a.totals;
    if (a.drop_mode) {
        add(ex, f.frames, label_set(base, {{"ip", ""}, {"class", "unparsed"}}), t[TS_CLASS_ALL]);
        add(ex, f.dropped, base, t[TS_CLASS_ALL]);
        return;
    }
    for (const ts_ip_version v : {TS_IP_V4, TS_IP_V6})
        for (int l4 = TS_L4_FIRST; l4 <= TS_L4_LAST; ++l4)
            add(ex, f.frames,
                label_set(base, {{"ip", ip_version_name(v)}, {"class", class_name(static_cast<ts_class>(l4))}}),
                t.l4_by_ip[v][static_cast<std::size_t>(l4 - TS_L4_FIRST)]);
    for (const ts_class c : {TS_CLASS_ARP, TS_CLASS_OTHER_L3, TS_CLASS_MALFORMED})
        add(ex, f.frames, label_set(base, {{"ip", ""}, {"class", class_name(c)}}), t[c]);
    add(ex, f.flags, label_set(base, {{"flag", class_name(TS_CLASS_VLAN)}}), t[TS_CLASS_VLAN]);
    add(ex, f.flags, label_set(base, {{"flag", class_name(TS_CLASS_PPPOE)}}), t[TS_CLASS_PPPOE]);
    add(ex, f.flags, label_set(base, {{"flag", "super_packets"}}), t.super_packets);
}

// A key's labels in its table's family: talkers src, dst; ports proto,
// sport, dport; flows all five.
struct KeyLabels {
    std::string_view proto, src, sport, dst, dport;
};

std::string key_label_set(const std::string& base, int table, const KeyLabels& k)
{
    switch (table) {
    case TS_TABLE_TALKERS:
        return label_set(base, {{"src", k.src}, {"dst", k.dst}});
    case TS_TABLE_PORTS:
        return label_set(base, {{"proto", k.proto}, {"sport", k.sport}, {"dport", k.dport}});
    default:
        return label_set(base,
                         {{"proto", k.proto}, {"src", k.src}, {"sport", k.sport}, {"dst", k.dst}, {"dport", k.dport}});
    }
}

// The exported keys, then `other`. Keys that differ only in what the
// table's labels leave out (an IPv4 and an IPv6 port key with the same
// protocol and ports) are one series, their sum: Prometheus refuses two
// samples with the same labels.
void add_keys(Exposition& ex, const CounterPair& pair, const TableSnapshot& table, int t, const std::string& base)
{
    std::vector<std::pair<std::string, Counter>> series;
    series.reserve(table.exported.size());
    for (const KeyTotal& k : table.exported) {
        const std::string src = format_ip(k.key.src, k.key.ip_version);
        const std::string dst = format_ip(k.key.dst, k.key.ip_version);
        const std::string proto = proto_name(k.key.proto);
        const std::string sport = std::to_string(k.key.sport);
        const std::string dport = std::to_string(k.key.dport);
        series.emplace_back(key_label_set(base, t, {proto, src, sport, dst, dport}), k.counter);
    }
    std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < series.size();) {
        Counter sum = series[i].second;
        std::size_t j = i + 1;
        for (; j < series.size() && series[j].first == series[i].first; ++j) {
            sum.packets += series[j].second.packets;
            sum.bytes += series[j].second.bytes;
        }
        add(ex, pair, series[i].first, sum);
        i = j;
    }
    add(ex, pair, key_label_set(base, t, {"other", "other", "other", "other", "other"}), table.other);
}

void add_tables(Exposition& ex, const Families& f, const AttachmentSnapshot& a, const std::string& base)
{
    bool any_loaded = false;
    for (int t = 0; t < TS_TABLES; ++t) {
        const TableSnapshot& table = a.tables[static_cast<std::size_t>(t)];
        if (!table.loaded)
            continue;
        any_loaded = true;
        const std::string labels = label_set(base, {{"table", table_name(t)}});
        ex.sample(f.table_capacity, labels, table.capacity);
        ex.sample(f.table_entries, labels, table.entries);
        ex.sample(f.table_active, labels, table.active ? 1 : 0);
        add(ex, f.table_overflow, labels, a.totals.table_overflow[static_cast<std::size_t>(t)]);
        add(ex, f.table_paused, labels, a.totals.table_paused[static_cast<std::size_t>(t)]);
        add_keys(ex, f.keys[static_cast<std::size_t>(t)], table, t, base);
    }
    if (any_loaded)
        add(ex, f.table_unkeyed, base, a.totals.table_unkeyed);
}

// --drops: per interface, direction, reason and class; the link counters.
// Reasons by name: values the kernel does not name are one `unknown` series.
void add_drops(Exposition& ex, const Families& f, const DropsReport& drops)
{
    for (const InterfaceDrops& i : drops.interfaces) {
        const std::string device = label_set({}, {{"device", i.ifname}});
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d)
            for (const ReasonDrops& reason : drops_by_reason(i.directions[d], drops))
                for (const auto& [cls, counted] : reason.classes) {
                    const auto ip = drop_class_ip(cls);
                    const std::string labels =
                        label_set(device, {{"direction", drop_direction_name(static_cast<ts_drop_direction>(d))},
                                           {"reason", reason.reason},
                                           {"ip", ip ? ip_version_name(*ip) : ""},
                                           {"class", drop_class_l4(cls)}});
                    ex.sample(f.drops, labels, counted.packets);
                    ex.sample(f.drop_bytes, labels, counted.bytes);
                }
        if (i.link)
            for (const LinkCounterField& field : kLinkCounterFields)
                ex.sample(f.link_stats, label_set(device, {{"stat", field.name}}), (*i.link).*field.member);
    }
    ex.sample(f.drops_missed, {}, drops.missed);
}

}  // namespace

std::string metrics_text(const AgentSnapshot& s, double scrape_duration_s)
{
    Exposition ex;
    const Families f = declare_families(ex);
    ex.sample(f.build_info, label_set({}, {{"version", TRAFSTAT_VERSION}}), 1);
    for (const AttachmentSnapshot& a : s.attachments) {
        const std::string base = label_set({}, {{"device", a.device}, {"hook", a.hook}});
        ex.sample(f.up, label_set(base, {{"mode", a.mode}}), a.up ? 1 : 0);
        ex.sample(f.attached_at, base, a.attached_at_s);
        add_traffic(ex, f, a, base);
        add_tables(ex, f, a, base);
    }
    if (s.drops)
        add_drops(ex, f, *s.drops);
    ex.sample(f.scrape_duration, {}, scrape_duration_s);
    return ex.text();
}

}  // namespace trafstat
