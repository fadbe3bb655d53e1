// Reading the keyed tables (talkers, ports, flows) the counting program
// fills: one array map holding every table, each [epoch parity][cpu][slot].
// The program counts into the half of the current epoch (bpf/epoch.hpp); a
// closed epoch's half is read, so no increment is lost. The array is read
// through a read-only mapping, or by syscalls where it cannot be mapped.
#pragma once

#include "base/names.hpp"
#include "stats/flows.hpp"

#include <trafstat/abi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace trafstat {

// Where each table lies in the array. Decided before the program loads (its
// rodata says the same) and fixed after.
struct TableLayout {
    std::uint32_t on = 0;                        // TS_TABLE_BIT()s
    std::array<std::size_t, TS_TABLES> slots{};  // per CPU and epoch parity; 0: off
    std::array<std::size_t, TS_TABLES> first{};  // each table's first slot in the array
    std::size_t cpus = 0;
    std::size_t entries = 0;  // slots of the array, every table's together

    // The tables `tables` (TS_TABLE_BIT()s) of `sizes` slots per CPU, each
    // rounded up to a power of two. Throws Error(exit_code::usage) when too large.
    static TableLayout of(std::uint32_t tables, const TableSizes& sizes);
    // Slots of a table per interval, all CPUs together (0: the table is off).
    std::size_t capacity(ts_table t) const { return slots[t] * cpus; }
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
    // `times_fd` its array of the slots' capture times (-1: it keeps none,
    // live; entries are then dated by the read). Maps the arrays when it
    // can, else picks the syscalls the kernel takes.
    TableReader(const TableLayout& layout, int entries_fd, int times_fd);

    const TableLayout& layout() const { return layout_; }
    // How read() reads best: mmap, or batch where the array could not be
    // mapped, or lookup where batch operations are refused too.
    TableReadMethod method() const { return method_; }
    std::string_view method_name() const { return kTableReadMethodNames.name(method_); }

    // Appends the entries of the closed epoch `epoch` to `out`, per table,
    // read by `method` (mmap where the array is not mapped: method()). One
    // entry per CPU that saw a key: merge_by_key() sums them. Returns how
    // many entries were read.
    std::size_t read(TableReadMethod method, std::uint32_t epoch, TableEntries& out);

    int map_fd() const { return entries_fd_; }

private:
    struct Unmap {
        // Value-initialised (0) by unique_ptr; a default member initialiser
        // would keep GCC 12 from seeing Unmap as default-constructible here.
        std::size_t bytes;
        void operator()(const void* p) const;
    };
    template <class Slot>
    using Mapping = std::unique_ptr<const Slot, Unmap>;  // read-only, shared with the kernel
    template <class Slot>
    static Mapping<Slot> map_array(int fd, std::size_t slots);

    TableLayout layout_;
    int entries_fd_ = -1;
    int times_fd_ = -1;
    Mapping<ts_flow_entry> entries_;  // null: not mapped, read by syscalls
    Mapping<ts_flow_times> times_;    // null with times_fd_ >= 0: likewise
    TableReadMethod method_ = TableReadMethod::mmap;
};

}  // namespace trafstat
