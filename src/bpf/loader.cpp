#include "bpf/loader.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/per_cpu.hpp"
#include "bpf/pins.hpp"

#include "counter.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

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
    const CounterBuild build = options.build ? *options.build : counter_build_of_running_kernel();
    // Without the kfunc, the device-bound entry cannot load (before 6.3 nor
    // can device binding): refused before any verifying.
    if (options.xdp_dev_bound_ifindex && !reads_stripped_vlan_tags(build))
        throw Error(exit_code::load, fmt::format("the counter's {} build, for kernels without "
                                                 "bpf_xdp_metadata_rx_vlan_tag (Linux 6.8+), has no device-bound entry",
                                                 build_name(build)));
    Skeleton<counter> skel = open_skeleton([build] { return open_counter(build); }, counter__destroy, "the");
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
        tables.write_to(skel->bss->control);
        bpf_map__set_max_entries(skel->maps.tables, static_cast<__u32>(tables.entries));
        bpf_map__set_max_entries(skel->maps.table_used, static_cast<__u32>(tables.words));
        if (options.replay_mode)
            bpf_map__set_max_entries(skel->maps.table_times, static_cast<__u32>(tables.entries));
    }
    skel->bss->control.tables_active = tables.on;
    skel->bss->control.flags =
        (options.drop_mode ? TS_CONTROL_DROP_MODE : 0U) | (options.size_histogram ? TS_CONTROL_HISTOGRAM : 0U);
    if (options.key_totals)
        bpf_map__set_max_entries(skel->maps.key_totals, options.key_totals);
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
    Fd stats = Fd::duplicate(bpf_map__fd(skel->maps.stats));
    Fd totals = Fd::duplicate(bpf_map__fd(skel->maps.key_totals));
    CounterProgram p(std::move(skel), std::move(stats), std::move(totals), std::move(reader), halves,
                     options.max_wire_frame != 0);
    p.control_ = &p.skel_->bss->control;
    p.control_->layout_version = TS_LAYOUT_VERSION;
    p.epoch_ = CountingEpoch(&p.control_->counting_epoch);
    p.xdp_ = xdp;
    return p;
}

CounterProgram::CounterProgram(Skeleton<counter> skel, Fd stats, Fd key_totals, TableReader tables, bool halves,
                               bool super_packets)
    : skel_(std::move(skel)), stats_(std::move(stats)), key_totals_(std::move(key_totals)), tables_(std::move(tables)),
      epoch_(CountingEpoch::resume(nullptr)), halves_(halves), super_packets_(super_packets)
{}

void CounterProgram::Unmap::operator()(ts_control* p) const
{
    munmap(p, bytes);
}

namespace {

// A pinned map of the current layout, or an error naming what is wrong.
Fd open_pinned_map(const std::string& dir, Pin pin, std::uint32_t value_size)
{
    const std::string path = pin_path(dir, pin);
    Fd fd(open_pinned(path));
    if (!fd.valid())
        throw Error(exit_code::not_attached, fmt::format("{} is missing: the attachment in {} is incomplete "
                                                         "(trafstat detach removes what is left)",
                                                         path, dir));
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0 || info.value_size != value_size)
        throw Error(exit_code::pin_dir,
                    fmt::format("{} is not a map of pin layout v{} (its values are {} bytes, not {}): detach it with "
                                "the trafstat that made it",
                                path, TS_LAYOUT_VERSION, info.value_size, value_size));
    return fd;
}

}  // namespace

