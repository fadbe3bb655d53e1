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
    // The class counters since load, summed over CPUs.
    virtual ClassCounters read() = 0;
    // Appends the keyed tables' entries counted since the last drain (one per
    // key and CPU) to `out`, leaving the tables empty. Every packet an entry
    // holds is also in the counters read() returns after this call.
    virtual void drain_tables(TableEntries& out) = 0;
    // Slots per interval of each table, all CPUs together (0: off).
    virtual TableCapacities table_capacities() const = 0;
};

}  // namespace trafstat
