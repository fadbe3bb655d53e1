// The drop counter (bpf/drops.bpf.c): what the kernel drops on the monitored
// interfaces, by reason and direction. Its programs are tp_btf links,
// detached when the DropCounter goes (or the process dies).
//
//   DropCounter drops = DropCounter::attach();
//   drops.monitor(if_nametoindex("eth0"));
//   for (const DropCount& d : drops.read()) ... DropReasons::name(d.reason) ...
#pragma once

#include "bpf/skeleton.hpp"

#include <trafstat/abi.h>

#include <cstdint>
#include <vector>

struct drops;  // generated skeleton (drops.skel.h)

namespace trafstat {

// The drops of one interface, direction and reason since attach, over all CPUs.
struct DropCount {
    std::uint32_t ifindex = 0;
    ts_drop_direction direction = TS_DROP_RECEIVED;
    std::uint32_t reason = 0;  // abi.h: the kernel's value, or TS_DROP_REASON_*
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;  // skb->len; 0 for XDP's failures (the event has no packet)

    bool operator==(const DropCount&) const = default;
};

class DropCounter {
public:
    // Loads and attaches the programs. Throws Error: privileges, load, attach.
    static DropCounter attach();

    // Counts the drops of interface `ifindex` of the caller's network
    // namespace from now on. Throws Error(exit_code::usage) past
    // TS_DROP_MAX_IFACES interfaces.
    void monitor(std::uint32_t ifindex);

    // Each monitored interface's non-zero counts, in (interface, direction, reason) order.
    std::vector<DropCount> read() const;

private:
    explicit DropCounter(Skeleton<drops> skel) : skel_(std::move(skel)) {}

    Skeleton<drops> skel_;
    std::vector<std::uint32_t> ifindexes_;  // by slot
};

}  // namespace trafstat
