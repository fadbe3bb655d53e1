#include "stats/drops.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace trafstat {

std::string_view DropReasons::name(std::uint32_t reason) const
{
    switch (reason) {
    case TS_DROP_REASON_XDP_ABORTED:
        return "xdp_aborted";
    case TS_DROP_REASON_XDP_INVALID:
        return "xdp_invalid";
    default:
        if (reason < names_.size() && !names_[reason].empty())
            return names_[reason];
        return "unknown";
    }
}

std::string_view drop_direction_name(ts_drop_direction d)
{
    return d == TS_DROP_RECEIVED ? "received" : "leaving";
}

std::optional<ts_ip_version> drop_class_ip(std::uint32_t cls)
{
    if (cls < TS_DROP_CLASS_IP(TS_IP_V4, TS_L4_FIRST) || cls >= TS_DROP_CLASSES)
        return std::nullopt;
    return static_cast<ts_ip_version>((cls - TS_DROP_CLASS_IP(TS_IP_V4, TS_L4_FIRST)) / TS_L4_COUNT);
}

std::string_view drop_class_l4(std::uint32_t cls)
{
    if (cls == TS_DROP_CLASS_UNPARSED || cls >= TS_DROP_CLASSES)
        return "unparsed";
    if (const auto ip = drop_class_ip(cls))
        return class_name(static_cast<ts_class>(TS_L4_FIRST + cls - TS_DROP_CLASS_IP(*ip, TS_L4_FIRST)));
    return class_name(static_cast<ts_class>(TS_CLASS_ARP + cls - TS_DROP_CLASS_NON_IP(TS_CLASS_ARP)));
}

std::string drop_class_name(std::uint32_t cls)
{
    if (const auto ip = drop_class_ip(cls))
        return fmt::format("{}/{}", ip_version_name(*ip), drop_class_l4(cls));
    return std::string(drop_class_l4(cls));
}

Counter DirectionDrops::total() const
{
    Counter t;
    for (const DropCount& c : counts) {
        t.packets += c.counted.packets;
        t.bytes += c.counted.bytes;
    }
    return t;
}

std::vector<std::string> reconcile(const InterfaceDrops& drops, bool flows_complete)
{
    std::vector<std::string> errors;
    if (!flows_complete)
        return errors;
    std::array<Counter, TS_DROP_DIRECTIONS> in_flows{};
    for (const DroppedFlow& f : drops.flows) {
        in_flows[f.key.direction].packets += f.counted.packets;
        in_flows[f.key.direction].bytes += f.counted.bytes;
    }
    for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
        const Counter total = drops.directions[d].total();
        const Counter& overflow = drops.directions[d].flow_overflow;
        if (in_flows[d].packets + overflow.packets != total.packets ||
            in_flows[d].bytes + overflow.bytes != total.bytes)
            errors.push_back(fmt::format("drops of {} {}: flows {}/{} + flow_overflow {}/{} != {}/{} packets/bytes",
                                         drops.ifname, drop_direction_name(static_cast<ts_drop_direction>(d)),
                                         in_flows[d].packets, in_flows[d].bytes, overflow.packets, overflow.bytes,
                                         total.packets, total.bytes));
    }
    return errors;
}

std::vector<DroppedFlow> top_dropped_flows(std::vector<DroppedFlow> flows, std::size_t top)
{
    std::sort(flows.begin(), flows.end(), [](const DroppedFlow& a, const DroppedFlow& b) {
        return std::tie(b.counted.packets, b.counted.bytes, a.key) <
               std::tie(a.counted.packets, a.counted.bytes, b.key);
    });
    if (top && flows.size() > top)
        flows.resize(top);
    return flows;
}

namespace {

void add_to(Counter& to, const Counter& c)
{
    to.packets += c.packets;
    to.bytes += c.bytes;
}

void add_to(LinkCounters& to, const LinkCounters& c)
{
    for (const LinkCounterField& f : kLinkCounterFields)
        to.*f.member += c.*f.member;
}

}  // namespace

void DropTotals::add(const std::vector<InterfaceDrops>& drain)
{
    if (interfaces_.empty())
        for (const InterfaceDrops& d : drain)
            interfaces_.push_back({.ifname = d.ifname});
    for (std::size_t i = 0; i < drain.size() && i < interfaces_.size(); ++i) {
        Interface& to = interfaces_[i];
        const InterfaceDrops& from = drain[i];
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
            for (const DropCount& c : from.directions[d].counts)
                add_to(to.counts[d][{c.reason, c.cls}], c.counted);
            add_to(to.flow_overflow[d], from.directions[d].flow_overflow);
        }
        for (const DroppedFlow& f : from.flows)
            add_to(to.flows[f.key], f.counted);
        if (from.link) {
            if (!to.link)
                to.link = LinkCounters{};
            add_to(*to.link, *from.link);
        }
    }
}

std::vector<InterfaceDrops> DropTotals::totals() const
{
    std::vector<InterfaceDrops> out;
    for (const Interface& i : interfaces_) {
        InterfaceDrops d{.ifname = i.ifname, .link = i.link};
        for (std::size_t dir = 0; dir < TS_DROP_DIRECTIONS; ++dir) {
            for (const auto& [key, counted] : i.counts[dir])
                d.directions[dir].counts.push_back({.reason = key.first, .cls = key.second, .counted = counted});
            d.directions[dir].flow_overflow = i.flow_overflow[dir];
        }
        for (const auto& [key, counted] : i.flows)
            d.flows.push_back({.key = key, .counted = counted});
        d.flows = top_dropped_flows(std::move(d.flows), 0);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace trafstat
