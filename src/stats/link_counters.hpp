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

}  // namespace trafstat
