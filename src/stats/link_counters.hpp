// An interface's own drop and error counters, as the kernel keeps them for the
// link (IFLA_STATS64, the files of /sys/class/net/<if>/statistics/). Pure: the
// net layer reads them (net/link_stats.hpp), renderers print them by the one
// field table below.
#pragma once

#include "stats/counters.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace trafstat {

struct LinkCounters {
    std::uint64_t rx_dropped = 0;
    std::uint64_t tx_dropped = 0;
    std::uint64_t rx_errors = 0;
    std::uint64_t tx_errors = 0;
    std::uint64_t rx_missed_errors = 0;
    std::uint64_t rx_nohandler = 0;
    friend bool operator==(const LinkCounters&, const LinkCounters&) = default;
};

struct LinkCounterField {
    std::string_view name;  // the kernel's name (rtnl_link_stats64, sysfs, JSON key)
    std::uint64_t LinkCounters::*member;
};

// Every field of LinkCounters, in output order: renderers iterate it, so each
// name is written once.
inline constexpr std::array<LinkCounterField, 6> kLinkCounterFields{{
    {"rx_dropped", &LinkCounters::rx_dropped},
    {"tx_dropped", &LinkCounters::tx_dropped},
    {"rx_errors", &LinkCounters::rx_errors},
    {"tx_errors", &LinkCounters::tx_errors},
    {"rx_missed_errors", &LinkCounters::rx_missed_errors},
    {"rx_nohandler", &LinkCounters::rx_nohandler},
}};
static_assert(sizeof(LinkCounters) == kLinkCounterFields.size() * sizeof(std::uint64_t),
              "every field of LinkCounters is in kLinkCounterFields");

// now - before, field by field; a field that went backwards (interface
// recreated, counters reset) yields `now` for that field, as grown() does.
constexpr LinkCounters delta(const LinkCounters& now, const LinkCounters& before)
{
    LinkCounters d;
    for (const LinkCounterField& f : kLinkCounterFields)
        d.*f.member = grown(now.*f.member, before.*f.member);
    return d;
}

}  // namespace trafstat
