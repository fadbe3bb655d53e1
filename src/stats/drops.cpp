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

std::vector<std::string> reconcile(const InterfaceDrops& drops)
{
    std::vector<std::string> errors;
    std::array<Counter, TS_DROP_DIRECTIONS> shown{};
    for (const DroppedFlow& f : drops.flows) {
        shown[f.key.direction].packets += f.counted.packets;
        shown[f.key.direction].bytes += f.counted.bytes;
    }
    for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
        const DirectionDrops& dir = drops.directions[d];
        const Counter total = dir.total();
        const Counter& rest = dir.flows_not_shown;
        const Counter& overflow = dir.flow_overflow;
        if (shown[d].packets + rest.packets + overflow.packets != total.packets ||
            shown[d].bytes + rest.bytes + overflow.bytes != total.bytes)
            errors.push_back(fmt::format(
                "drops of {} {}: flows shown {}/{} + not shown {}/{} + flow_overflow {}/{} != {}/{} packets/bytes",
                drops.ifname, drop_direction_name(static_cast<ts_drop_direction>(d)), shown[d].packets, shown[d].bytes,
                rest.packets, rest.bytes, overflow.packets, overflow.bytes, total.packets, total.bytes));
    }
    return errors;
}

void cut_dropped_flows(InterfaceDrops& drops, std::size_t top)
{
    std::vector<DroppedFlow>& flows = drops.flows;
    std::sort(flows.begin(), flows.end(), [](const DroppedFlow& a, const DroppedFlow& b) {
        return std::tie(b.counted.packets, b.counted.bytes, a.key) <
               std::tie(a.counted.packets, a.counted.bytes, b.key);
    });
    for (DirectionDrops& d : drops.directions) {
        d.flows = 0;
        d.flows_not_shown = {};
    }
    for (std::size_t i = 0; i < flows.size(); ++i) {
        DirectionDrops& d = drops.directions[flows[i].key.direction];
        ++d.flows;
        if (top && i >= top) {
            d.flows_not_shown.packets += flows[i].counted.packets;
            d.flows_not_shown.bytes += flows[i].counted.bytes;
        }
    }
    if (top && flows.size() > top)
        flows.resize(top);
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

void DropTotals::add(const DropDrain& drained)
{
    const std::vector<InterfaceDrops>& drain = drained.interfaces;
    missed_ += drained.missed;
    if (interfaces_.empty())
        for (const InterfaceDrops& d : drain) {
            Interface fresh;
            fresh.ifname = d.ifname;
            interfaces_.push_back(std::move(fresh));
        }
    for (std::size_t i = 0; i < drain.size() && i < interfaces_.size(); ++i) {
        Interface& to = interfaces_[i];
        const InterfaceDrops& from = drain[i];
        for (std::size_t d = 0; d < TS_DROP_DIRECTIONS; ++d) {
            for (const DropCount& c : from.directions[d].counts)
                add_to(to.counts[d][{c.reason, c.cls}], c.counted);
            add_to(to.flow_overflow[d], from.directions[d].flow_overflow);
        }
        for (const DroppedFlow& f : from.flows) {
            if (const auto kept = to.flows.find(f.key); kept != to.flows.end()) {
                add_to(kept->second, f.counted);
            } else if (flows_kept_ < max_flows_) {
                to.flows.emplace(f.key, f.counted);
                ++flows_kept_;
            } else {
                add_to(to.flows_not_kept[f.key.direction], f.counted);
            }
        }
        if (from.link) {
            if (!to.link)
                to.link = LinkCounters{};
            add_to(*to.link, *from.link);
        }
    }
}

std::vector<InterfaceDrops> DropTotals::totals(std::size_t top) const
{
    std::vector<InterfaceDrops> out;
    for (const Interface& i : interfaces_) {
        InterfaceDrops d;
        d.ifname = i.ifname;
        d.link = i.link;
        for (std::size_t dir = 0; dir < TS_DROP_DIRECTIONS; ++dir) {
            for (const auto& [key, counted] : i.counts[dir])
                d.directions[dir].counts.push_back({.reason = key.first, .cls = key.second, .counted = counted});
            d.directions[dir].flow_overflow = i.flow_overflow[dir];
        }
        for (const auto& [key, counted] : i.flows)
            d.flows.push_back({.key = key, .counted = counted});
        cut_dropped_flows(d, top);
        for (std::size_t dir = 0; dir < TS_DROP_DIRECTIONS; ++dir)
            add_to(d.directions[dir].flows_not_shown, i.flows_not_kept[dir]);
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace trafstat
