// Loading the counting program: open → set rodata → load, with no attach, so
// tests can load it alone. One CounterProgram per attachment keeps each
// attachment's counters apart.
#pragma once

#include "bpf/counter_builds.hpp"
#include "bpf/epoch.hpp"
#include "bpf/fd.hpp"
#include "bpf/skeleton.hpp"
#include "bpf/table_reader.hpp"
#include "stats/counters.hpp"
#include "stats/flows.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct counter;  // generated skeleton (counter.skel.h)
struct bpf_program;

namespace trafstat {

// Every program trafstat loads is named trafstat_* (bpf/*.bpf.c), as the
// kernel keeps it: 15 characters at most. That tells trafstat's own programs
// from anyone else's on a hook or behind a pin.
inline bool is_trafstat_program(std::string_view name)
{
    return name.starts_with("trafstat_");
}

struct LoadOptions {
    bool drop_mode = false;    // XDP: count totals only and drop
    bool replay_mode = false;  // XDP: bytes from struct ts_replay_meta (replay of captures)
    // Non-zero: load the XDP entry device-bound to this interface (native
    // mode only), so it can read VLAN tags the driver stripped (Linux 6.8+).
    int xdp_dev_bound_ifindex = 0;
    // XDP: whether a frame may span several buffers, so that its length
    // needs bpf_xdp_get_buff_len. Off only for native mode below
    // kMaxSingleBufferMtu, where every frame is one buffer.
    bool frames_may_be_multibuf = true;
    // Generic XDP only (0 elsewhere): the interface's largest wire frame.
    // The program then counts a GSO super-packet as its wire segments and a
    // longer frame in ts_stats.super_packets.
    std::uint32_t max_wire_frame = 0;
    // The keyed tables counted (TS_TABLE_BIT()s; a table that is off costs
    // nothing per packet), the keys each one holds per interval, and the
    // slots of each CPU's cache in front of it (TableLayout::of()).
    std::uint32_t tables = 0;
    TableSizes table_size = kDefaultTableSizes;
    std::uint32_t cache_slots = TableLayout::kAutoCache;
    bool size_histogram = false;  // count frame sizes (ts_stats.size_hist)
    // Keys the pinned store of totals per key (key_totals) may hold, every
    // table's together: set for `trafstat attach` (0: one entry, unused).
    std::uint32_t key_totals = 0;
    // Which entry points to load (xdp_fd(), tc_fd() of the others are -1).
    bool load_xdp = true;
    bool load_tc = true;
    // Which build of the object (bpf/counter_builds.hpp); unset: the one
    // the running kernel's kfuncs fit. Set by tests only.
    std::optional<CounterBuild> build = std::nullopt;
};

class CounterProgram {
public:
    // Throws Error(exit_code::load or ::privileges) with the verifier log tail.
    static CounterProgram load(const LoadOptions& options);
    // The program of a pinned attachment (bpf/pins.hpp), from the maps pinned
    // in `dir`, counting on since its attach: its epoch goes on, its tables'
    // layout is read from its control block. It has no entry points
    // (xdp_fd(), tc_fd() are -1). Throws Error(exit_code::pin_dir) for maps
    // of another layout, Error(exit_code::not_attached) when they are gone.
    static CounterProgram adopt(const std::string& dir);
    // Pins the maps in `dir` (Pin names; the caller pins the link).
    void pin(const std::string& dir) const;

    // The control block (abi.h struct ts_control), shared with the program
    // and, once pinned, with every trafstat that adopts it.
    ts_control& control() { return *control_; }
    const ts_control& control() const { return *control_; }
    int key_totals_fd() const { return key_totals_.get(); }

    // The XDP entry: device-bound (trafstat_xdpdev*) when loaded so, for
    // generic XDP (trafstat_xdpgen*) when max_wire_frame is set, with the
    // keyed table (*_keyed) when it is on.
    int xdp_fd() const;
    int tc_fd() const;
    // The batch replay entry (loaded with replay_mode only).
    int replay_fd() const;
    // Loaded for generic XDP (LoadOptions::max_wire_frame): counts super-packets.
    bool counts_super_packets() const { return super_packets_; }

