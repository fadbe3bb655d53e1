// Loading the counting program: open → set rodata → load, with no attach, so
// tests can load it alone. One CounterProgram per attachment keeps each
// attachment's counters apart.
#pragma once

#include "stats/counters.hpp"
#include "stats/flows.hpp"

#include <memory>
#include <string>

struct counter;  // generated skeleton (counter.skel.h)
struct bpf_program;

namespace trafstat {

struct LoadOptions {
    bool drop_mode = false;  // XDP: count totals only and drop
    bool replay_mode = false;  // XDP: bytes from struct ts_replay_meta (replay of captures)
    // Non-zero: load the XDP entry device-bound to this interface (native
    // mode only), so it can read VLAN tags the driver stripped (Linux 6.8+).
    int xdp_dev_bound_ifindex = 0;
    // XDP: whether a frame may span several buffers, so that its length
    // needs bpf_xdp_get_buff_len. Off only for native mode below
    // kMaxSingleBufferMtu, where every frame is one buffer.
    bool frames_may_be_multibuf = true;
    // The keyed table: TS_KEY_* fields of its key (0: no table, no cost per
    // packet) and its slots per CPU and interval (rounded up to a power of two).
    std::uint32_t flow_key_fields = 0;
    std::uint32_t flow_table_size = 65536;
    bool size_histogram = false;  // count frame sizes (ts_stats.size_hist)
    // Which entry points to load (xdp_fd(), tc_fd() of the others are -1).
    bool load_xdp = true;
    bool load_tc = true;
};

class CounterProgram {
public:
    // Throws Error(exit_code::load or ::privileges) with the verifier log tail.
    static CounterProgram load(const LoadOptions& options);

    // The XDP entry: device-bound (trafstat_xdpdev*) when loaded so, with the
    // keyed table (*_keyed) when it is on.
    int xdp_fd() const;
    int tc_fd() const;
    // The batch replay entry (loaded with replay_mode only).
    int replay_fd() const;
    int stats_map_fd() const;

    // Sums the per-CPU values over every possible CPU.
    ClassCounters read() const;

    // Moves the keyed table's entries counted since the last drain into
    // `out` (appended), leaving the table empty. Live: moves the program on to
    // the next epoch (the other half of the table), waits until no run can
    // still count into the old half, then reads it through mmap, so no
    // increment is lost. `quiescent`: the caller knows no program is running
    // (replay between batches); no wait. One entry per CPU that saw a key:
    // merge_by_key() sums them. Returns how many entries were read.
    std::size_t drain_flows(std::vector<FlowEntry>& out, bool quiescent = false);
    // Slots of the table per interval, all CPUs together (0: no table).
    std::size_t flow_capacity() const { return flows_.slots * flows_.cpus; }
    std::size_t flow_slots_per_cpu() const { return flows_.slots; }
    // For benchmarks: the table's map and the epoch being counted now.
    int flow_map_fd() const;
    std::uint32_t flow_epoch() const;

private:
    struct Deleter {
        void operator()(counter* skel) const;
    };
    // The keyed table's array, mapped read-only into this process.
    struct FlowMapping {
        const ts_flow_entry* entries = nullptr;
        std::size_t bytes = 0;
        std::size_t slots = 0;  // per CPU and epoch parity
        std::size_t cpus = 0;
        FlowMapping() = default;
        FlowMapping(FlowMapping&& o) noexcept { *this = std::move(o); }
        FlowMapping& operator=(FlowMapping&& o) noexcept;
        ~FlowMapping();
    };
    CounterProgram(std::unique_ptr<counter, Deleter> skel, bpf_program* xdp, FlowMapping flows)
        : skel_(std::move(skel)), xdp_(xdp), flows_(std::move(flows)) {}
    std::unique_ptr<counter, Deleter> skel_;
    bpf_program* xdp_ = nullptr;  // the XDP entry loaded (one of four)
    FlowMapping flows_;
};

// Routes libbpf's messages: always kept (for error tails), printed only when verbose.
void init_libbpf_logging(bool verbose);
// The last `lines` lines libbpf printed (verifier log included).
std::string libbpf_log_tail(std::size_t lines);

}  // namespace trafstat
