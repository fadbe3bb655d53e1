#include "output/json.hpp"
#include "output/labels.hpp"
#include "output/report.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <optional>

namespace trafstat {

namespace {

using json = nlohmann::ordered_json;

// {"packets":n,"bytes":n}, plus "pps" and "bps" when `seconds` is given.
json counter_json(const Counter& c, std::optional<double> seconds)
{
    json j = {{"packets", c.packets}, {"bytes", c.bytes}};
    if (seconds) {
        const Rate r = rate(c, *seconds);
        j["pps"] = r.pps;
        j["bps"] = r.bps;
    }
    return j;
}

// Every class, always, even at zero: consumers never need a default.
json classes_json(const ClassCounters& c, std::optional<double> seconds)
{
    json j = json::object();
    for (int k = TS_CLASS_ALL; k < TS_CLASS_MAX; ++k) {
        const auto cls = static_cast<ts_class>(k);
        j[std::string{class_name(cls)}] = counter_json(c[cls], seconds);
    }
    return j;
}

// {"ipv4":{"tcp":{...},...,"malformed_l4":{...}},"ipv6":{...}}: L4 classes only.
json l4_by_ip_json(const ClassCounters& c)
{
    json j = json::object();
    for (int v = TS_IP_V4; v < TS_IP_VERSIONS; ++v) {
        json row = json::object();
        for (int k = TS_L4_FIRST; k <= TS_L4_LAST; ++k) {
            const auto& n = c.l4_by_ip[static_cast<std::size_t>(v)][static_cast<std::size_t>(k - TS_L4_FIRST)];
            row[std::string{class_name(static_cast<ts_class>(k))}] = counter_json(n, std::nullopt);
        }
        j[std::string{ip_version_name(static_cast<ts_ip_version>(v))}] = std::move(row);
    }
    return j;
}

// {"<table>":{"entries":n,"capacity":n,"counted":{...},"overflow":{...},"paused":{...},"unkeyed":{...}},...}
json tables_json(const std::vector<TableReport>& tables, const ClassCounters& c)
{
    json j = json::object();
    for (const TableReport& t : tables)
        j[t.name] = {{"entries", t.entries},
                     {"capacity", t.capacity},
                     {"counted", counter_json(t.counted, std::nullopt)},
                     {"aged", {{"entries", t.aged_keys}, {"packets", t.aged.packets}, {"bytes", t.aged.bytes}}},
                     {"overflow", counter_json(c.table_overflow[t.id], std::nullopt)},
                     {"paused", counter_json(c.table_paused[t.id], std::nullopt)},
                     {"unkeyed", counter_json(c.table_unkeyed, std::nullopt)}};
    return j;
}

// [{"min":0,"max":64,"packets":n,"bytes":n},...,{"min":1519,"max":null,...}]
json histogram_json(const ClassCounters& c)
{
    json list = json::array();
    for (std::size_t i = 0; i < c.size_hist.size(); ++i) {
        const SizeBucket b = size_bucket(i);
        json j = {
            {"min", b.min}, {"max", nullptr}, {"packets", c.size_hist[i].packets}, {"bytes", c.size_hist[i].bytes}};
        if (b.max)
            j["max"] = *b.max;
        list.push_back(std::move(j));
    }
    return list;
}

json talker_json(const Talker& t, std::optional<double> seconds)
{
    json j = {{"ip", format_ip(t.ip, t.ip_version)}};
    j.update(counter_json(t.total(), seconds));
    j["sent"] = counter_json(t.sent, std::nullopt);
    j["received"] = counter_json(t.received, std::nullopt);
    return j;
}

json port_json(const Port& p, std::optional<double> seconds)
{
    json j = {{"proto", proto_name(p.proto)}, {"port", p.port}, {"service", nullptr}};
    if (auto name = service_name(p.port, p.proto))
        j["service"] = *name;
    j.update(counter_json(p.total(), seconds));
    j["as_dst"] = counter_json(p.as_dst, std::nullopt);
    j["as_src"] = counter_json(p.as_src, std::nullopt);
    return j;
}

// Nanoseconds since the epoch as seconds, whole seconds first: a double keeps
// microseconds of a present-day time that way, not of the nanosecond count.
double epoch_seconds(std::uint64_t ns)
{
    return static_cast<double>(ns / 1'000'000'000) + static_cast<double>(ns % 1'000'000'000) / 1e9;
}

json flow_json(const FlowEntry& f, std::optional<double> seconds)
{
    json j = {{"src", format_ip(f.key.src, f.key.ip_version)},
              {"dst", format_ip(f.key.dst, f.key.ip_version)},
              {"sport", f.key.sport},
              {"dport", f.key.dport},
              {"proto", proto_name(f.key.proto)}};
    j.update(counter_json({f.stats.packets, f.stats.bytes}, seconds));
    // Seconds since the epoch; live, with the interval's resolution; null
    // for a replayed flow whose records had no time (docs/tables.md).
    const bool timed = f.stats.last_ns != 0 && f.stats.first_ns != ~std::uint64_t{0};
    j["first_seen"] = timed ? json(epoch_seconds(f.stats.first_ns)) : json(nullptr);
    j["last_seen"] = timed ? json(epoch_seconds(f.stats.last_ns)) : json(nullptr);
    if (f.key.proto == 6)
        j["tcp_flags"] = f.stats.tcp_flags;
    return j;
}

// The views of an attachment, in the order of its object's last keys: each
// handed to `emit(key, rows, row_json)`, whole or row by row.
template <typename Emit>
void each_view(const AttachmentReport& a, std::optional<double> seconds, Emit&& emit)
{
    if (a.views.talkers)
        emit("talkers", *a.views.talkers, [seconds](const Talker& t) { return talker_json(t, seconds); });
    if (a.views.ports)
        emit("ports", *a.views.ports, [seconds](const Port& p) { return port_json(p, seconds); });
    if (a.views.flows)
        emit("flows", *a.views.flows, [seconds](const FlowEntry& f) { return flow_json(f, seconds); });
}

// An interface object without its views (talkers, ports, flows), which come last.
json interface_json(const AttachmentReport& a, std::optional<double> seconds)
{
    json j = {
        {"name", a.ifname},
        {"hook", a.hook},
        {"mode", a.mode},
        {"classes", classes_json(a.counters, seconds)},
        {"l4_by_ip", l4_by_ip_json(a.counters)},
    };
    if (!a.tables.empty())
        j["tables"] = tables_json(a.tables, a.counters);
    if (a.histogram)
        j["histogram"] = histogram_json(a.counters);
    if (a.super_packets) {
        j["super_packets"] = counter_json(a.counters.super_packets, std::nullopt);
        j["segments_counted"] = true;
    }
    return j;
}

json interfaces_json(const std::vector<AttachmentReport>& attachments, std::optional<double> seconds)
{
    json list = json::array();
    for (const AttachmentReport& a : attachments) {
        json j = interface_json(a, seconds);
        each_view(a, seconds, [&j](const char* key, const auto& rows, const auto& row_json) {
            json& array = j[key] = json::array();
            for (const auto& row : rows)
                array.push_back(row_json(row));
        });
        list.push_back(std::move(j));
    }
    return list;
}

// One direction of an interface's drops: totals, per reason (largest first) and class, the flows.
json drop_direction_json(const DirectionDrops& d, const DropsReport& r, std::optional<double> seconds)
{
    json j = counter_json(d.total(), seconds);
    json by_reason = json::object();
    for (const ReasonDrops& reason : drops_by_reason(d, r)) {
        json classes = json::object();
        for (const auto& [cls, counted] : reason.classes)
            classes[drop_class_name(cls)] = counter_json(counted, std::nullopt);
        json& row = by_reason[std::string(reason.reason)];
        row = counter_json(reason.counted, std::nullopt);
        row["classes"] = std::move(classes);
    }
    j["reasons"] = std::move(by_reason);
    j["flow_overflow"] = counter_json(d.flow_overflow, std::nullopt);
    j["flows"] = d.flows;
    j["flows_not_shown"] = counter_json(d.flows_not_shown, std::nullopt);
    return j;
}

// "drops": one object per monitored interface (docs/json.md).
json drops_json(const DropsReport& r, std::optional<double> seconds)
{
    json list = json::array();
    for (const InterfaceDrops& i : r.interfaces) {
        json j = {{"name", i.ifname}};
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d)
            j[std::string(drop_direction_name(static_cast<ts_drop_direction>(d)))] =
                drop_direction_json(i.directions[d], r, seconds);
        if (i.link) {
            json link = json::object();
            for (const LinkCounterField& f : kLinkCounterFields)
                link[std::string(f.name)] = (*i.link).*f.member;
            j["link"] = std::move(link);
        }
        list.push_back(std::move(j));
    }
    return list;
}

// One row of "dropped_flows".
json dropped_flow_json(const DropsReport& r, const InterfaceDrops& i, const DroppedFlow& f)
{
    const FlowKey& k = f.key.flow;
    json j = {{"interface", i.ifname},
              {"direction", drop_direction_name(f.key.direction)},
              {"reason", reason_name(r, f.key.reason)},
              {"class", drop_class_name(f.key.cls)}};
    if (k.ip_version) {
        j["ip_version"] = k.ip_version;
        j["proto"] = proto_name(k.proto);
        j["src"] = format_ip(k.src, k.ip_version);
        j["dst"] = format_ip(k.dst, k.ip_version);
        j["sport"] = k.sport;
        j["dport"] = k.dport;
    }
    j.update(counter_json(f.counted, std::nullopt));
    return j;
}

// "dropped_flows": the flows of every monitored interface, as the report cut them.
json dropped_flows_json(const DropsReport& r)
{
    json list = json::array();
    for (const InterfaceDrops& i : r.interfaces)
        for (const DroppedFlow& f : i.flows)
            list.push_back(dropped_flow_json(r, i, f));
    return list;
}

void add_drops(json& j, const std::optional<DropsReport>& drops, std::optional<double> seconds)
{
    if (!drops)
        return;
    j["drops"] = drops_json(*drops, seconds);
    j["dropped_flows"] = dropped_flows_json(*drops);
    j["drops_missed"] = drops->missed;
}

// One JSON object written in pieces as compact as to_line() makes it whole:
// members built whole, and arrays written element by element, so that no
// piece holds more than one row of a view.
class ObjectStream {
public:
    explicit ObjectStream(const JsonSink& out) : out_(out) { out_("{"); }
    // The members of `object`, in its order.
    void members(const json& object)
    {
        const std::string text = to_line(object);
        if (text.size() <= 2)
            return;
        separate();
        out_(std::string_view(text).substr(1, text.size() - 2));
    }
    void begin_array(std::string_view key)
    {
        separate();
        out_(to_line(json(key)));
        out_(":[");
        first_element_ = true;
    }
    // Opens an element of the open array; the caller writes it.
    void begin_element()
    {
        if (!first_element_)
            out_(",");
        first_element_ = false;
    }
    void element(const json& value)
    {
        begin_element();
        out_(to_line(value));
    }
    void end_array() { out_("]"); }
    void end() { out_("}"); }

private:
    void separate()
    {
        if (!first_member_)
            out_(",");
        first_member_ = false;
    }
    const JsonSink& out_;
    bool first_member_ = true;
    bool first_element_ = true;
};

// A float nlohmann wrote in exponent form ("1e-06", "1.5e+17") in plain
// decimals with the same digits ("0.000001", "150000000000000000.0").
std::string plain_decimal(std::string_view number)
{
    const std::size_t e = number.find_first_of("eE");
    std::string_view mantissa = number.substr(0, e);
    const int exponent = std::stoi(std::string(number.substr(e + 1)));
    std::string out;
    if (mantissa.starts_with('-')) {
        out = "-";
        mantissa.remove_prefix(1);
    }
    const std::size_t dot = mantissa.find('.');
    std::string digits{mantissa.substr(0, dot)};
    if (dot != std::string_view::npos)
        digits += mantissa.substr(dot + 1);
    // Where the decimal point falls in `digits`.
    const long point = static_cast<long>(dot == std::string_view::npos ? mantissa.size() : dot) + exponent;
    const auto size = static_cast<long>(digits.size());
    if (point <= 0)
        out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    else if (point >= size)
        out += digits + std::string(static_cast<std::size_t>(point - size), '0') + ".0";
    else
        out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
    return out;
}

}  // namespace