    // Totals since load: both halves of the counters, every possible CPU.
    ClassCounters read() const;
    // One half of the counters (an epoch parity), summed over the CPUs as
    // the kernel's struct (ts_control.merged_halves keeps them so).
    ts_stats read_half_raw(std::uint32_t half) const;

    // Closes the counting epoch (bpf/epoch.hpp): appends its table entries to
    // `out` and returns the half of the counters it counted in, so that the
    // two hold the same packets. `quiescent`: no program can be running
    // (replay between runs), no wait. Without halves (no table, no
    // histogram), nothing moves: half 0, the totals.
    HalfCounters close_epoch(TableEntries& out, bool quiescent = false);

    // The keyed tables alone, read by a TableReader (bpf/table_reader.hpp):
    // closes the epoch and appends its entries to `out`, per table. Returns
    // how many entries were read.
    std::size_t drain_tables(TableEntries& out, bool quiescent = false)
    {
        return drain_tables_with(tables_.method(), out, quiescent);
    }
    // TS_TABLE_BIT()s of the tables counted.
    std::uint32_t tables_on() const { return tables_.layout().on; }
    // Where the tables lie (slots per CPU's cache, shared slots, memory).
    const TableLayout& table_layout() const { return tables_.layout(); }
    // Slots of a table per interval, all CPUs together (0: the table is off).
    std::size_t table_capacity(ts_table t) const { return tables_.layout().capacity(t); }
    TableCapacities table_capacities() const
    {
        return {table_capacity(TS_TABLE_TALKERS), table_capacity(TS_TABLE_PORTS), table_capacity(TS_TABLE_FLOWS)};
    }
    // How drains read the tables: "mmap", or "batch" (bpf_map_lookup_batch)
    // where the array could not be mapped, or "lookup" (one syscall per
    // slot) where batch operations are refused too.
    std::string_view table_reader() const { return tables_.method_name(); }
    // For benchmarks: the tables' map, the epoch being counted now, and a
    // drain forced to read by batch lookups (or per slot) instead of mmap.
    int table_map_fd() const { return tables_.map_fd(); }
    std::uint32_t table_epoch() const { return epoch_.current(); }
    using Reader = TableReadMethod;
    std::size_t drain_tables_with(Reader reader, TableEntries& out, bool quiescent);
    // The entries of the closed epoch `epoch` (no epoch moves), read from
    // every slot of its parity rather than those its bitmap marks: for an
    // epoch that a process killed mid-drain may have partly cleared.
    std::size_t read_closed_epoch(std::uint32_t epoch, TableEntries& out);

private:
    struct Unmap {
        std::size_t bytes;
        void operator()(ts_control* p) const;
    };
    // One half of the counters (an epoch parity, abi.h) since load.
    ClassCounters read_half(std::uint32_t half) const;
    CounterProgram(Skeleton<counter> skel, Fd stats, Fd key_totals, TableReader tables, bool halves,
                   bool super_packets);
    Skeleton<counter> skel_;                              // null when adopted from pins
    Fd stats_;                                            // the per-CPU counters
    Fd key_totals_;                                       // the store of totals per key
    Fd control_fd_, tables_fd_, used_fd_;                 // adopted: the pinned maps
    std::unique_ptr<ts_control, Unmap> control_mapping_;  // adopted: the control block's mapping
    ts_control* control_ = nullptr;                       // the skeleton's .bss, or the mapping
    bpf_program* xdp_ = nullptr;                          // the XDP entry loaded (one of four)
    TableReader tables_;                                  // reads the maps above: destroyed first
    CountingEpoch epoch_;                                 // control_->counting_epoch
    bool halves_ = false;                                 // counts in epoch halves (rodata epoch_halves)
    bool super_packets_ = false;                          // loaded with max_wire_frame
};

}  // namespace trafstat
