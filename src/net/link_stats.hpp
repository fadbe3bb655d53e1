// An interface's own drop and error counters (stats/link_counters.hpp), read
// from the kernel over rtnetlink (RTM_GETLINK, IFLA_STATS64) with libnl-route.
#pragma once

#include "stats/link_counters.hpp"

#include <cstdint>

namespace trafstat {

// The counters of `ifindex` in the caller's network namespace, now. Throws
// Error(exit_code::runtime) naming the ifindex when they cannot be read,
// an interface that is gone included.
LinkCounters link_counters(std::uint32_t ifindex);

}  // namespace trafstat
