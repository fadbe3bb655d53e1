// Reading the keyed tables (talkers, ports, flows) the counting program
// fills: one array map holding every table, each [epoch parity][cache of
// each CPU, then the shared table], and a bitmap of the slots used. The
// program counts into the parity of the current epoch (bpf/epoch.hpp); a
// closed epoch's parity is read, so no increment is lost. Only the slots the
// bitmap marks are read (a drain costs what the table holds), through
// mappings of both arrays, or by syscalls where they cannot be mapped.
#pragma once

#include "base/names.hpp"
#include "stats/flows.hpp"

#include <trafstat/abi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace trafstat {

// Where each table lies in the array. Decided before the program loads (its
// rodata says the same) and fixed after.
struct TableLayout {
    // Kernel memory of all the tables together: the shared tables take what
    // their keys need, the CPUs' caches share the rest equally (by default:
    // each CPU's cache a power of two, at least 16 slots, at most the
    // table's keys). With the three tables at default sizes, 16 384 slots
    // per CPU on 2 CPUs, 128 on 256; with one table, all its keys on 2.
    static constexpr std::size_t kBudgetBytes = std::size_t{64} << 20;
    static constexpr std::size_t kMinCacheSlots = 16;
    static constexpr std::uint32_t kAutoCache = ~0U;

    std::uint32_t on = 0;                        // TS_TABLE_BIT()s
    std::array<std::size_t, TS_TABLES> cache{};  // slots per CPU and parity (0: none)
    // Slots a key tries in its CPU's cache: TS_CACHE_PROBES in a cache that
    // holds a CPU's keys (kDenseCacheSlots or more), else 2: a small cache is
    // for hot keys, and when full it would cost every other key its probes.
    static constexpr std::size_t kDenseCacheSlots = 4096;
    std::array<std::size_t, TS_TABLES> cache_probes{};
    std::array<std::size_t, TS_TABLES> shared{};      // slots per parity; 0: the table is off
    std::array<std::size_t, TS_TABLES> first{};       // each table's first slot in the array
    std::array<std::size_t, TS_TABLES> used_first{};  // and its first word in the bitmap
    std::size_t cpus = 0;
    std::size_t entries = 0;  // slots of the array, every table's together
    std::size_t words = 0;    // 64-bit words of the bitmap, likewise

    // The tables `tables` (TS_TABLE_BIT()s), each holding `sizes` keys:
    // shared slots twice that, rounded up to a power of two, behind caches of
    // `cache_slots` per CPU (kAutoCache: from the budget above; rounded up
    // to a power of two; 0: none), for `cpus` CPUs
    // (0: the possible CPUs). Throws Error(exit_code::usage) when too large.
    static TableLayout of(std::uint32_t tables, const TableSizes& sizes, std::uint32_t cache_slots = kAutoCache,
                          std::size_t cpus = 0);
    // Slots of a table per parity (an interval): the CPUs' caches and the shared table.
    std::size_t half(int t) const { return cpus * cache[t] + shared[t]; }
    std::size_t half_words(int t) const { return (half(t) + 63) / 64; }
    // Slots of a table per interval, all CPUs together (0: the table is off).
    std::size_t capacity(ts_table t) const { return shared[t] ? half(t) : 0; }
    // The layout a pinned program's control block records (abi.h
    // struct ts_control), and back: adopting an attachment reads it there.
    void write_to(ts_control& control) const;
    static TableLayout read_from(const ts_control& control);
    // Locked kernel memory of the arrays (without replay's capture times).
    std::size_t kernel_bytes() const { return entries * sizeof(ts_flow_entry) + words * sizeof(std::uint64_t); }
};

// How a drain reads the array: through the mapping, by batch lookups
// (bpf_map_lookup_batch), or one lookup per slot.
enum class TableReadMethod { mmap, batch, lookup };
inline constexpr auto kTableReadMethodNames = name_table<TableReadMethod>({
    {TableReadMethod::mmap, "mmap"},
    {TableReadMethod::batch, "batch"},
    {TableReadMethod::lookup, "lookup"},
});

class TableReader {
public:
    // Once the program is loaded: `entries_fd` is its array of entries,
    // `used_fd` its bitmap of the slots used, `times_fd` its array of the
    // slots' capture times (-1: it keeps none, live; entries are then dated
    // by the read). Maps the arrays when it can, else picks the syscalls the
    // kernel takes.
    TableReader(const TableLayout& layout, int entries_fd, int used_fd, int times_fd);

    const TableLayout& layout() const { return layout_; }
    // How read() reads best: mmap, or batch where the array could not be
    // mapped, or lookup where batch operations are refused too.
    TableReadMethod method() const { return method_; }
    std::string_view method_name() const { return kTableReadMethodNames.name(method_); }

    // Appends the entries of the closed epoch `epoch` to `out`, per table,
    // read by `method` (mmap where the array is not mapped: method()), and
    // clears the epoch's bitmap for its next turn. A key may have several
    // entries (one per CPU's cache, and the shared table's): merge_by_key()
    // sums them. Returns how many entries were read. `every_slot`: read every
    // slot of the parity, not only those the bitmap marks (a drain that a
    // killed process left half done may have cleared some of its bits).
    std::size_t read(TableReadMethod method, std::uint32_t epoch, TableEntries& out, bool every_slot = false);

    int map_fd() const { return entries_fd_; }

private:
    struct Unmap {
        // Value-initialised (0) by unique_ptr; a default member initialiser
        // would keep GCC 12 from seeing Unmap as default-constructible here.
        std::size_t bytes;
        void operator()(const void* p) const;
    };
    template <class Slot>
    using Mapping = std::unique_ptr<Slot, Unmap>;  // shared with the kernel
    // Read-only for a const Slot, else writable (the bitmap, which a drain clears).
    template <class Slot>
    static Mapping<Slot> map_array(int fd, std::size_t slots);

    // The used slots of table `t`'s parity `parity` (offsets in it), its bitmap cleared.
    std::vector<std::size_t> take_used(TableReadMethod method, int t, std::uint32_t parity, bool every_slot);

    TableLayout layout_;
    int entries_fd_ = -1;
    int used_fd_ = -1;
    int times_fd_ = -1;
    Mapping<const ts_flow_entry> entries_;  // null: not mapped, read by syscalls
    Mapping<std::uint64_t> used_;           // likewise
    Mapping<const ts_flow_times> times_;    // null with times_fd_ >= 0: likewise
    TableReadMethod method_ = TableReadMethod::mmap;
};

}  // namespace trafstat
