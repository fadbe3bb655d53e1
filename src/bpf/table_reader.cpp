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
#include <type_traits>
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

TableLayout TableLayout::of(std::uint32_t tables, const TableSizes& sizes, std::uint32_t cache_slots, std::size_t cpus)
{
    TableLayout layout;
    layout.on = tables & ((1U << TS_TABLES) - 1);
    if (!layout.on)
        return layout;
    layout.cpus = cpus ? cpus : possible_cpus();
    // A slot costs its 64 bytes and a bit of the bitmap, in each epoch parity.
    constexpr std::size_t kSlotBytes = 2 * sizeof(ts_flow_entry) + 1;
    std::size_t shared_bytes = 0, tables_on = 0;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!(layout.on & TS_TABLE_BIT(t)))
            continue;
        const std::size_t keys = std::bit_ceil(std::max<std::size_t>(sizes[t], 1));
        if (keys > (1U << 29))
            throw Error(exit_code::usage, fmt::format("{} table of {} keys is too large", table_name(t), keys));
        // Twice the slots it holds keys: probes stay short, and a key finds room.
        layout.shared[t] = 2 * keys;
        shared_bytes += layout.shared[t] * kSlotBytes;
        ++tables_on;
    }
    const std::size_t left = kBudgetBytes > shared_bytes ? kBudgetBytes - shared_bytes : 0;
    const std::size_t per_cpu = left / tables_on / layout.cpus / kSlotBytes;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!layout.shared[t])
            continue;
        layout.cache[t] = cache_slots != kAutoCache
                              ? (cache_slots ? std::bit_ceil(std::size_t{cache_slots}) : 0)
                              : std::min(layout.shared[t] / 2, std::max(kMinCacheSlots, std::bit_floor(per_cpu)));
        layout.cache_probes[t] = layout.cache[t] >= kDenseCacheSlots ? TS_CACHE_PROBES : 2;
        layout.first[t] = layout.entries;
        layout.entries += 2 * layout.half(t);
        layout.used_first[t] = layout.words;
        layout.words += 2 * layout.half_words(t);
    }
    if (layout.entries * sizeof(ts_flow_entry) > (std::size_t{1} << 34) || layout.entries >= (std::size_t{1} << 32))
        throw Error(exit_code::usage,
                    fmt::format("keyed tables of {} slots in all are too large (16 GiB at most)", layout.entries));
    return layout;
}

void TableLayout::write_to(ts_control& control) const
{
    control.tables_on = on;
    control.table_cpus = static_cast<__u32>(cpus);
    control.table_entries = static_cast<__u32>(entries);
    control.table_words = static_cast<__u32>(words);
    for (int t = 0; t < TS_TABLES; ++t) {
        control.cache_slots[t] = static_cast<__u32>(cache[t]);
        control.cache_probes[t] = static_cast<__u32>(cache_probes[t]);
        control.shared_slots[t] = static_cast<__u32>(shared[t]);
        control.table_first[t] = static_cast<__u32>(first[t]);
        control.used_first[t] = static_cast<__u32>(used_first[t]);
    }
}

TableLayout TableLayout::read_from(const ts_control& control)
{
    TableLayout l;
    l.on = control.tables_on;
    l.cpus = control.table_cpus;
    l.entries = control.table_entries;
    l.words = control.table_words;
    for (int t = 0; t < TS_TABLES; ++t) {
        l.cache[t] = control.cache_slots[t];
        l.cache_probes[t] = control.cache_probes[t];
        l.shared[t] = control.shared_slots[t];
        l.first[t] = control.table_first[t];
        l.used_first[t] = control.used_first[t];
    }
    return l;
}

void TableReader::Unmap::operator()(const void* p) const
{
    munmap(const_cast<void*>(p), bytes);
}

