#include "bpf/table_reader.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "bpf/per_cpu.hpp"

#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <vector>

namespace trafstat {
namespace {

// Reads the slots [first, first + count) of array map `fd` into `out`
// (batch lookups, or one lookup per slot).
template <class Slot>
void read_slots(int fd, TableReadMethod method, std::size_t first, std::size_t count, std::vector<Slot>& out)
{
    out.resize(count);
    if (method == TableReadMethod::batch) {
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

}  // namespace

TableLayout TableLayout::of(std::uint32_t tables, const TableSizes& sizes)
{
    TableLayout layout;
    layout.on = tables & ((1U << TS_TABLES) - 1);
    if (!layout.on)
        return layout;
    layout.cpus = possible_cpus();
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!(layout.on & TS_TABLE_BIT(t)))
            continue;
        const std::size_t slots = std::bit_ceil(std::max<std::size_t>(sizes[t], 1));
        if (slots > (1U << 30))
            throw Error(exit_code::usage,
                        fmt::format("{} table of {} slots per CPU is too large", table_name(t), slots));
        layout.slots[t] = slots;
        layout.first[t] = layout.entries;
        layout.entries += 2 * layout.cpus * slots;
    }
    if (layout.entries * sizeof(ts_flow_entry) > (std::size_t{1} << 34))
        throw Error(exit_code::usage,
                    fmt::format("keyed tables of {} slots in all are too large (16 GiB at most)", layout.entries));
    return layout;
}

void TableReader::Unmap::operator()(const void* p) const
{
    munmap(const_cast<void*>(p), bytes);
}

template <class Slot>
TableReader::Mapping<Slot> TableReader::map_array(int fd, std::size_t slots)
{
    const std::size_t bytes = slots * sizeof(Slot);
    void* p = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return {};
    return Mapping<Slot>(static_cast<const Slot*>(p), Unmap{bytes});
}

TableReader::TableReader(const TableLayout& layout, int entries_fd, int times_fd)
    : layout_(layout), entries_fd_(entries_fd), times_fd_(times_fd)
{
    if (!layout_.on)
        return;
    entries_ = map_array<ts_flow_entry>(entries_fd_, layout_.entries);
    if (times_fd_ >= 0)
        times_ = map_array<ts_flow_times>(times_fd_, layout_.entries);
    if (entries_ && (times_fd_ < 0 || times_))
        return;
    entries_.reset();
    times_.reset();
    // Read by syscalls instead: batch lookups, or one per slot where the
    // kernel refuses batches.
    __u32 key = 0, next = 0, count = 1;
    ts_flow_entry probe{};
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    const int err = bpf_map_lookup_batch(entries_fd_, nullptr, &next, &key, &probe, &count, &opts);
    method_ = err == 0 || err == -ENOENT ? TableReadMethod::batch : TableReadMethod::lookup;
}

std::size_t TableReader::read(TableReadMethod method, std::uint32_t old, TableEntries& out)
{
    if (!layout_.on)
        return 0;
    if (method == TableReadMethod::mmap && !entries_)
        method = method_;
    const bool timed = times_fd_ >= 0;
    // Live, the program keeps no times: entries are dated by this drain, the
    // end of the interval they were counted in.
    const std::uint64_t drained_at =
        timed ? 0
              : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    std::vector<ts_flow_entry> entry_copy;
    std::vector<ts_flow_times> times_copy;
    std::size_t read = 0;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!layout_.slots[t])
            continue;
        const std::size_t n = layout_.cpus * layout_.slots[t];
        const std::size_t first = layout_.first[t] + (old & 1) * n;
        const ts_flow_entry* half = nullptr;
        const ts_flow_times* times = nullptr;
        if (method == TableReadMethod::mmap) {
            half = entries_.get() + first;
            times = times_ ? times_.get() + first : nullptr;
        } else {
            read_slots(entries_fd_, method, first, n, entry_copy);
            half = entry_copy.data();
            if (timed) {
                read_slots(times_fd_, method, first, n, times_copy);
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

}  // namespace trafstat
