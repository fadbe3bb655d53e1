// (placeholder until the linkstats branch lands: the interface's own counters)
#pragma once

#include <cstdint>

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

inline LinkCounters delta(const LinkCounters& now, const LinkCounters& before)
{
    const auto d = [](std::uint64_t n, std::uint64_t b) { return n >= b ? n - b : n; };
    return {d(now.rx_dropped, before.rx_dropped),       d(now.tx_dropped, before.tx_dropped),
            d(now.rx_errors, before.rx_errors),         d(now.tx_errors, before.tx_errors),
            d(now.rx_missed_errors, before.rx_missed_errors), d(now.rx_nohandler, before.rx_nohandler)};
}

}  // namespace trafstat
