// Loading the counting program: open → set rodata → load, with no attach, so
// tests can load it alone. One CounterProgram per attachment keeps each
// attachment's counters apart.
#pragma once

#include "stats/counters.hpp"

#include <memory>
#include <string>

struct counter;  // generated skeleton (counter.skel.h)

namespace trafstat {

struct LoadOptions {
    bool drop_mode = false;  // XDP: count totals only and drop
    bool replay_mode = false;  // XDP: bytes from struct ts_replay_meta (replay of captures)
    // Non-zero: load the XDP entry device-bound to this interface (native
    // mode only), so it can read VLAN tags the driver stripped (Linux 6.8+).
    int xdp_dev_bound_ifindex = 0;
};

class CounterProgram {
public:
    // Throws Error(exit_code::load or ::privileges) with the verifier log tail.
    static CounterProgram load(const LoadOptions& options);

    // The XDP entry: device-bound (trafstat_xdpdev) when loaded so.
    int xdp_fd() const;
    int tc_fd() const;
    // The batch replay entry (loaded with replay_mode only).
    int replay_fd() const;
    int stats_map_fd() const;

    // Sums the per-CPU values over every possible CPU.
    ClassCounters read() const;

private:
    struct Deleter {
        void operator()(counter* skel) const;
    };
    CounterProgram(std::unique_ptr<counter, Deleter> skel, bool dev_bound)
        : skel_(std::move(skel)), dev_bound_(dev_bound) {}
    std::unique_ptr<counter, Deleter> skel_;
    bool dev_bound_ = false;
};

// Routes libbpf's messages: always kept (for error tails), printed only when verbose.
void init_libbpf_logging(bool verbose);
// The last `lines` lines libbpf printed (verifier log included).
std::string libbpf_log_tail(std::size_t lines);

}  // namespace trafstat
