#include "output/report.hpp"
#include "output/labels.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <tuple>

namespace trafstat {

std::string attachment_title(const AttachmentReport& a)
{
    return a.mode.empty() ? fmt::format("{} {}", a.ifname, a.hook) : fmt::format("{} {}/{}", a.ifname, a.hook, a.mode);
}

std::string local_hms(std::chrono::system_clock::time_point t)
{
    const std::tm tm = fmt::localtime(std::chrono::system_clock::to_time_t(t));
    return fmt::format("{:%H:%M:%S}", tm);
}

std::string_view reason_name(const DropsReport& r, std::uint32_t reason)
{
    static const DropReasons unnamed;
    return (r.reasons ? *r.reasons : unnamed).name(reason);
}

std::string more_reasons(std::size_t n)
{
    return fmt::format("{} more reason{}", n, n == 1 ? "" : "s");
}

std::vector<ReasonDrops> drops_by_reason(const DirectionDrops& d, const DropsReport& r)
{
    std::map<std::string_view, std::map<std::uint32_t, Counter>> by_name;
    for (const DropCount& c : d.counts) {
        Counter& to = by_name[reason_name(r, c.reason)][c.cls];
        to.packets += c.counted.packets;
        to.bytes += c.counted.bytes;
    }
    auto larger = [](const Counter& a, const Counter& b) {
        return std::tie(a.packets, a.bytes) > std::tie(b.packets, b.bytes);
    };
    std::vector<ReasonDrops> out;
    for (const auto& [name, classes] : by_name) {
        ReasonDrops& reason = out.emplace_back();
        reason.reason = name;
        for (const auto& [cls, counted] : classes) {
            reason.counted.packets += counted.packets;
            reason.counted.bytes += counted.bytes;
            reason.classes.emplace_back(cls, counted);
        }
        // Stable: equal classes stay in class order, equal reasons in name order.
        std::stable_sort(reason.classes.begin(), reason.classes.end(),
                         [&](const auto& x, const auto& y) { return larger(x.second, y.second); });
    }
    std::stable_sort(out.begin(), out.end(),
                     [&](const ReasonDrops& x, const ReasonDrops& y) { return larger(x.counted, y.counted); });
    return out;
}

std::string classes_brief(const ReasonDrops& r, std::size_t most)
{
    if (r.classes.size() == 1)
        return drop_class_name(r.classes.front().first);
    std::string out;
    for (std::size_t i = 0; i < r.classes.size() && i < most; ++i)
        out += fmt::format("{}{} {}", i ? ", " : "", drop_class_name(r.classes[i].first), r.classes[i].second.packets);
    if (r.classes.size() > most)
        out += fmt::format(", +{} more", r.classes.size() - most);
    return out;
}

std::string moved_link_counters(const LinkCounters& c)
{
    std::string out;
    for (const LinkCounterField& f : kLinkCounterFields)
        if (c.*f.member)
            out += fmt::format("{}{} {}", out.empty() ? "" : ", ", f.name, c.*f.member);
    return out;
}

std::string dropped_flow_label(const DroppedFlow& f)
{
    if (!f.key.flow.ip_version)
        return drop_class_name(f.key.cls);
    return flow_label(FlowEntry{.key = f.key.flow, .stats = {}});
}

}  // namespace trafstat
