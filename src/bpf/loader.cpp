#include "bpf/loader.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/per_cpu.hpp"

#include "counter.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <thread>
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
    // The keyed tables, one after the other in one array, each
    // [epoch parity][cpu][slot]. None on, the array keeps one slot: a map
    // cannot be left out of an object.
    TableMapping tables;
    tables.on = options.tables & ((1U << TS_TABLES) - 1);
    if (tables.on) {
        tables.cpus = possible_cpus();
        std::size_t entries = 0;
        std::uint32_t fields = 0;
        for (int t = 0; t < TS_TABLES; ++t) {
            if (!(tables.on & TS_TABLE_BIT(t)))
                continue;
            const std::size_t slots = std::bit_ceil(std::max<std::size_t>(options.table_size[t], 1));
            if (slots > (1U << 30))
                throw Error(exit_code::usage, fmt::format("{} table of {} slots per CPU is too large", table_name(t), slots));
            tables.slots[t] = slots;
            tables.first[t] = entries;
            entries += 2 * tables.cpus * slots;
            fields |= TS_TABLE_KEY_FIELDS(t);
            skel->rodata->table_slots[t] = static_cast<__u32>(slots);
            skel->rodata->table_first[t] = static_cast<__u32>(tables.first[t]);
        }
        if (entries * sizeof(ts_flow_entry) > (std::size_t{1} << 34))
            throw Error(exit_code::usage,
                        fmt::format("keyed tables of {} slots in all are too large (16 GiB at most)", entries));
        tables.bytes = entries * sizeof(ts_flow_entry);
        skel->rodata->tables_on = tables.on;
        skel->rodata->key_fields = fields;
        skel->rodata->table_cpus = static_cast<__u32>(tables.cpus);
        std::uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
            seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        skel->rodata->table_seed = seed;
        bpf_map__set_max_entries(skel->maps.tables, static_cast<__u32>(entries));
        if (options.replay_mode) {
            tables.timed = true;
            tables.times_bytes = entries * sizeof(ts_flow_times);
            bpf_map__set_max_entries(skel->maps.table_times, static_cast<__u32>(entries));
        }
    }
    bpf_program__set_autoload(skel->progs.trafstat_replay, options.replay_mode);
    // Each XDP entry comes with and without the keyed table compiled in:
    // load the one wanted. The device-bound entry loads only on request: it
    // cannot load unbound.
    const bool keyed = tables.on != 0;
    const bool bound = options.xdp_dev_bound_ifindex != 0;
    // Verifying a program is most of the load time: load only the entries asked for.
    const bool want_xdp = options.load_xdp || options.replay_mode;
    bpf_program__set_autoload(skel->progs.trafstat_xdp, want_xdp && !bound && !keyed);
    bpf_program__set_autoload(skel->progs.trafstat_xdp_keyed, want_xdp && !bound && keyed);
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
    if (tables.on) {
        // Epoch 0 would match the zeroed slots of a fresh array: start at 1.
        skel->bss->table_epoch = 1;
        void* p = mmap(nullptr, tables.bytes, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.tables), 0);
        void* t = tables.timed ? mmap(nullptr, tables.times_bytes, PROT_READ, MAP_SHARED,
                                      bpf_map__fd(skel->maps.table_times), 0)
                               : nullptr;
        if (p != MAP_FAILED && t != MAP_FAILED) {
            tables.entries = static_cast<const ts_flow_entry*>(p);
            tables.times = static_cast<const ts_flow_times*>(t);
        } else {
            if (p != MAP_FAILED)
                munmap(p, tables.bytes);
            if (t && t != MAP_FAILED)
                munmap(t, tables.times_bytes);
            // Read by syscalls instead: batch lookups, or one per slot where
            // the kernel refuses batches.
            __u32 key = 0, next = 0, count = 1;
            ts_flow_entry probe{};
            LIBBPF_OPTS(bpf_map_batch_opts, opts);
            const int err = bpf_map_lookup_batch(bpf_map__fd(skel->maps.tables), nullptr, &next, &key, &probe, &count,
                                                 &opts);
            tables.reader = err == 0 || err == -ENOENT ? Reader::batch : Reader::lookup;
        }
    }
    bpf_program* xdp = bound ? xdpdev : keyed ? skel->progs.trafstat_xdp_keyed : skel->progs.trafstat_xdp;
    return CounterProgram(std::move(skel), xdp, std::move(tables));
}

int CounterProgram::xdp_fd() const { return bpf_program__fd(xdp_); }
int CounterProgram::replay_fd() const { return bpf_program__fd(skel_->progs.trafstat_replay); }
int CounterProgram::tc_fd() const
{
    return bpf_program__fd(tables_.on ? skel_->progs.trafstat_tc_keyed : skel_->progs.trafstat_tc);
}
int CounterProgram::stats_map_fd() const { return bpf_map__fd(skel_->maps.stats); }

ClassCounters CounterProgram::read() const
{
    return sum_per_cpu(read_per_cpu<ts_stats>(skel_->maps.stats, 0, "the counters map"));
}

