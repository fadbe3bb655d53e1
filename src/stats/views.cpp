#include "stats/views.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace trafstat {

namespace {

void add(Counter& c, const FlowStats& s)
{
    c.packets += s.packets;
    c.bytes += s.bytes;
}

std::uint64_t by(const Counter& c, SortKey key)
{
    return key == SortKey::bps || key == SortKey::bytes ? c.bytes : c.packets;
}

template <class Row, class Tie, class Value>
void sort_rows(std::vector<Row>& rows, SortKey key, std::size_t top, Tie tie, Value value)
{
    auto larger = [&](const Row& a, const Row& b) {
        const auto x = by(value(a), key), y = by(value(b), key);
        return x != y ? x > y : tie(a) < tie(b);
    };
    if (top && top < rows.size()) {
        std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top), rows.end(), larger);
        rows.resize(top);
    } else {
        std::sort(rows.begin(), rows.end(), larger);
    }
}

}  // namespace

bool has_ports(std::uint8_t proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

std::vector<Talker> talkers_of(std::span<const FlowEntry> entries)
{
    std::map<std::pair<std::array<std::uint8_t, 16>, std::uint8_t>, Talker> by_ip;
    for (const FlowEntry& e : entries) {
        if (e.key.src == std::array<std::uint8_t, 16>{} && e.key.dst == std::array<std::uint8_t, 16>{})
            continue;  // keyed without addresses
        Talker& src = by_ip[{e.key.src, e.key.ip_version}];
        src.ip = e.key.src;
        src.ip_version = e.key.ip_version;
        add(src.sent, e.stats);
        Talker& dst = by_ip[{e.key.dst, e.key.ip_version}];
        dst.ip = e.key.dst;
        dst.ip_version = e.key.ip_version;
        add(dst.received, e.stats);
    }
    std::vector<Talker> out;
    out.reserve(by_ip.size());
    for (auto& [k, t] : by_ip)
        out.push_back(t);
    return out;
}

std::vector<Port> ports_of(std::span<const FlowEntry> entries)
{
    std::map<std::pair<std::uint8_t, std::uint16_t>, Port> by_port;
    for (const FlowEntry& e : entries) {
        if (!has_ports(e.key.proto) || (e.key.sport == 0 && e.key.dport == 0))
            continue;  // no ports: ICMP, fragments, a table keyed without them
        Port& d = by_port[{e.key.proto, e.key.dport}];
        d.proto = e.key.proto;
        d.port = e.key.dport;
        add(d.as_dst, e.stats);
        Port& s = by_port[{e.key.proto, e.key.sport}];
        s.proto = e.key.proto;
        s.port = e.key.sport;
        add(s.as_src, e.stats);
    }
    std::vector<Port> out;
    out.reserve(by_port.size());
    for (auto& [k, p] : by_port)
        out.push_back(p);
    return out;
}

void sort_top(std::vector<Talker>& rows, SortKey key, std::size_t top, TalkerSide side)
{
    sort_rows(
        rows, key, top, [](const Talker& t) { return std::tie(t.ip_version, t.ip); },
        [side](const Talker& t) {
            return side == TalkerSide::src ? t.sent : side == TalkerSide::dst ? t.received : t.total();
        });
}

void sort_top(std::vector<Port>& rows, SortKey key, std::size_t top)
{
    sort_rows(
        rows, key, top, [](const Port& p) { return std::tie(p.proto, p.port); },
        [](const Port& p) { return p.total(); });
}

void sort_top(std::vector<FlowEntry>& rows, SortKey key, std::size_t top)
{
    auto larger = [&](const FlowEntry& a, const FlowEntry& b) {
        const auto x = by({a.stats.packets, a.stats.bytes}, key), y = by({b.stats.packets, b.stats.bytes}, key);
        return x != y ? x > y : a.key < b.key;
    };
    if (top && top < rows.size()) {
        std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top), rows.end(), larger);
        rows.resize(top);
    } else {
        std::sort(rows.begin(), rows.end(), larger);
    }
}

}  // namespace trafstat