// nlohmann writes floats below 1e-4 or from 1e15 with an exponent; strings are left alone.
std::string plain_decimals(std::string text)
{
    if (text.find_first_of("eE") == std::string::npos)
        return text;
    std::string out;
    out.reserve(text.size() + 16);
    bool in_string = false;
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size())
                out += text[++i];
            else if (c == '"')
                in_string = false;
            ++i;
        } else if (c == '"') {
            in_string = true;
            out += c;
            ++i;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const std::size_t end = text.find_first_not_of("0123456789+-.eE", i);
            const std::string_view number = std::string_view(text).substr(i, end - i);
            out += number.find_first_of("eE") == std::string_view::npos ? std::string(number) : plain_decimal(number);
            i = end == std::string::npos ? text.size() : end;
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

json interval_json(const IntervalReport& r)
{
    json j = {
        {"type", "interval"},
        {"time", iso8601_utc(r.time)},
        {"interval_s", r.interval_s},
        {"interfaces", interfaces_json(r.attachments, r.interval_s)},
        {"total", {{"classes", classes_json(total_of(r.attachments), r.interval_s)}}},
    };
    add_drops(j, r.drops, r.interval_s);
    return j;
}

json summary_json(const SummaryReport& r)
{
    json j = {
        {"type", "summary"},
        {"duration_s", r.duration_s},
        {"interfaces", interfaces_json(r.attachments, std::nullopt)},
        {"total", {{"classes", classes_json(total_of(r.attachments), std::nullopt)}}},
    };
    add_drops(j, r.drops, std::nullopt);
    return j;
}

void write_summary_json(const SummaryReport& r, const JsonSink& out)
{
    ObjectStream top(out);
    top.members({{"type", "summary"}, {"duration_s", r.duration_s}});
    top.begin_array("interfaces");
    for (const AttachmentReport& a : r.attachments) {
        top.begin_element();
        ObjectStream entry(out);
        entry.members(interface_json(a, std::nullopt));
        each_view(a, std::nullopt, [&entry](const char* key, const auto& rows, const auto& row_json) {
            entry.begin_array(key);
            for (const auto& row : rows)
                entry.element(row_json(row));
            entry.end_array();
        });
        entry.end();
    }
    top.end_array();
    json total = {{"total", {{"classes", classes_json(total_of(r.attachments), std::nullopt)}}}};
    if (r.drops)
        total["drops"] = drops_json(*r.drops, std::nullopt);
    top.members(total);
    if (r.drops) {
        top.begin_array("dropped_flows");
        for (const InterfaceDrops& i : r.drops->interfaces)
            for (const DroppedFlow& f : i.flows)
                top.element(dropped_flow_json(*r.drops, i, f));
        top.end_array();
        top.members({{"drops_missed", r.drops->missed}});
    }
    top.end();
}

std::string to_line(const json& j)
{
    // Interface names are bytes, not necessarily UTF-8: replace rather than throw.
    return plain_decimals(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string iso8601_utc(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto secs = floor<seconds>(ms);
    const std::tm tm = fmt::gmtime(system_clock::to_time_t(secs));
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", tm, (ms - secs).count());
}

}  // namespace trafstat