CounterProgram CounterProgram::adopt(const std::string& dir)
{
    Fd control_fd = open_pinned_map(dir, Pin::control, sizeof(ts_control));
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = (sizeof(ts_control) + page - 1) / page * page;
    void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, control_fd.get(), 0);
    if (mapped == MAP_FAILED)
        throw Error(errno == EPERM || errno == EACCES ? exit_code::privileges : exit_code::runtime,
                    fmt::format("cannot map {}: {}", pin_path(dir, Pin::control), errno_text(-errno)));
    std::unique_ptr<ts_control, Unmap> control(static_cast<ts_control*>(mapped), Unmap{bytes});
    if (control->layout_version != TS_LAYOUT_VERSION)
        throw Error(exit_code::pin_dir, fmt::format("{} holds pin layout v{}, and this trafstat reads v{}: detach it "
                                                    "with the trafstat that made it",
                                                    dir, control->layout_version, TS_LAYOUT_VERSION));
    const TableLayout layout = TableLayout::read_from(*control);
    Fd stats = open_pinned_map(dir, Pin::stats, sizeof(ts_stats));
    Fd tables = open_pinned_map(dir, Pin::tables, sizeof(ts_flow_entry));
    Fd used = open_pinned_map(dir, Pin::table_used, sizeof(std::uint64_t));
    Fd totals = open_pinned_map(dir, Pin::key_totals, sizeof(ts_total));
    TableReader reader(layout, tables.get(), used.get(), -1);
    const bool halves = layout.on != 0 || (control->flags & TS_CONTROL_HISTOGRAM);
    CounterProgram p(Skeleton<counter>(nullptr, counter__destroy), std::move(stats), std::move(totals),
                     std::move(reader), halves, false);
    p.control_fd_ = std::move(control_fd);
    p.tables_fd_ = std::move(tables);
    p.used_fd_ = std::move(used);
    p.control_ = control.get();
    p.control_mapping_ = std::move(control);
    p.epoch_ = CountingEpoch::resume(&p.control_->counting_epoch);
    return p;
}

void CounterProgram::pin(const std::string& dir) const
{
    pin_object(bpf_map__fd(skel_->maps.bss), pin_path(dir, Pin::control));
    pin_object(stats_.get(), pin_path(dir, Pin::stats));
    pin_object(bpf_map__fd(skel_->maps.tables), pin_path(dir, Pin::tables));
    pin_object(bpf_map__fd(skel_->maps.table_used), pin_path(dir, Pin::table_used));
    pin_object(key_totals_.get(), pin_path(dir, Pin::key_totals));
}

int CounterProgram::xdp_fd() const
{
    return xdp_ ? bpf_program__fd(xdp_) : -1;
}
int CounterProgram::replay_fd() const
{
    return skel_ ? bpf_program__fd(skel_->progs.trafstat_replay) : -1;
}
int CounterProgram::tc_fd() const
{
    if (!skel_)
        return -1;
    return bpf_program__fd(tables_on() ? skel_->progs.trafstat_tc_keyed : skel_->progs.trafstat_tc);
}
ClassCounters CounterProgram::read() const
{
    std::vector<ts_stats> both = read_per_cpu<ts_stats>(stats_.get(), 0, "the counters map");
    const std::vector<ts_stats> other = read_per_cpu<ts_stats>(stats_.get(), 1, "the counters map");
    both.insert(both.end(), other.begin(), other.end());
    return sum_per_cpu(both);
}

ClassCounters CounterProgram::read_half(std::uint32_t half) const
{
    return sum_per_cpu(read_per_cpu<ts_stats>(stats_.get(), half & 1, "the counters map"));
}

ts_stats CounterProgram::read_half_raw(std::uint32_t half) const
{
    // ts_stats is counters only (abi.h): summed as an array of them.
    static_assert(sizeof(ts_stats) % sizeof(ts_counter) == 0);
    constexpr std::size_t kCounters = sizeof(ts_stats) / sizeof(ts_counter);
    ts_stats sum{};
    auto* into = reinterpret_cast<ts_counter*>(&sum);
    for (const ts_stats& cpu : read_per_cpu<ts_stats>(stats_.get(), half & 1, "the counters map")) {
        const auto* from = reinterpret_cast<const ts_counter*>(&cpu);
        for (std::size_t i = 0; i < kCounters; ++i) {
            into[i].packets += from[i].packets;
            into[i].bytes += from[i].bytes;
        }
    }
    return sum;
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

std::size_t CounterProgram::read_closed_epoch(std::uint32_t epoch, TableEntries& out)
{
    // Whoever closed it may have died before waiting for the runs still counting into it.
    CountingEpoch::wait_for_running_programs();
    return tables_.read(tables_.method(), epoch, out, true);
}

}  // namespace trafstat
