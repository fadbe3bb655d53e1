#include "bpf/loader.hpp"

#include "bpf/per_cpu.hpp"

#include "counter.skel.h"

#include <bpf/libbpf.h>
#include <sys/random.h>

#include <chrono>
#include <utility>
#include <vector>

namespace trafstat {
namespace {

// Linux 6.3 UAPI; the 6.1 headers lack it.
constexpr __u32 kBpfFXdpDevBoundOnly = 1U << 6;

}  // namespace

CounterProgram CounterProgram::load(const LoadOptions& options)
{
    Skeleton<counter> skel = open_skeleton(counter__open, counter__destroy, "the");
    skel->rodata->drop_mode = options.drop_mode;
    skel->rodata->replay_mode = options.replay_mode;
    skel->rodata->size_histogram = options.size_histogram;
    skel->rodata->frames_may_be_multibuf = options.frames_may_be_multibuf;
    skel->rodata->max_wire_frame = options.max_wire_frame;
    // Counting in epoch halves makes an interval's counters close with its
    // table entries (abi.h); without a table or the histogram, one counter
    // write per packet needs no epoch.
    const bool halves = options.tables != 0 || options.size_histogram;
    skel->rodata->epoch_halves = halves;
    // The keyed tables, one after the other in one array (TableLayout). None
    // on, the array keeps one slot: a map cannot be left out of an object.
    const TableLayout tables = TableLayout::of(options.tables, options.table_size, options.cache_slots);
    if (tables.on) {
        std::uint32_t fields = 0;
        for (int t = 0; t < TS_TABLES; ++t) {
            if (!tables.shared[t])
                continue;
            fields |= TS_TABLE_KEY_FIELDS(t);
            skel->rodata->cache_slots[t] = static_cast<__u32>(tables.cache[t]);
            skel->rodata->cache_probes[t] = static_cast<__u32>(tables.cache_probes[t]);
            skel->rodata->shared_slots[t] = static_cast<__u32>(tables.shared[t]);
            skel->rodata->table_first[t] = static_cast<__u32>(tables.first[t]);
            skel->rodata->table_half[t] = static_cast<__u32>(tables.half(t));
            skel->rodata->used_first[t] = static_cast<__u32>(tables.used_first[t]);
            skel->rodata->used_half[t] = static_cast<__u32>(tables.half_words(t));
        }
        skel->rodata->tables_on = tables.on;
        skel->rodata->key_fields = fields;
        skel->rodata->table_cpus = static_cast<__u32>(tables.cpus);
        std::uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
            seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        skel->rodata->table_seed = seed;
        bpf_map__set_max_entries(skel->maps.tables, static_cast<__u32>(tables.entries));
        bpf_map__set_max_entries(skel->maps.table_used, static_cast<__u32>(tables.words));
        if (options.replay_mode)
            bpf_map__set_max_entries(skel->maps.table_times, static_cast<__u32>(tables.entries));
    }
    bpf_program__set_autoload(skel->progs.trafstat_replay, options.replay_mode);
    // Each XDP entry comes with and without the keyed table compiled in:
    // load the one wanted. The device-bound entry loads only on request: it
    // cannot load unbound.
    const bool keyed = tables.on != 0;
    const bool bound = options.xdp_dev_bound_ifindex != 0;
    // Verifying a program is most of the load time: load only the entries asked for.
    const bool want_xdp = options.load_xdp || options.replay_mode;
    // Generic XDP (max_wire_frame set) has entries of its own, which count
    // super-packets as their segments; the others carry no code for it.
    const bool generic = options.max_wire_frame != 0;
    bpf_program__set_autoload(skel->progs.trafstat_xdp, want_xdp && !bound && !generic && !keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdp_keyed, want_xdp && !bound && !generic && keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdpgen, want_xdp && !bound && generic && !keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdpgen_keyed, want_xdp && !bound && generic && keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdpdev, want_xdp && bound && !keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdpdev_keyed, want_xdp && bound && keyed);
    bpf_program__set_autoload(skel->progs.trafstat_tc, options.load_tc && !keyed);
    bpf_program__set_autoload(skel->progs.trafstat_tc_keyed, options.load_tc && keyed);
    bpf_program* xdpdev = keyed ? skel->progs.trafstat_xdpdev_keyed : skel->progs.trafstat_xdpdev;
    if (options.xdp_dev_bound_ifindex) {
        bpf_program__set_ifindex(xdpdev, static_cast<__u32>(options.xdp_dev_bound_ifindex));
        bpf_program__set_flags(xdpdev, bpf_program__flags(xdpdev) | kBpfFXdpDevBoundOnly);
    }

    load_skeleton(counter__load, *skel, "the");
    // Replay keeps each slot's capture times (table_times); live, the drain dates them.
    TableReader reader(tables, bpf_map__fd(skel->maps.tables), bpf_map__fd(skel->maps.table_used),
                       options.replay_mode ? bpf_map__fd(skel->maps.table_times) : -1);
    bpf_program* plain = keyed ? skel->progs.trafstat_xdp_keyed : skel->progs.trafstat_xdp;
    bpf_program* gen = keyed ? skel->progs.trafstat_xdpgen_keyed : skel->progs.trafstat_xdpgen;
    bpf_program* xdp = bound ? xdpdev : generic ? gen : plain;
    CountingEpoch epoch(&skel->bss->counting_epoch);
    return CounterProgram(std::move(skel), xdp, std::move(reader), epoch, halves, options.max_wire_frame != 0);
}

int CounterProgram::xdp_fd() const
{
    return bpf_program__fd(xdp_);
}
int CounterProgram::replay_fd() const
{
    return bpf_program__fd(skel_->progs.trafstat_replay);
}
int CounterProgram::tc_fd() const
{
    return bpf_program__fd(tables_on() ? skel_->progs.trafstat_tc_keyed : skel_->progs.trafstat_tc);
}
ClassCounters CounterProgram::read() const
{
    std::vector<ts_stats> both = read_per_cpu<ts_stats>(skel_->maps.stats, 0, "the counters map");
    const std::vector<ts_stats> other = read_per_cpu<ts_stats>(skel_->maps.stats, 1, "the counters map");
    both.insert(both.end(), other.begin(), other.end());
    return sum_per_cpu(both);
}

ClassCounters CounterProgram::read_half(std::uint32_t half) const
{
    return sum_per_cpu(read_per_cpu<ts_stats>(skel_->maps.stats, half & 1, "the counters map"));
}

HalfCounters CounterProgram::close_epoch(TableEntries& out, bool quiescent)
{
    if (!halves_)
        return {0, read_half(0)};
    const std::uint32_t closed = epoch_.close(quiescent);
    tables_.read(tables_.method(), closed, out);
    return {closed & 1, read_half(closed)};
}

std::size_t CounterProgram::drain_tables_with(Reader reader, TableEntries& out, bool quiescent)
{
    if (!tables_on())
        return 0;
    return tables_.read(reader, epoch_.close(quiescent), out);
}

}  // namespace trafstat