namespace {

// Waits until every BPF program run that started before the call has ended:
// programs run inside RCU read-side sections, and MEMBARRIER_CMD_GLOBAL is a
// synchronize_rcu(). Where membarrier is refused (nohz_full CPUs), a pause far
// longer than any program run stands in.
void wait_for_running_programs()
{
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
        return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

CounterProgram::TableMapping& CounterProgram::TableMapping::operator=(TableMapping&& o) noexcept
{
    if (this != &o) {
        unmap();
        entries = std::exchange(o.entries, nullptr);
        bytes = std::exchange(o.bytes, 0);
        timed = std::exchange(o.timed, false);
        times = std::exchange(o.times, nullptr);
        times_bytes = std::exchange(o.times_bytes, 0);
        on = std::exchange(o.on, 0);
        slots = std::exchange(o.slots, {});
        first = std::exchange(o.first, {});
        cpus = std::exchange(o.cpus, 0);
        reader = o.reader;
    }
    return *this;
}

void CounterProgram::TableMapping::unmap()
{
    if (entries)
        munmap(const_cast<ts_flow_entry*>(entries), bytes);
    if (times)
        munmap(const_cast<ts_flow_times*>(times), times_bytes);
    entries = nullptr;
    times = nullptr;
}

const char* CounterProgram::table_reader() const
{
    switch (tables_.reader) {
    case Reader::mmap:
        return "mmap";
    case Reader::batch:
        return "batch";
    case Reader::lookup:
        break;
    }
    return "lookup";
}

template <class Slot>
void CounterProgram::read_slots(int fd, Reader reader, std::size_t first, std::size_t count, std::vector<Slot>& out)
{
    out.resize(count);
    if (reader == Reader::batch) {
        // An array's batch starts after the key given as in_batch: the slot
        // before `first` (none for slot 0). Chunks bound the kernel's work per call.
        constexpr std::size_t kChunk = 8192;
        std::vector<__u32> keys(std::min(count, kChunk));
        for (std::size_t done = 0; done < count;) {
            __u32 in = static_cast<__u32>(first + done - 1), next = 0;
            __u32 n = static_cast<__u32>(std::min(count - done, kChunk));
            LIBBPF_OPTS(bpf_map_batch_opts, opts);
            const int err = bpf_map_lookup_batch(fd, first + done == 0 ? nullptr : &in, &next, keys.data(),
                                                 out.data() + done, &n, &opts);
            if (err && !(err == -ENOENT && n > 0))
                throw Error(exit_code::runtime, fmt::format("cannot read the keyed tables: {}", errno_text(err)));
            done += n;
        }
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        const __u32 key = static_cast<__u32>(first + i);
        if (int err = bpf_map_lookup_elem(fd, &key, &out[i]); err)
            throw Error(exit_code::runtime, fmt::format("cannot read the keyed tables: {}", errno_text(err)));
    }
}

std::size_t CounterProgram::drain_tables(TableEntries& out, bool quiescent)
{
    return drain_tables_with(tables_.entries ? Reader::mmap : tables_.reader, out, quiescent);
}

std::size_t CounterProgram::drain_tables_with(Reader reader, TableEntries& out, bool quiescent)
{
    if (!tables_.on)
        return 0;
    // The program reads the epoch once per packet. The next epoch counts into
    // the other half of each table, whose slots all carry an older epoch: free.
    auto* epoch = &skel_->bss->table_epoch;
    const std::uint32_t old = __atomic_load_n(epoch, __ATOMIC_RELAXED);
    __atomic_store_n(epoch, old + 1 == 0 ? 2 : old + 1, __ATOMIC_SEQ_CST);
    if (!quiescent)
        wait_for_running_programs();
    if (reader == Reader::mmap && !tables_.entries)
        reader = tables_.reader;
    // Live, the program keeps no times: entries are dated by this drain, the
    // end of the interval they were counted in.
    const std::uint64_t drained_at =
        tables_.timed ? 0
                      : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                       std::chrono::system_clock::now().time_since_epoch())
                                                       .count());
    std::vector<ts_flow_entry> entry_copy;
    std::vector<ts_flow_times> times_copy;
    std::size_t read = 0;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!tables_.slots[t])
            continue;
        const std::size_t n = tables_.cpus * tables_.slots[t];
        const std::size_t first = tables_.first[t] + (old & 1) * n;
        const ts_flow_entry* half = tables_.entries + first;
        const ts_flow_times* times = tables_.times ? tables_.times + first : nullptr;
        if (reader != Reader::mmap) {
            read_slots(bpf_map__fd(skel_->maps.tables), reader, first, n, entry_copy);
            half = entry_copy.data();
            if (tables_.timed) {
                read_slots(bpf_map__fd(skel_->maps.table_times), reader, first, n, times_copy);
                times = times_copy.data();
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            const ts_flow_entry& e = half[i];
            if (e.epoch != old)
                continue;
            const std::uint64_t first_ns = times ? times[i].first_ns : drained_at;
            const std::uint64_t last_ns = times ? times[i].last_ns : drained_at;
            out[t].push_back({flow_key_of(e.key), {e.packets, e.bytes, first_ns, last_ns, e.tcp_flags}});
            ++read;
        }
    }
    return read;
}

int CounterProgram::table_map_fd() const { return bpf_map__fd(skel_->maps.tables); }

std::uint32_t CounterProgram::table_epoch() const
{
    return __atomic_load_n(&skel_->bss->table_epoch, __ATOMIC_RELAXED);
}

}  // namespace trafstat
