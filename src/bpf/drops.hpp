// The drop counter (bpf/drops.bpf.c, abi.h): what the kernel drops on the
// monitored interfaces, by direction, reason and class, and per dropped flow.
// Its programs are tp_btf links, detached when the DropCounter goes (or the
// process dies); they count into the half of the drop epoch, which drain()
// closes, so that every drain reconciles exactly (stats/drops.hpp).
//
//   DropCounter drops = DropCounter::attach({if_nametoindex("eth0")}, 4096);
//   for (const InterfaceDrops& d : drops.drain()) ... DropReasons::name(count.reason) ...
#pragma once

#include "bpf/epoch.hpp"
#include "bpf/skeleton.hpp"
#include "stats/drops.hpp"

#include <trafstat/abi.h>

#include <cstdint>
#include <span>
#include <vector>

struct drops;  // generated skeleton (drops.skel.h)

namespace trafstat {

class DropCounter {
public:
    // Dropped flows per interval, all interfaces together, unless asked otherwise.
    static constexpr std::uint32_t kDefaultFlowCapacity = 4096;

    // Loads and attaches the programs, monitoring `ifindexes` of the caller's
    // network namespace (1 to TS_DROP_MAX_IFACES, else Error(usage)), with room
    // for `flow_capacity` dropped flows per drain. `kernel_reasons`: the
    // kernel passes its drop reason to the tracepoint (Linux 5.17+, where its
    // BTF has enum skb_drop_reason: DropReasons::known()); else every drop
    // counts as unknown. Throws Error: privileges, load, attach.
    static DropCounter attach(std::span<const std::uint32_t> ifindexes, std::uint32_t flow_capacity,
                              bool kernel_reasons);

    DropCounter(DropCounter&&) noexcept;
    DropCounter& operator=(DropCounter&&) = delete;
    ~DropCounter();

    // What was dropped since the last drain (or attach), one entry per
    // monitored interface in attach order (ifname left empty; no link
    // counters), and the programs' runs the kernel skipped (recursion
    // misses): closes the drop epoch, reads the closed half and empties it.
    // `quiescent`: the caller knows no drop can be being counted (a test that
    // makes its drops itself, synchronously); no wait for running programs.
    DropDrain drain(bool quiescent = false);

private:
    DropCounter(Skeleton<drops> skel, std::size_t slots);

    Skeleton<drops> skel_;
    std::size_t slots_;
    CountingEpoch epoch_;
    ts_counter* counts_ = nullptr;  // drop_counts, mapped
    std::size_t counts_bytes_ = 0;
    std::uint64_t missed_before_ = 0;
};

}  // namespace trafstat
