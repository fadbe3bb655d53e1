#include "output/status.hpp"

#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace trafstat {
namespace {

using nlohmann::json;

json counter_json(const Counter& c)
{
    return {{"packets", c.packets}, {"bytes", c.bytes}};
}

std::string utc_time(double unix_s)
{
    const auto t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

json tables_json(const AttachmentSnapshot& a, const ClassCounters& c)
{
    json j = json::object();
    for (int t = 0; t < TS_TABLES; ++t) {
        const TableSnapshot& s = a.tables[t];
        if (!s.loaded)
            continue;
        j[std::string(table_name(t))] = {{"active", s.active},
                                         {"capacity", s.capacity},
                                         {"occupancy", s.entries},
                                         {"keys_kept", s.keys_kept},
                                         {"overflow", counter_json(c.table_overflow[t])},
                                         {"paused", counter_json(c.table_paused[t])}};
    }
    return j;
}

}  // namespace

std::string status_json(const StatusReport& report)
{
    json list = json::array();
    for (const AttachmentStatus& s : report.attachments) {
        const AttachmentSnapshot& a = s.attachment;
        json j = {{"dir", s.dir}, {"ifname", a.device}, {"hook", a.hook}};
        if (!s.error.empty()) {
            j["error"] = s.error;
            list.push_back(std::move(j));
            continue;
        }
        j["mode"] = a.mode;
        j["state"] = s.stale.empty() ? "counting" : "stale";
        if (!s.stale.empty())
            j["stale"] = s.stale;
        j["ifindex"] = s.ifindex;
        j["netns_cookie"] = s.netns_cookie;
        j["program_id"] = s.program_id;
        j["link_id"] = s.link_id;
        j["attached_at"] = utc_time(a.attached_at_s);
        j["drop_mode"] = a.drop_mode;
        j["histogram"] = s.histogram;
        j["agent"] = {{"serving", s.agent_serving}, {"pid", s.agent_pid}};
        j["total"] = counter_json(a.totals[TS_CLASS_ALL]);
        if (a.drop_mode)
            j["dropped"] = counter_json(a.totals[TS_CLASS_ALL]);
        j["tables"] = tables_json(a, a.totals);
        list.push_back(std::move(j));
    }
    return json{{"pin_dir", report.pin_dir}, {"layout", report.layout}, {"attachments", std::move(list)}}.dump();
}

std::string status_text(const StatusReport& report)
{
    if (report.attachments.empty())
        return fmt::format("no trafstat attachment under {}\n", report.pin_dir);
    std::string out;
    for (const AttachmentStatus& s : report.attachments) {
        const AttachmentSnapshot& a = s.attachment;
        if (!s.error.empty()) {
            out += fmt::format("{} {}: unreadable: {}\n", a.device, a.hook, s.error);
            continue;
        }
        out += fmt::format("{} {} ({}): {}, program {} link {}, since {}{}\n", a.device, a.hook, a.mode,
                           s.stale.empty() ? "counting" : "STALE: " + s.stale, s.program_id, s.link_id,
                           utc_time(a.attached_at_s), a.drop_mode ? ", DROPPING every packet" : "");
        out += fmt::format("  total {} packets, {} bytes{}; agent: {}\n", a.totals[TS_CLASS_ALL].packets,
                           a.totals[TS_CLASS_ALL].bytes, a.drop_mode ? " (all dropped)" : "",
                           s.agent_serving ? fmt::format("serving (pid {})", s.agent_pid) : "none");
        for (int t = 0; t < TS_TABLES; ++t) {
            const TableSnapshot& tb = a.tables[t];
            if (!tb.loaded)
                continue;
            out += fmt::format("  {:<8} {:<3} capacity {}, last interval {} keys, {} keys kept, overflow {} "
                               "packets, paused {} packets\n",
                               table_name(t), tb.active ? "on" : "off", tb.capacity, tb.entries, tb.keys_kept,
                               a.totals.table_overflow[t].packets, a.totals.table_paused[t].packets);
        }
        out += fmt::format("  pins: {}\n", s.dir);
    }
    return out;
}

}  // namespace trafstat