template <class Slot>
TableReader::Mapping<Slot> TableReader::map_array(int fd, std::size_t slots)
{
    const std::size_t bytes = slots * sizeof(Slot);
    const int prot = std::is_const_v<Slot> ? PROT_READ : PROT_READ | PROT_WRITE;
    void* p = mmap(nullptr, bytes, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return {};
    return Mapping<Slot>(static_cast<Slot*>(p), Unmap{bytes});
}

TableReader::TableReader(const TableLayout& layout, int entries_fd, int used_fd, int times_fd)
    : layout_(layout), entries_fd_(entries_fd), used_fd_(used_fd), times_fd_(times_fd)
{
    if (!layout_.on)
        return;
    entries_ = map_array<const ts_flow_entry>(entries_fd_, layout_.entries);
    used_ = map_array<std::uint64_t>(used_fd_, layout_.words);
    if (times_fd_ >= 0)
        times_ = map_array<const ts_flow_times>(times_fd_, layout_.entries);
    if (entries_ && used_ && (times_fd_ < 0 || times_))
        return;
    entries_.reset();
    used_.reset();
    times_.reset();
    // Read by syscalls instead: batch lookups, or one per slot where the
    // kernel refuses batches.
    __u32 key = 0, next = 0, count = 1;
    std::uint64_t probe = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    const int err = bpf_map_lookup_batch(used_fd_, nullptr, &next, &key, &probe, &count, &opts);
    method_ = err == 0 || err == -ENOENT ? TableReadMethod::batch : TableReadMethod::lookup;
}

std::vector<std::size_t> TableReader::take_used(TableReadMethod method, int t, std::uint32_t parity, bool every_slot)
{
    const std::size_t n = layout_.half_words(t);
    const std::size_t first = layout_.used_first[t] + parity * n;
    std::vector<std::uint64_t> copy;
    std::uint64_t* words = nullptr;
    if (method == TableReadMethod::mmap) {
        words = used_.get() + first;
    } else {
        read_slots(used_fd_, method, first, n, copy);
        words = copy.data();
    }
    std::vector<std::size_t> used;
    for (std::size_t w = 0; w < n; ++w) {
        std::uint64_t bits = every_slot ? ~std::uint64_t{0} : words[w];
        if (!bits)
            continue;
        if (every_slot && (w + 1) * 64 > layout_.half(t))
            bits >>= (w + 1) * 64 - layout_.half(t);  // the last word's slots only
        // No program writes this parity until the next epoch: the drain may clear it.
        if (method == TableReadMethod::mmap) {
            words[w] = 0;
        } else {
            const __u32 key = static_cast<__u32>(first + w);
            const std::uint64_t zero = 0;
            if (int err = bpf_map_update_elem(used_fd_, &key, &zero, BPF_ANY); err)
                throw Error(exit_code::runtime, fmt::format("cannot clear the keyed tables: {}", errno_text(err)));
        }
        for (; bits; bits &= bits - 1)
            used.push_back(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
    }
    return used;
}

std::size_t TableReader::read(TableReadMethod method, std::uint32_t old, TableEntries& out, bool every_slot)
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
    // A slot by syscall (the fallbacks): the bitmap already says which to read.
    const auto lookup = [](int fd, std::size_t idx, auto& into) {
        const __u32 key = static_cast<__u32>(idx);
        if (int err = bpf_map_lookup_elem(fd, &key, &into); err)
            throw Error(exit_code::runtime, fmt::format("cannot read the keyed tables: {}", errno_text(err)));
    };
    std::size_t read = 0;
    for (int t = 0; t < TS_TABLES; ++t) {
        if (!layout_.shared[t])
            continue;
        const std::size_t half = layout_.first[t] + (old & 1) * layout_.half(t);
        for (std::size_t off : take_used(method, t, old & 1, every_slot)) {
            const std::size_t idx = half + off;
            ts_flow_entry e{};
            ts_flow_times when{drained_at, drained_at};
            if (method == TableReadMethod::mmap) {
                e = entries_.get()[idx];
                if (timed)
                    when = times_.get()[idx];
            } else {
                lookup(entries_fd_, idx, e);
                if (timed)
                    lookup(times_fd_, idx, when);
            }
            if (e.epoch != old)
                continue;  // a free slot (every_slot); else cannot happen: a slot is marked when claimed
            out[t].push_back(
                {flow_key_of(e.key),
                 {e.packets, e.bytes, when.first_ns, when.last_ns, static_cast<std::uint8_t>(e.tcp_flags)}});
            ++read;
        }
    }
    return read;
}

}  // namespace trafstat
