// What the counting engine reads from the kernel: a loaded counting program
// (live), a replay runner, or a fake in unit tests.
#pragma once

#include "stats/counters.hpp"
#include "stats/flows.hpp"

#include <cstddef>

namespace trafstat {

class CounterSource {
public:
    virtual ~CounterSource() = default;
    // Closes the counting epoch (abi.h): counting moves on to the next one,
    // and once nothing can still count into the closed one, its keyed-table
    // entries (one per key and CPU) are appended to `out` and the half of the
    // counters it counted in is returned, since load. The entries and that
    // half's growth since its last close hold the same packets.
    virtual HalfCounters close_epoch(TableEntries& out) = 0;
    // Slots per interval of each table, all CPUs together (0: off).
    virtual TableCapacities table_capacities() const = 0;
};

}  // namespace trafstat
